/**
 * Queue bodies in the shapes production receives (see
 * libs/scheduling-domain/src/test-fixtures): CloudWatch alarm state changes via
 * EventBridge or SNS, Jira issues and Jira webhooks. Used by the generator and
 * to write the example scenarios.
 */
import type { AlarmState } from '@agent-conductor/scheduling-domain';

export interface AlarmSpec {
  account: string;
  region: string;
  alarmName: string;
  state: AlarmState;
  previousState: AlarmState;
  /** The alarm's own event time. */
  time: Date;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  threshold: number;
  value: number;
}

const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'Europe (Ireland)',
  'eu-central-1': 'Europe (Frankfurt)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
};

/** CloudWatch writes `2026-05-12T20:58:58.130+0000` in alarm payloads. */
export function cloudWatchTime(time: Date): string {
  return time.toISOString().replace('Z', '+0000');
}

function eventBridgeTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

function reason(spec: AlarmSpec): string {
  const stamp = cloudWatchTime(spec.time).slice(0, 19);
  if (spec.state === 'INSUFFICIENT_DATA') return 'Insufficient Data: 1 datapoint was unknown.';
  const relation = spec.state === 'ALARM' ? 'was greater than' : 'was not greater than';
  return `Threshold Crossed: 1 datapoint [${spec.value} (${stamp})] ${relation} the threshold (${spec.threshold}).`;
}

function alarmArn(spec: AlarmSpec): string {
  return `arn:aws:cloudwatch:${spec.region}:${spec.account}:alarm:${spec.alarmName}`;
}

export function eventBridgeAlarmEvent(spec: AlarmSpec, eventId: string): Record<string, unknown> {
  return {
    version: '0',
    id: eventId,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: spec.account,
    time: eventBridgeTime(spec.time),
    region: spec.region,
    resources: [alarmArn(spec)],
    detail: {
      alarmName: spec.alarmName,
      state: {
        value: spec.state,
        reason: reason(spec),
        reasonData: JSON.stringify({ version: '1.0', statistic: 'Average', period: 60, recentDatapoints: [spec.value], threshold: spec.threshold }),
        timestamp: cloudWatchTime(spec.time),
      },
      previousState: { value: spec.previousState, reason: 'Previous evaluation.', timestamp: cloudWatchTime(new Date(spec.time.getTime() - 300_000)) },
      configuration: {
        metrics: [
          {
            id: 'm1',
            metricStat: { metric: { namespace: spec.namespace, name: spec.metricName, dimensions: spec.dimensions }, period: 60, stat: 'Average' },
            returnData: true,
          },
        ],
        description: `${spec.metricName} of ${Object.values(spec.dimensions).join('/')}`,
      },
    },
  };
}

export function eventBridgeAlarmBody(spec: AlarmSpec, eventId: string): string {
  return JSON.stringify(eventBridgeAlarmEvent(spec, eventId));
}

/** The SNS envelope around CloudWatch's own alarm notification. */
export function snsAlarmBody(spec: AlarmSpec, snsMessageId: string): string {
  const message = {
    AlarmName: spec.alarmName,
    AlarmDescription: `${spec.metricName} of ${Object.values(spec.dimensions).join('/')}`,
    AWSAccountId: spec.account,
    AlarmConfigurationUpdatedTimestamp: '2026-05-01T10:00:00.000+0000',
    NewStateValue: spec.state,
    NewStateReason: reason(spec),
    StateChangeTime: cloudWatchTime(spec.time),
    Region: REGION_NAMES[spec.region] ?? spec.region,
    AlarmArn: alarmArn(spec),
    OldStateValue: spec.previousState,
    Trigger: {
      MetricName: spec.metricName,
      Namespace: spec.namespace,
      StatisticType: 'Statistic',
      Statistic: 'AVERAGE',
      Unit: null,
      Dimensions: Object.entries(spec.dimensions).map(([name, value]) => ({ value, name })),
      Period: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: spec.threshold,
    },
  };
  return snsEnvelope(spec, snsMessageId, JSON.stringify(message));
}

/** An EventBridge rule that targets an SNS topic: the event itself is the Message. */
export function snsWrappedEventBridgeBody(spec: AlarmSpec, snsMessageId: string, eventId: string): string {
  return snsEnvelope(spec, snsMessageId, JSON.stringify(eventBridgeAlarmEvent(spec, eventId)));
}

function snsEnvelope(spec: AlarmSpec, snsMessageId: string, message: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: snsMessageId,
    TopicArn: `arn:aws:sns:${spec.region}:${spec.account}:cloudwatch-alarms`,
    Subject: `${spec.state}: "${spec.alarmName}" in ${REGION_NAMES[spec.region] ?? spec.region}`,
    Message: message,
    Timestamp: new Date(spec.time.getTime() + 512).toISOString(),
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: `https://sns.${spec.region}.amazonaws.com/example.pem`,
    UnsubscribeURL: `https://sns.${spec.region}.amazonaws.com/?Action=Unsubscribe`,
  });
}

export interface TicketSpec {
  id: string;
  key: string;
  summary: string;
  paragraphs: string[];
  issueType: string;
  priority: string;
  labels: string[];
  components: string[];
  created: Date;
}

export function jiraIssue(spec: TicketSpec): Record<string, unknown> {
  const projectKey = spec.key.split('-')[0] ?? spec.key;
  return {
    id: spec.id,
    key: spec.key,
    self: `https://example.atlassian.net/rest/api/3/issue/${spec.id}`,
    fields: {
      summary: spec.summary,
      description: {
        type: 'doc',
        version: 1,
        content: spec.paragraphs.map((text) => ({ type: 'paragraph', content: [{ type: 'text', text }] })),
      },
      issuetype: { name: spec.issueType },
      project: { id: '10000', key: projectKey, name: projectKey },
      priority: { name: spec.priority },
      labels: spec.labels,
      components: spec.components.map((name) => ({ name })),
      created: cloudWatchTime(spec.created),
      updated: cloudWatchTime(spec.created),
    },
  };
}

export function jiraIssueBody(spec: TicketSpec): string {
  return JSON.stringify(jiraIssue(spec));
}

export function jiraWebhookBody(spec: TicketSpec, event: 'jira:issue_created' | 'jira:issue_updated', at: Date): string {
  return JSON.stringify({
    timestamp: at.getTime(),
    webhookEvent: event,
    issue_event_type_name: event === 'jira:issue_created' ? 'issue_created' : 'issue_updated',
    user: { accountId: 'def456', displayName: 'Sam Reporter' },
    issue: jiraIssue(spec),
  });
}
