import type { InvestigationRole } from '../sts/assume-role';
import {
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type CloudWatchClient,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { LogsInsightsQuery, LogsInsightsSource, LogsQueryResult } from './logs-insights';

/** What DescribeAlarms says about a single-metric alarm; metric-math alarms have no `metric`. */
export interface AlarmDefinition {
  name: string;
  metric: { namespace: string; name: string; dimensions: Record<string, string> } | null;
  statistic: string | null;
  threshold: number | null;
  comparison: string | null;
  periodSeconds: number | null;
  evaluationPeriods: number | null;
}

export interface AlarmStateChange {
  at: Date;
  from: string | null;
  to: string;
  summary: string;
}

export interface MetricPoint {
  at: Date;
  value: number;
}

export interface MetricSeries {
  points: MetricPoint[];
  /** More points existed in the window than `maxPoints`: the series stops early. */
  truncated: boolean;
}

/**
 * The telemetry of one account and region. The conductor's own credentials today; a client built from an assumed
 * role's session replaces it per account without changing callers.
 */
export interface AlarmTelemetrySource {
  describeAlarm(name: string): Promise<AlarmDefinition | null>;
  alarmHistory(name: string, from: Date, to: Date): Promise<AlarmStateChange[]>;
  metricData(alarm: AlarmDefinition, from: Date, to: Date, maxPoints: number): Promise<MetricSeries>;
  /** A route's Logs Insights query over the same window, in the same account and region. */
  logsQuery(query: LogsInsightsQuery, from: Date, to: Date): Promise<LogsQueryResult>;
}

/** `role`: the job's investigation role in that account (its route's), read through instead of the conductor's own credentials. */
export type AlarmTelemetrySourceFactory = (target: { account: string; region: string; role?: InvestigationRole | null }) => AlarmTelemetrySource;

/** History pages are small; an incident's alarm rarely changes state more than a few dozen times. */
const MAX_HISTORY_ITEMS = 500;

export class CloudWatchAlarmTelemetry implements AlarmTelemetrySource {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly logs: LogsInsightsSource,
  ) {}

  logsQuery(query: LogsInsightsQuery, from: Date, to: Date): Promise<LogsQueryResult> {
    return this.logs.run(query, from, to);
  }

  async describeAlarm(name: string): Promise<AlarmDefinition | null> {
    const out = await this.client.send(new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['MetricAlarm'] }));
    const alarm = out.MetricAlarms?.[0];
    return alarm ? toDefinition(name, alarm) : null;
  }

  async alarmHistory(name: string, from: Date, to: Date): Promise<AlarmStateChange[]> {
    const changes: AlarmStateChange[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        new DescribeAlarmHistoryCommand({
          AlarmName: name,
          HistoryItemType: 'StateUpdate',
          StartDate: from,
          EndDate: to,
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
      );
      for (const item of out.AlarmHistoryItems ?? []) {
        if (!item.Timestamp) continue;
        const states = parseHistoryData(item.HistoryData);
        if (!states) continue;
        changes.push({ at: item.Timestamp, from: states.from, to: states.to, summary: item.HistorySummary ?? '' });
      }
      nextToken = out.NextToken;
    } while (nextToken && changes.length < MAX_HISTORY_ITEMS);
    return changes.sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  async metricData(alarm: AlarmDefinition, from: Date, to: Date, maxPoints: number): Promise<MetricSeries> {
    if (!alarm.metric) return { points: [], truncated: false };
    const points: MetricPoint[] = [];
    let nextToken: string | undefined;
    let truncated = false;
    do {
      const out = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            {
              Id: 'm1',
              ReturnData: true,
              MetricStat: {
                Metric: {
                  Namespace: alarm.metric.namespace,
                  MetricName: alarm.metric.name,
                  Dimensions: Object.entries(alarm.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
                },
                Period: alarm.periodSeconds ?? 60,
                Stat: alarm.statistic ?? 'Average',
              },
            },
          ],
          StartTime: from,
          EndTime: to,
          ScanBy: 'TimestampAscending',
          MaxDatapoints: maxPoints + 1,
          NextToken: nextToken,
        }),
      );
      const result = out.MetricDataResults?.find((entry) => entry.Id === 'm1');
      const timestamps = result?.Timestamps ?? [];
      const values = result?.Values ?? [];
      for (let i = 0; i < timestamps.length && i < values.length; i++) {
        const at = timestamps[i];
        const value = values[i];
        if (at !== undefined && value !== undefined) points.push({ at, value });
      }
      nextToken = out.NextToken;
      if (points.length > maxPoints) {
        truncated = true;
        break;
      }
    } while (nextToken);
    points.sort((a, b) => a.at.getTime() - b.at.getTime());
    // The earliest points are kept: the run-up to the first alarm matters more than the tail.
    return { points: points.slice(0, maxPoints), truncated: truncated || points.length > maxPoints };
  }
}

function toDefinition(name: string, alarm: MetricAlarm): AlarmDefinition {
  const dimensions: Record<string, string> = {};
  for (const dimension of alarm.Dimensions ?? []) {
    if (dimension.Name && dimension.Value !== undefined) dimensions[dimension.Name] = dimension.Value;
  }
  return {
    name,
    metric: alarm.Namespace && alarm.MetricName ? { namespace: alarm.Namespace, name: alarm.MetricName, dimensions } : null,
    statistic: alarm.Statistic ?? alarm.ExtendedStatistic ?? null,
    threshold: alarm.Threshold ?? null,
    comparison: alarm.ComparisonOperator ?? null,
    periodSeconds: alarm.Period ?? null,
    evaluationPeriods: alarm.EvaluationPeriods ?? null,
  };
}

/** HistoryData is a JSON string: { oldState: { stateValue }, newState: { stateValue } }. Anything else is skipped. */
function parseHistoryData(data: string | undefined): { from: string | null; to: string } | null {
  if (!data) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  const to = stateValue(parsed, 'newState');
  return to ? { from: stateValue(parsed, 'oldState'), to } : null;
}

function stateValue(parsed: unknown, key: string): string | null {
  if (typeof parsed !== 'object' || parsed === null || !(key in parsed)) return null;
  const state: unknown = (parsed as Record<string, unknown>)[key];
  if (typeof state !== 'object' || state === null || !('stateValue' in state)) return null;
  const value: unknown = (state as Record<string, unknown>)['stateValue'];
  return typeof value === 'string' ? value : null;
}
