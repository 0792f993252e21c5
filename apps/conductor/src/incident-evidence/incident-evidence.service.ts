import type { AlarmDefinition, AlarmStateChange, AlarmTelemetrySource, AlarmTelemetrySourceFactory, LogsInsightsQuery, MetricSeries } from '@agent-conductor/aws';
import { IncidentEvidenceRepository, type IncidentEvidenceAlarm, type IncidentEvidenceTarget } from '@agent-conductor/db';
import { errorMessage } from '@agent-conductor/scheduling-domain';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { alarmSpans, loadPngRenderer, renderChartSvg, type PngRenderer } from './evidence-chart';
import { renderLogsFiles } from './logs-table';

export const ALARM_TELEMETRY = Symbol('ALARM_TELEMETRY');

/** Size limits: a task archive must stay small enough to hand over at handshake. */
export const MAX_EVIDENCE_ALARMS = 10;
export const MAX_POINTS_PER_METRIC = 2880;

export interface EvidenceFile {
  /** Relative to the task directory, always under `incident/`. */
  path: string;
  content: string | Uint8Array;
}

export interface EvidencePack {
  files: EvidenceFile[];
  /** Appended to TASK.md: what fired first, peaks against thresholds, where the files are. */
  taskSection: string;
  /** Parts that failed while the rest of the pack was gathered (today only `logs`); the launcher records each. */
  failures: EvidenceFailure[];
}

export interface EvidenceFailure {
  part: 'logs';
  reason: string;
}

interface GatheredAlarm {
  source: IncidentEvidenceAlarm;
  dir: string;
  definition: AlarmDefinition | null;
  history: AlarmStateChange[];
  series: MetricSeries;
}

/**
 * Gathers an incident's telemetry before each attempt: per distinct alarm its definition, state history and metric
 * data, with a chart. Failures propagate: the launcher records them and starts the agent without the pack.
 */
@Injectable()
export class IncidentEvidenceService implements OnModuleInit {
  private renderPng: PngRenderer | null = null;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'incidentEvidence' | 'incidentEvidenceLookbackHours' | 'awsRegion'>,
    @Inject(ALARM_TELEMETRY) private readonly telemetry: AlarmTelemetrySourceFactory,
    private readonly incidents: IncidentEvidenceRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.incidentEvidence) this.renderPng = await loadPngRenderer();
  }

  get enabled(): boolean {
    return this.config.incidentEvidence;
  }

  /** Null when the job has no incident (or evidence is off). */
  async gather(jobId: string, now = new Date()): Promise<EvidencePack | null> {
    if (!this.config.incidentEvidence) return null;
    const target = await this.incidents.targetOfJob(jobId);
    if (!target || target.alarms.length === 0) return null;
    const from = new Date(target.firstEventAt.getTime() - this.config.incidentEvidenceLookbackHours * 3_600_000);
    // Until now, but no further past the last alarm than the lookback before the first: a job launched long after its
    // incident (a backlog, a re-run, a replayed sample) would otherwise chart days of calm around a sliver of incident.
    const horizon = target.lastEventAt.getTime() + Math.max(this.config.incidentEvidenceLookbackHours, 1) * 3_600_000;
    const to = now.getTime() > from.getTime() ? new Date(Math.min(now.getTime(), horizon)) : new Date(target.lastEventAt.getTime() + 3_600_000);
    const alarms = target.alarms.slice(0, MAX_EVIDENCE_ALARMS);
    const gathered: GatheredAlarm[] = [];
    for (const [index, alarm] of alarms.entries()) {
      const source = this.sourceFor(target, alarm.region ?? this.config.awsRegion);
      const definition = await source.describeAlarm(alarm.name);
      const history = definition ? await source.alarmHistory(alarm.name, from, to) : [];
      const series = definition ? await source.metricData(definition, from, to, MAX_POINTS_PER_METRIC) : { points: [], truncated: false };
      gathered.push({ source: alarm, dir: `incident/${String(index + 1).padStart(2, '0')}-${slug(alarm.name)}`, definition, history, series });
    }

    const files: EvidenceFile[] = [];
    for (const alarm of gathered) {
      files.push({ path: `${alarm.dir}/alarm.json`, content: `${JSON.stringify({ alarm: alarm.source.name, region: alarm.source.region, definition: alarm.definition, history: alarm.history }, null, 2)}\n` });
      if (!alarm.definition?.metric) continue;
      files.push({ path: `${alarm.dir}/metric.csv`, content: metricCsv(alarm.series) });
      const svg = renderChartSvg({ alarm: alarm.definition, points: alarm.series.points, spans: alarmSpans(alarm.history, from, to), from, to });
      files.push(this.renderPng ? { path: `${alarm.dir}/chart.png`, content: this.renderPng(svg) } : { path: `${alarm.dir}/chart.svg`, content: svg });
    }
    const failures: EvidenceFailure[] = [];
    let logsLine: string | null = null;
    if (target.logs) {
      const logs = await this.gatherLogs(target, target.logs, { from, to });
      files.push(...logs.files);
      logsLine = logs.line;
      if (logs.failure) failures.push(logs.failure);
    }
    const summary = summarize(gathered, { from, to, omitted: target.alarms.length - alarms.length, chart: this.renderPng ? 'chart.png' : 'chart.svg', logsLine });
    files.push({ path: 'incident/README.md', content: `# Incident evidence\n\n${summary}` });
    return { files, taskSection: `\n\n## Incident evidence\n\nGathered by the conductor before this attempt (details in \`incident/README.md\`).\n\n${summary}`, failures };
  }

  /** The alarms and the logs of one incident are read the same way: in its account, with the same credentials. */
  /** The incident's account, read through the job's investigation role when it has one (docs/incident-access.md). */
  private sourceFor(target: IncidentEvidenceTarget, region: string): AlarmTelemetrySource {
    const role = target.investigation ? { roleArn: target.investigation.roleArn, externalId: target.investigation.externalId } : null;
    return this.telemetry({ account: target.account, region, role });
  }

  /**
   * The route's Logs Insights query, in the region of the incident's first alarm (log groups are regional). A failure
   * leaves the alarms' evidence in place: the summary says the logs are missing and why.
   */
  private async gatherLogs(
    target: IncidentEvidenceTarget,
    query: LogsInsightsQuery,
    window: { from: Date; to: Date },
  ): Promise<{ files: EvidenceFile[]; line: string; failure?: EvidenceFailure }> {
    const region = target.alarms[0]?.region ?? this.config.awsRegion;
    try {
      const result = await this.sourceFor(target, region).logsQuery(query, window.from, window.to);
      const rendered = renderLogsFiles(query, result, window);
      return {
        files: [
          { path: 'incident/logs.md', content: rendered.markdown },
          { path: 'incident/logs.csv', content: rendered.csv },
        ],
        line: rendered.summary,
      };
    } catch (error) {
      const reason = errorMessage(error);
      return { files: [], line: `Logs Insights: the query failed, so there are no logs in this pack (${reason}).`, failure: { part: 'logs', reason } };
    }
  }
}

