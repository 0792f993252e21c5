import { AlarmFacts, MetricFacts } from './types';

export interface IncidentTaskFacts {
  account: string;
  /** The region of the first alarm; alarms from other regions show theirs. */
  region: string | null;
  /** The incident's alarms in event-time order (possibly only the first ones of a very long incident). */
  alarms: readonly AlarmFacts[];
  /** How many alarms the incident has in all, when `alarms` is not all of them. */
  totalAlarms?: number;
}

/**
 * The incident job's TASK.md. Built only from alarm facts, so it holds nothing secret. Deterministic for the same
 * facts: the scheduler re-renders it while the job is pending, and replays must produce the same text.
 */
export function renderIncidentTask(incident: IncidentTaskFacts): string {
  const alarms = [...incident.alarms].sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime());
  const names = unique(alarms.map((alarm) => alarm.alarmName));
  const total = Math.max(incident.totalAlarms ?? alarms.length, alarms.length);
  const first = alarms[0];
  const last = alarms[alarms.length - 1];

  // Incidents of several accounts attached to one job (incident-group.ts): the job's own account comes first.
  const several = unique(alarms.map((alarm) => alarm.account)).length > 1;
  const accounts = unique([incident.account, ...alarms.map((alarm) => alarm.account)]);
  const title = several
    ? `# Incident across AWS accounts ${accounts.join(', ')}`
    : `# Incident in AWS account ${incident.account}${incident.region ? ` (${incident.region})` : ''}`;
  const lines = [title, ''];
  const overview: Array<[string, string | null]> = [
    several ? ['Accounts', accounts.join(', ')] : ['Account', incident.account],
    ['Region', unique(alarms.map((alarm) => alarm.region ?? incident.region).filter(isText)).join(', ') || incident.region],
    [names.length === 1 ? 'Alarm' : 'Alarms', names.join(', ') || null],
    ['First alarm at', first ? first.eventTime.toISOString() : null],
    ['Latest alarm at', last && last !== first ? last.eventTime.toISOString() : null],
    ['Alarms so far', String(total)],
  ];
  lines.push(...overview.filter((entry): entry is [string, string] => isText(entry[1])).map(([label, value]) => `- **${label}:** ${value}`), '');

  lines.push(`## Alarms seen so far`, '');
  alarms.forEach((alarm, index) => {
    lines.push(`### ${index + 1}. ${alarm.alarmName}: ${alarm.state} at ${alarm.eventTime.toISOString()}`, '');
    const details: Array<[string, string | null]> = [
      ['Account', several ? alarm.account : null],
      ['Region', alarm.region],
      ['State reason', alarm.reason === null ? null : oneLine(alarm.reason)],
      ...alarm.metrics.map((metric): [string, string] => ['Metric', describeMetric(metric)]),
      ['Alarm ARN', alarm.alarmArn],
    ];
    lines.push(...details.filter((entry): entry is [string, string] => isText(entry[1])).map(([label, value]) => `- **${label}:** ${value}`));
    if (alarm.metrics.length === 0) {
      lines.push('- **Metric:** _not given (a metric-math alarm, or the notification had none)_');
    }
    lines.push('');
  });
  if (total > alarms.length) {
    lines.push(`_${total - alarms.length} later alarm(s) of this incident are not listed here._`, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function describeMetric(metric: MetricFacts): string {
  const name = [metric.namespace, metric.name].filter(isText).join(' / ') || '(unnamed metric)';
  const dimensions = Object.entries(metric.dimensions).map(([key, value]) => `${key}=${value}`);
  return dimensions.length > 0 ? `${name} (${dimensions.join(', ')})` : name;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function isText(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
