import type { AlarmDefinition, AlarmStateChange, AlarmTelemetrySource, AlarmTelemetrySourceFactory, LogsInsightsQuery, MetricSeries } from '@agent-conductor/aws';
import { IncidentEvidenceRepository, type IncidentEvidenceAlarm, type IncidentEvidenceTarget } from '@agent-conductor/db';
import { errorMessage, investigationRoleArnProblem, type IncidentLogsQuery, type InvestigationAccess } from '@agent-conductor/scheduling-domain';
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
  /** Parts that failed while the rest of the pack was gathered; the launcher records each. */
  failures: EvidenceFailure[];
}

/**
 * `logs`: an account's Logs Insights query failed, its alarms are in the pack. `account`: nothing of that account is
 * (its role could not be assumed, DescribeAlarms was denied, …), the other accounts' evidence is. `account` is named
 * only in a pack of several accounts, so a one-account job records what it always did.
 */
export type EvidenceFailure = { part: 'logs'; account?: string; reason: string } | { part: 'account'; account: string; reason: string };

interface GatheredAlarm {
  source: IncidentEvidenceAlarm;
  dir: string;
  definition: AlarmDefinition | null;
  history: AlarmStateChange[];
  series: MetricSeries;
}

interface GatheredLogs {
  files: EvidenceFile[];
  line: string;
  failure: string | null;
}

/** One account of the job: the alarms of all its incidents there, read through its own incidents' role. */
interface AccountTarget {
  account: string;
  firstEventAt: Date;
  lastEventAt: Date;
  /** Distinct alarms (by region and name) in the order they first fired. */
  alarms: IncidentEvidenceAlarm[];
  investigation: InvestigationAccess | null;
  logs: IncidentLogsQuery | null;
}

interface EvidenceWindow {
  from: Date;
  to: Date;
}

/** What one account put in the pack, or why nothing. */
type AccountOutcome =
  | { target: AccountTarget; kept: number; gathered: GatheredAlarm[]; logs: GatheredLogs | null }
  | { target: AccountTarget; kept: number; error: string };