/** `timestamp,value`, oldest first; a truncated series ends with no marker here, the README says so. */
export function metricCsv(series: MetricSeries): string {
  return `timestamp,value\n${series.points.map((point) => `${point.at.toISOString()},${point.value}\n`).join('')}`;
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '').slice(0, 60) || 'alarm';
}

function summarize(alarms: GatheredAlarm[], window: { from: Date; to: Date; omitted: number; chart: string; logsLine: string | null }): string {
  const first = alarms[0];
  const lines: string[] = [`Window: ${window.from.toISOString()} to ${window.to.toISOString()}.`, ''];
  if (first) lines.push(`- First to fire: \`${first.source.name}\` at ${first.source.firstAlarmAt.toISOString()}${first.source.region ? ` (${first.source.region})` : ''}.`);
  for (const alarm of alarms) {
    const definition = alarm.definition;
    if (!definition) {
      lines.push(`- \`${alarm.source.name}\`: DescribeAlarms found no such metric alarm (deleted, or a composite alarm).`);
      continue;
    }
    if (!definition.metric) {
      lines.push(`- \`${alarm.source.name}\`: a metric-math alarm; no single metric to chart (definition in \`${alarm.dir}/alarm.json\`).`);
      continue;
    }
    const falling = definition.comparison?.startsWith('LessThan') ?? false;
    const points = alarm.series.points;
    const peak = points.reduce<(typeof points)[number] | undefined>((best, point) => (!best || (falling ? point.value < best.value : point.value > best.value) ? point : best), undefined);
    const peakText = peak ? `${falling ? 'lowest' : 'peak'} ${peak.value} at ${peak.at.toISOString()}` : 'no data points in the window';
    const truncated = alarm.series.truncated ? ` (truncated: only the first ${points.length} points, the series goes on)` : '';
    lines.push(
      `- \`${alarm.source.name}\` (${definition.metric.namespace} ${definition.metric.name}, ${definition.statistic ?? '?'} over ${definition.periodSeconds ?? '?'}s): ${peakText} vs threshold ${definition.threshold ?? '?'} (${definition.comparison ?? '?'}); ${alarm.history.length} state change(s). [chart](${alarm.dir}/${window.chart}), [data](${alarm.dir}/metric.csv)${truncated}.`,
    );
  }
  if (window.omitted > 0) lines.push(`- ${window.omitted} more alarm(s) left out: the pack holds at most ${MAX_EVIDENCE_ALARMS}.`);
  if (window.logsLine) lines.push(`- ${window.logsLine}`);
  return `${lines.join('\n')}\n`;
}
