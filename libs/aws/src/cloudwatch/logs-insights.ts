import {
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
  type CloudWatchLogsClient,
  type GetQueryResultsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';

/** A route's Logs Insights query (validated by the routing file: 1–20 log groups, a query, a bounded limit). */
export interface LogsInsightsQuery {
  logGroups: string[];
  query: string;
  limit: number;
}

export interface LogsQueryResult {
  /** Field names in the order they first appear in the results; `@ptr` (an opaque record pointer) is left out. */
  columns: string[];
  /** One cell per column, '' where a row lacks the field. */
  rows: string[][];
}

export interface LogsInsightsSource {
  run(query: LogsInsightsQuery, from: Date, to: Date): Promise<LogsQueryResult>;
}

export interface LogsInsightsOptions {
  /** How long to wait for the query to complete before stopping it; a launch waits on this. */
  maxWaitMs: number;
  pollIntervalMs: number;
}

export const DEFAULT_LOGS_INSIGHTS_OPTIONS: LogsInsightsOptions = { maxWaitMs: 60_000, pollIntervalMs: 1_000 };

/** The query did not complete, ran out of time, or was answered with something we cannot read. */
export class LogsQueryError extends Error {
  override readonly name = 'LogsQueryError';
}

/** Fields Logs Insights adds to every row that mean nothing outside the console. */
const HIDDEN_FIELDS = new Set(['@ptr']);

/** Statuses after which polling can stop; anything else (Scheduled, Running, Unknown) is still under way. */
const FAILED_STATUSES = new Set(['Failed', 'Cancelled', 'Timeout']);

/**
 * Runs one Logs Insights query over the evidence window: StartQuery, then GetQueryResults until it completes or the
 * wait runs out, when it sends StopQuery so the query stops scanning (and costing) in the account.
 */
export class CloudWatchLogsInsights implements LogsInsightsSource {
  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly options: LogsInsightsOptions = DEFAULT_LOGS_INSIGHTS_OPTIONS,
  ) {}

  async run(query: LogsInsightsQuery, from: Date, to: Date): Promise<LogsQueryResult> {
    const started = Date.now();
    const { queryId } = await this.client.send(
      new StartQueryCommand({
        logGroupNames: query.logGroups,
        queryString: query.query,
        // Logs Insights takes whole epoch seconds; the end is widened so the window's last second is inside.
        startTime: Math.floor(from.getTime() / 1000),
        endTime: Math.ceil(to.getTime() / 1000),
        limit: query.limit,
      }),
    );
    if (!queryId) throw new LogsQueryError('StartQuery answered without a queryId');

    for (;;) {
      const out = await this.client.send(new GetQueryResultsCommand({ queryId })).catch(async (error: unknown) => {
        // Nobody will read this query's results: stop it rather than let it scan until its own timeout.
        await this.stop(queryId);
        throw error;
      });
      if (out.status === 'Complete') return toResult(out, query.limit);
      if (out.status !== undefined && FAILED_STATUSES.has(out.status)) {
        throw new LogsQueryError(`Logs Insights query ${queryId} ended ${out.status}`);
      }
      const waited = Date.now() - started;
      if (waited + this.options.pollIntervalMs > this.options.maxWaitMs) {
        await this.stop(queryId);
        throw new LogsQueryError(`Logs Insights query ${queryId} did not complete within ${Math.round(this.options.maxWaitMs / 1000)} s (status ${out.status ?? 'missing'}); stopped it`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs));
    }
  }

  private async stop(queryId: string): Promise<void> {
    try {
      await this.client.send(new StopQueryCommand({ queryId }));
    } catch {
      // The query may have finished meanwhile; why it was stopped is what the caller needs to hear about.
    }
  }
}

function toResult(out: GetQueryResultsCommandOutput, limit: number): LogsQueryResult {
  const columns: string[] = [];
  const records: Map<string, string>[] = [];
  for (const fields of (out.results ?? []).slice(0, limit)) {
    if (!Array.isArray(fields)) throw new LogsQueryError('GetQueryResults answered with a row that is not a list of fields');
    const record = new Map<string, string>();
    for (const cell of fields) {
      if (typeof cell?.field !== 'string' || cell.field === '' || HIDDEN_FIELDS.has(cell.field)) continue;
      if (!columns.includes(cell.field)) columns.push(cell.field);
      record.set(cell.field, typeof cell.value === 'string' ? cell.value : '');
    }
    records.push(record);
  }
  return { columns, rows: records.map((record) => columns.map((column) => record.get(column) ?? '')) };
}
