/**
 * Recorded CloudWatch telemetry on a loopback endpoint, so that `npm run dev` plus the sample alarm gives an incident
 * job a real evidence pack. It answers the three calls the conductor's evidence pack makes, in the protocol
 * @aws-sdk/client-cloudwatch 3.11xx speaks: AWS JSON 1.0 (POST /, `X-Amz-Target: GraniteServiceVersion20100801.<Op>`,
 * timestamps as epoch seconds), not the query/XML protocol of older SDKs. On the same endpoint it answers the Logs
 * Insights calls of @aws-sdk/client-cloudwatch-logs (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`) from recorded
 * rows. Signatures are not checked.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { WORKSPACE } from './workspace';

export const TELEMETRY_FIXTURE_DIR = join(WORKSPACE, 'tools/dev-stack/fixtures/telemetry');

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const LOGS_TARGET_PREFIX = 'Logs_20140328.';
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_MAX_DATAPOINTS = 100_800;

export interface RecordedAlarm {
  /** The MetricAlarm as DescribeAlarms returns it, minus timestamps. */
  alarm: Record<string, unknown> & { AlarmName: string };
  history: Array<{ at: Date; summary: string; data: string }>;
  points: Array<{ at: Date; value: number }>;
  /** `logs.json`, when the alarm's directory has one: the rows a Logs Insights query over these log groups returns. */
  logs: RecordedLogs | null;
}

export interface RecordedLogs {
  logGroups: string[];
  /** Each row's fields in order, as Logs Insights returns them; `@timestamp` (`YYYY-MM-DD HH:MM:SS.mmm`, UTC) places it. */
  rows: Array<{ at: Date; fields: Array<[string, string]> }>;
}

const alarmFile = z.looseObject({ AlarmName: z.string().min(1) });
const historyFile = z.array(z.strictObject({ Timestamp: z.iso.datetime(), HistorySummary: z.string(), HistoryData: z.string() }));
const LOGS_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;
const logsFile = z.strictObject({
  logGroups: z.array(z.string().min(1)).min(1),
  rows: z.array(
    z.record(z.string().min(1), z.string()).refine((row) => LOGS_TIMESTAMP.test(row['@timestamp'] ?? ''), 'every row needs an @timestamp like 2026-05-12 20:58:01.000 (UTC)'),
  ),
});

/** Logs Insights' own `@timestamp` format, always UTC. */
export function logsTimestamp(at: Date): string {
  return at.toISOString().replace('T', ' ').replace('Z', '');
}