/**
 * Gathers an incident's telemetry before each attempt: per distinct alarm its definition, state history and metric
 * data, with a chart. A job whose incidents span several accounts (a routing group) gets every account's, each read
 * through that account's own role. In a one-account job a failure propagates: the launcher records it and starts the
 * agent without the pack; with several accounts one account's failure leaves only that account out.
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
    const accounts = accountTargets(await this.incidents.targetsOfJob(jobId));
    const [own] = accounts;
    if (!own) return null;
    const window = this.windowOf(accounts, now);
    return accounts.length === 1 ? this.gatherOneAccount(own, window) : this.gatherAccounts(accounts, window);
  }

  /** One window for every incident of the job, so the charts of all accounts line up. */
  private windowOf(accounts: AccountTarget[], now: Date): EvidenceWindow {
    const first = Math.min(...accounts.map((account) => account.firstEventAt.getTime()));
    const last = Math.max(...accounts.map((account) => account.lastEventAt.getTime()));
    const from = new Date(first - this.config.incidentEvidenceLookbackHours * 3_600_000);
    // Until now, but no further past the last alarm than the lookback before the first: a job launched long after its
    // incident (a backlog, a re-run, a replayed sample) would otherwise chart days of calm around a sliver of incident.
    const horizon = last + Math.max(this.config.incidentEvidenceLookbackHours, 1) * 3_600_000;
    const to = now.getTime() > from.getTime() ? new Date(Math.min(now.getTime(), horizon)) : new Date(last + 3_600_000);
    return { from, to };
  }

  /** The pack as it has always been for one account: files straight under `incident/`, an alarm's failure fails it all. */
  private async gatherOneAccount(target: AccountTarget, window: EvidenceWindow): Promise<EvidencePack> {
    const alarms = target.alarms.slice(0, MAX_EVIDENCE_ALARMS);
    const gathered = await this.gatherAlarms(target, alarms, window, 'incident');
    const files = this.alarmFiles(gathered, window);
    const failures: EvidenceFailure[] = [];
    const lines = [`Window: ${window.from.toISOString()} to ${window.to.toISOString()}.`, ''];
    const first = target.alarms[0];
    if (first) lines.push(`- First to fire: ${firedAt(first)}.`);
    lines.push(...alarmLines(gathered, this.chartFile));
    const omitted = target.alarms.length - alarms.length;
    if (omitted > 0) lines.push(`- ${omitted} more alarm(s) left out: the pack holds at most ${MAX_EVIDENCE_ALARMS}.`);
    if (target.logs) {
      const logs = await this.gatherLogs(target, target.logs, window, 'incident');
      files.push(...logs.files);
      lines.push(`- ${logs.line}`);
      if (logs.failure !== null) failures.push({ part: 'logs', reason: logs.failure });
    }
    return this.pack(files, lines, failures);
  }

  /**
   * Each account under `incident/<account>/`, through its own role. An account's failure is said in the summary and
   * recorded, and the others' evidence still goes; only when every account failed is there no pack at all.
   */
  private async gatherAccounts(accounts: AccountTarget[], window: EvidenceWindow): Promise<EvidencePack> {
    const kept = alarmsWithinCap(
      accounts.map((account) => account.alarms.length),
      MAX_EVIDENCE_ALARMS,
    );
    const outcomes: AccountOutcome[] = [];
    for (const [index, target] of accounts.entries()) {
      const keep = kept[index] ?? 0;
      // Twelve digits as the scheduler stores them; slugged anyway, since the name becomes a path in the task.
      const dir = `incident/${slug(target.account)}`;
      try {
        const gathered = await this.gatherAlarms(target, target.alarms.slice(0, keep), window, dir);
        const logs = target.logs ? await this.gatherLogs(target, target.logs, window, dir) : null;
        outcomes.push({ target, kept: keep, gathered, logs });
      } catch (error) {
        outcomes.push({ target, kept: keep, error: errorMessage(error) });
      }
    }
    if (outcomes.every((outcome) => 'error' in outcome)) {
      throw new Error(`no account's evidence could be gathered: ${outcomes.map((outcome) => `${outcome.target.account}: ${'error' in outcome ? outcome.error : ''}`).join('; ')}`);
    }

    const files: EvidenceFile[] = [];
    const failures: EvidenceFailure[] = [];
    const firstOverall = accounts
      .flatMap((account) => account.alarms.slice(0, 1).map((alarm) => ({ account: account.account, alarm })))
      .reduce<{ account: string; alarm: IncidentEvidenceAlarm } | undefined>((best, next) => (!best || next.alarm.firstAlarmAt < best.alarm.firstAlarmAt ? next : best), undefined);
    const lines = [`Window: ${window.from.toISOString()} to ${window.to.toISOString()}.`, ''];
    lines.push(`Accounts: ${accounts.map((account, index) => (index === 0 ? `${account.account} (the job's own)` : account.account)).join(', ')}.`);
    if (firstOverall) lines.push(`First to fire overall: ${firedAt(firstOverall.alarm)} in account ${firstOverall.account}.`);
    for (const outcome of outcomes) {
      const { target } = outcome;
      lines.push('', `### Account ${target.account}`, '');
      const first = target.alarms[0];
      if (first) lines.push(`- First to fire: ${firedAt(first)}.`);
      if ('error' in outcome) {
        lines.push(`- Evidence missing: nothing of this account is in the pack (${outcome.error}).`);
        failures.push({ part: 'account', account: target.account, reason: outcome.error });
        continue;
      }
      files.push(...this.alarmFiles(outcome.gathered, window));
      lines.push(...alarmLines(outcome.gathered, this.chartFile));
      const omitted = target.alarms.length - outcome.kept;
      if (omitted > 0) lines.push(`- ${omitted} more alarm(s) of this account left out: the pack holds at most ${MAX_EVIDENCE_ALARMS} across all accounts.`);
      if (outcome.logs) {
        files.push(...outcome.logs.files);
        lines.push(`- ${outcome.logs.line}`);
        if (outcome.logs.failure !== null) failures.push({ part: 'logs', account: target.account, reason: outcome.logs.failure });
      }
    }
    return this.pack(files, lines, failures);
  }

  private pack(files: EvidenceFile[], lines: string[], failures: EvidenceFailure[]): EvidencePack {
    const summary = `${lines.join('\n')}\n`;
    files.push({ path: 'incident/README.md', content: `# Incident evidence\n\n${summary}` });
    return { files, taskSection: `\n\n## Incident evidence\n\nGathered by the conductor before this attempt (details in \`incident/README.md\`).\n\n${summary}`, failures };
  }

  private get chartFile(): string {
    return this.renderPng ? 'chart.png' : 'chart.svg';
  }

  /** Each alarm's definition, history and metric, in its own region, numbered from 01 under `dir`. */
  private async gatherAlarms(target: AccountTarget, alarms: IncidentEvidenceAlarm[], window: EvidenceWindow, dir: string): Promise<GatheredAlarm[]> {
    const gathered: GatheredAlarm[] = [];
    for (const [index, alarm] of alarms.entries()) {
      const source = this.sourceFor(target, alarm.region ?? this.config.awsRegion);
      const definition = await source.describeAlarm(alarm.name);
      const history = definition ? await source.alarmHistory(alarm.name, window.from, window.to) : [];
      const series = definition ? await source.metricData(definition, window.from, window.to, MAX_POINTS_PER_METRIC) : { points: [], truncated: false };
      gathered.push({ source: alarm, dir: `${dir}/${String(index + 1).padStart(2, '0')}-${slug(alarm.name)}`, definition, history, series });
    }
    return gathered;
  }

  private alarmFiles(gathered: GatheredAlarm[], window: EvidenceWindow): EvidenceFile[] {
    const files: EvidenceFile[] = [];
    for (const alarm of gathered) {
      files.push({ path: `${alarm.dir}/alarm.json`, content: `${JSON.stringify({ alarm: alarm.source.name, region: alarm.source.region, definition: alarm.definition, history: alarm.history }, null, 2)}\n` });
      if (!alarm.definition?.metric) continue;
      files.push({ path: `${alarm.dir}/metric.csv`, content: metricCsv(alarm.series) });
      const svg = renderChartSvg({ alarm: alarm.definition, points: alarm.series.points, spans: alarmSpans(alarm.history, window.from, window.to), from: window.from, to: window.to });
      files.push(this.renderPng ? { path: `${alarm.dir}/chart.png`, content: this.renderPng(svg) } : { path: `${alarm.dir}/chart.svg`, content: svg });
    }
    return files;
  }

  /**
   * The alarms and the logs of one account are read the same way: in that account, through its own incidents'
   * investigation role when they name one (docs/incident-access.md), else with the conductor's own credentials. A
   * role outside the account is refused, so one account's evidence can never be read through another's role.
   */
  private sourceFor(target: AccountTarget, region: string): AlarmTelemetrySource {
    const investigation = target.investigation;
    if (investigation) {
      const problem = investigationRoleArnProblem(investigation.roleArn, target.account);
      if (problem !== null) throw new Error(`investigation role of account ${target.account} refused: ${problem}`);
    }
    const role = investigation ? { roleArn: investigation.roleArn, externalId: investigation.externalId } : null;
    return this.telemetry({ account: target.account, region, role });
  }

  /**
   * The account's Logs Insights query, in the region of its first alarm (log groups are regional). A failure leaves
   * the alarms' evidence in place: the summary says the logs are missing and why.
   */
  private async gatherLogs(target: AccountTarget, query: LogsInsightsQuery, window: EvidenceWindow, dir: string): Promise<GatheredLogs> {
    const region = target.alarms[0]?.region ?? this.config.awsRegion;
    try {
      const result = await this.sourceFor(target, region).logsQuery(query, window.from, window.to);
      const rendered = renderLogsFiles(query, result, window, dir);
      return {
        files: [
          { path: `${dir}/logs.md`, content: rendered.markdown },
          { path: `${dir}/logs.csv`, content: rendered.csv },
        ],
        line: rendered.summary,
        failure: null,
      };
    } catch (error) {
      const reason = errorMessage(error);
      return { files: [], line: `Logs Insights: the query failed, so there are no logs in this pack (${reason}).`, failure: reason };
    }
  }
}

/**
 * The job's incidents grouped by account, its own account first: a later incident of an account (attached after the
 * first of it ended) adds its alarms to that account's; the role and query are the account's first incident's.
 * Incidents without an ALARM row have nothing to gather.
 */
function accountTargets(targets: IncidentEvidenceTarget[]): AccountTarget[] {
  const accounts = new Map<string, AccountTarget>();
  for (const target of targets) {
    if (target.alarms.length === 0) continue;
    const known = accounts.get(target.account);
    if (!known) {
      accounts.set(target.account, { account: target.account, firstEventAt: target.firstEventAt, lastEventAt: target.lastEventAt, alarms: [...target.alarms], investigation: target.investigation, logs: target.logs });
      continue;
    }
    if (target.firstEventAt < known.firstEventAt) known.firstEventAt = target.firstEventAt;
    if (target.lastEventAt > known.lastEventAt) known.lastEventAt = target.lastEventAt;
    const seen = new Set(known.alarms.map(alarmKey));
    known.alarms.push(...target.alarms.filter((alarm) => !seen.has(alarmKey(alarm))));
    known.alarms.sort((a, b) => a.firstAlarmAt.getTime() - b.firstAlarmAt.getTime());
  }
  return [...accounts.values()];
}

function alarmKey(alarm: IncidentEvidenceAlarm): string {
  return `${alarm.region ?? ''}\u0000${alarm.name}`;
}

/**
 * How many alarms of each account fit in a pack of `max`: one per account in turn (the job's own first), so every
 * account gets its first alarm before any gets a second. One account keeps its first `max`, as before.
 */
export function alarmsWithinCap(perAccount: number[], max: number): number[] {
  const kept = perAccount.map(() => 0);
  let left = max;
  for (let round = 0; left > 0; round += 1) {
    let added = false;
    for (const [index, count] of perAccount.entries()) {
      if (left === 0 || count <= round) continue;
      kept[index] = (kept[index] ?? 0) + 1;
      left -= 1;
      added = true;
    }
    if (!added) break;
  }
  return kept;
}

function firedAt(alarm: IncidentEvidenceAlarm): string {
  return `\`${alarm.name}\` at ${alarm.firstAlarmAt.toISOString()}${alarm.region ? ` (${alarm.region})` : ''}`;
}

/** `timestamp,value`, oldest first; a truncated series ends with no marker here, the README says so. */
export function metricCsv(series: MetricSeries): string {
  return `timestamp,value\n${series.points.map((point) => `${point.at.toISOString()},${point.value}\n`).join('')}`;
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '').slice(0, 60) || 'alarm';
}

/** One line per alarm: its peak against the threshold, or why there is none, with links to its chart and data. */
function alarmLines(alarms: GatheredAlarm[], chart: string): string[] {
  const lines: string[] = [];
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
      `- \`${alarm.source.name}\` (${definition.metric.namespace} ${definition.metric.name}, ${definition.statistic ?? '?'} over ${definition.periodSeconds ?? '?'}s): ${peakText} vs threshold ${definition.threshold ?? '?'} (${definition.comparison ?? '?'}); ${alarm.history.length} state change(s). [chart](${alarm.dir}/${chart}), [data](${alarm.dir}/metric.csv)${truncated}.`,
    );
  }
  return lines;
}