/** Reads every `<alarm>/{alarm,history}.json` and `metric.csv` under `dir`; a malformed file fails the start, naming itself. */
export async function loadRecordedTelemetry(dir = TELEMETRY_FIXTURE_DIR): Promise<Map<string, RecordedAlarm>> {
  const alarms = new Map<string, RecordedAlarm>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const base = join(dir, entry.name);
    const read = async <T>(file: string, parse: (text: string) => T): Promise<T> => {
      try {
        return parse(await readFile(join(base, file), 'utf8'));
      } catch (error) {
        throw new Error(`telemetry fixture ${join(base, file)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const alarm = await read('alarm.json', (text) => alarmFile.parse(JSON.parse(text)));
    const history = await read('history.json', (text) => historyFile.parse(JSON.parse(text)));
    const points = await read('metric.csv', parseMetricCsv);
    const hasLogs = (await readdir(base)).includes('logs.json');
    const logs = hasLogs ? await read('logs.json', (text) => logsFile.parse(JSON.parse(text))) : null;
    alarms.set(alarm.AlarmName, {
      alarm,
      history: history.map((item) => ({ at: new Date(item.Timestamp), summary: item.HistorySummary, data: item.HistoryData })),
      points,
      logs: logs && {
        logGroups: logs.logGroups,
        rows: logs.rows.map((row) => ({ at: new Date(`${(row['@timestamp'] ?? '').replace(' ', 'T')}Z`), fields: Object.entries(row) })),
      },
    });
  }
  return alarms;
}

export function parseMetricCsv(text: string): Array<{ at: Date; value: number }> {
  const [header, ...rows] = text.split('\n').filter((line) => line.trim() !== '');
  if (header !== 'timestamp,value') throw new Error(`expected the header "timestamp,value", got ${JSON.stringify(header)}`);
  return rows.map((row, index) => {
    const [time, value] = row.split(',');
    const at = new Date(time ?? '');
    const number = Number(value);
    if (Number.isNaN(at.getTime()) || value === undefined || value.trim() === '' || !Number.isFinite(number)) {
      throw new Error(`line ${index + 2} is not "timestamp,value": ${JSON.stringify(row)}`);
    }
    return { at, value: number };
  });
}

// The SDK sends timestamps as epoch seconds; ISO strings are accepted too, for hand-made requests.
const timestamp = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const at = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(at.getTime())) ctx.addIssue({ code: 'custom', message: `not a timestamp: ${value}` });
  return at;
});
const describeAlarms = z.object({ AlarmNames: z.array(z.string()).optional() });
const describeAlarmHistory = z.object({
  AlarmName: z.string().min(1),
  StartDate: timestamp.optional(),
  EndDate: timestamp.optional(),
  HistoryItemType: z.string().optional(),
  NextToken: z.string().optional(),
});
const getMetricData = z.object({
  MetricDataQueries: z.array(
    z.object({
      Id: z.string(),
      MetricStat: z.object({ Metric: z.object({ Namespace: z.string(), MetricName: z.string(), Dimensions: z.array(z.object({ Name: z.string(), Value: z.string() })).optional() }) }).optional(),
    }),
  ),
  StartTime: timestamp,
  EndTime: timestamp,
  MaxDatapoints: z.number().int().positive().optional(),
  NextToken: z.string().regex(/^\d+$/).optional(),
});

const startQuery = z.object({
  logGroupNames: z.array(z.string()).min(1),
  queryString: z.string().min(1),
  startTime: z.number().int(),
  endTime: z.number().int(),
  limit: z.number().int().positive().optional(),
});
const queryIdRequest = z.object({ queryId: z.string().min(1) });

/** Logs Insights' default row limit. */
const DEFAULT_LOGS_LIMIT = 1000;
const MAX_KEPT_QUERIES = 100;

interface FixtureQuery {
  rows: Array<Array<{ field: string; value: string }>>;
  /** GetQueryResults calls so far: the first answers Running, as a real query does, so callers must poll. */
  polls: number;
  stopped: boolean;
}

class FixtureError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const seconds = (at: Date): number => at.getTime() / 1000;

export class CloudWatchFixtureServer {
  private server: Server | null = null;
  private readonly queries = new Map<string, FixtureQuery>();

  constructor(private readonly alarms: Map<string, RecordedAlarm>) {}

  static async fromDirectory(dir = TELEMETRY_FIXTURE_DIR): Promise<CloudWatchFixtureServer> {
    return new CloudWatchFixtureServer(await loadRecordedTelemetry(dir));
  }

  /** Every log group some recording answers Logs Insights queries for. */
  get recordedLogGroups(): string[] {
    return [...new Set([...this.alarms.values()].flatMap((entry) => entry.logs?.logGroups ?? []))];
  }

  /** Listens on 127.0.0.1 (`port` 0 picks a free one) and returns the endpoint for CLOUDWATCH_ENDPOINT. */
  async start(port = 0): Promise<{ endpoint: string }> {
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolveListen());
    });
    this.server = server;
    return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const logs = target.startsWith(LOGS_TARGET_PREFIX);
    try {
      if (request.method !== 'POST' || !(logs || target.startsWith(TARGET_PREFIX))) {
        throw new FixtureError('UnknownOperationException', `expected POST with X-Amz-Target ${TARGET_PREFIX}<operation> or ${LOGS_TARGET_PREFIX}<operation>, got ${request.method} ${JSON.stringify(target)}`);
      }
      const body = await readBody(request);
      reply(response, 200, logs ? this.answerLogs(target.slice(LOGS_TARGET_PREFIX.length), body) : this.answer(target.slice(TARGET_PREFIX.length), body), logs);
    } catch (error) {
      const invalid = logs ? 'InvalidParameterException' : 'InvalidParameterValue';
      const type = error instanceof FixtureError ? error.type : error instanceof z.ZodError ? invalid : 'InternalServiceError';
      const message = error instanceof z.ZodError ? z.prettifyError(error) : error instanceof Error ? error.message : String(error);
      const service = logs ? 'com.amazonaws.logs' : 'com.amazonaws.cloudwatch';
      reply(response, type === 'InternalServiceError' ? 500 : 400, { __type: `${service}#${type}`, message }, logs);
    }
  }

  private answer(operation: string, body: unknown): unknown {
    switch (operation) {
      case 'DescribeAlarms': {
        const { AlarmNames } = describeAlarms.parse(body);
        const recorded = [...this.alarms.values()].filter((entry) => !AlarmNames || AlarmNames.includes(entry.alarm.AlarmName));
        return { MetricAlarms: recorded.map((entry) => entry.alarm), CompositeAlarms: [] };
      }
      case 'DescribeAlarmHistory': {
        const query = describeAlarmHistory.parse(body);
        const recorded = this.alarms.get(query.AlarmName);
        const items = (recorded?.history ?? []).filter(
          (item) => (!query.StartDate || item.at >= query.StartDate) && (!query.EndDate || item.at <= query.EndDate) && (!query.HistoryItemType || query.HistoryItemType === 'StateUpdate'),
        );
        return {
          AlarmHistoryItems: items.map((item) => ({ AlarmName: query.AlarmName, AlarmType: 'MetricAlarm', Timestamp: seconds(item.at), HistoryItemType: 'StateUpdate', HistorySummary: item.summary, HistoryData: item.data })),
        };
      }
      case 'GetMetricData': {
        const query = getMetricData.parse(body);
        const maxPoints = query.MaxDatapoints ?? DEFAULT_MAX_DATAPOINTS;
        const offset = Number(query.NextToken ?? '0');
        let more = false;
        const results = query.MetricDataQueries.map((metricQuery) => {
          const metric = metricQuery.MetricStat?.Metric;
          const recorded = [...this.alarms.values()].find((entry) => metric && entry.alarm['Namespace'] === metric.Namespace && entry.alarm['MetricName'] === metric.MetricName);
          // StartTime inclusive, EndTime exclusive, as CloudWatch does.
          const inWindow = (recorded?.points ?? []).filter((point) => point.at >= query.StartTime && point.at < query.EndTime);
          const partial = inWindow.length > offset + maxPoints;
          more ||= partial;
          const page = inWindow.slice(offset, offset + maxPoints);
          return { Id: metricQuery.Id, Label: metric?.MetricName ?? metricQuery.Id, StatusCode: partial ? 'PartialData' : 'Complete', Timestamps: page.map((point) => seconds(point.at)), Values: page.map((point) => point.value) };
        });
        return { MetricDataResults: results, ...(more ? { NextToken: String(offset + maxPoints) } : {}) };
      }
      default:
        throw new FixtureError('UnknownOperationException', `the telemetry fixture answers DescribeAlarms, DescribeAlarmHistory and GetMetricData, not ${operation}`);
    }
  }

  /**
   * StartQuery, GetQueryResults and StopQuery over the recorded rows. The query string is not interpreted: every
   * recorded row of the named log groups inside [startTime, endTime] comes back, oldest first, up to `limit`.
   */
  private answerLogs(operation: string, body: unknown): unknown {
    switch (operation) {
      case 'StartQuery': {
        const query = startQuery.parse(body);
        const from = new Date(query.startTime * 1000);
        const to = new Date(query.endTime * 1000);
        const rows = [...this.alarms.values()]
          .flatMap((entry) => (entry.logs && entry.logs.logGroups.some((group) => query.logGroupNames.includes(group)) ? entry.logs.rows : []))
          .filter((row) => row.at >= from && row.at <= to)
          .sort((a, b) => a.at.getTime() - b.at.getTime())
          .slice(0, query.limit ?? DEFAULT_LOGS_LIMIT);
        const queryId = randomUUID();
        this.queries.set(queryId, {
          rows: rows.map((row, index) => [...row.fields.map(([field, value]) => ({ field, value })), { field: '@ptr', value: `fixture-${index}` }]),
          polls: 0,
          stopped: false,
        });
        // A long dev session must not keep every query it ever answered.
        for (const old of this.queries.keys()) {
          if (this.queries.size <= MAX_KEPT_QUERIES) break;
          this.queries.delete(old);
        }
        return { queryId };
      }
      case 'GetQueryResults': {
        const query = this.recordedQuery(queryIdRequest.parse(body).queryId);
        query.polls += 1;
        if (query.stopped) return { status: 'Cancelled', results: [] };
        if (query.polls === 1) return { status: 'Running', results: [] };
        return { status: 'Complete', results: query.rows, statistics: { recordsMatched: query.rows.length, recordsScanned: query.rows.length, bytesScanned: 0 } };
      }
      case 'StopQuery': {
        this.recordedQuery(queryIdRequest.parse(body).queryId).stopped = true;
        return { success: true };
      }
      default:
        throw new FixtureError('UnknownOperationException', `the telemetry fixture answers StartQuery, GetQueryResults and StopQuery of CloudWatch Logs, not ${operation}`);
    }
  }

  private recordedQuery(queryId: string): FixtureQuery {
    const query = this.queries.get(queryId);
    if (!query) throw new FixtureError('ResourceNotFoundException', `no query ${queryId}`);
    return query;
  }
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    bytes += buffer.length;
    if (bytes > MAX_BODY_BYTES) throw new FixtureError('InvalidParameterValue', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    throw new FixtureError('InvalidParameterValue', 'request body is not JSON');
  }
}

function reply(response: ServerResponse, status: number, body: unknown, logs = false): void {
  response.writeHead(status, { 'content-type': logs ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0' });
  response.end(JSON.stringify(body));
}
