/**
 * A route's optional Logs Insights query (`"logs"` on an incident route): run by the conductor over the evidence
 * window in the alarm's account, its result put in the evidence pack as a table. Stored on the incident job.
 */
export interface IncidentLogsQuery {
  logGroups: string[];
  /** A Logs Insights query, e.g. `fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp asc`. */
  query: string;
  /** Rows the query may return; StartQuery's own limit. */
  limit: number;
}

/** Logs Insights accepts at most 50 log groups by name; a route that needs more is too broad to read as one table. */
export const MAX_LOGS_LOG_GROUPS = 20;
/** Logs Insights caps a query at 10,000 rows; a task file of more than this many is more than an agent reads. */
export const MAX_LOGS_LIMIT = 1000;
export const DEFAULT_LOGS_LIMIT = 200;
/** StartQuery's own limit on the query string. */
export const MAX_LOGS_QUERY_LENGTH = 10_000;
/** A log group name as CloudWatch Logs allows it. */
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/** Why a log group name cannot be queried, or null. */
export function logGroupProblem(name: string): string | null {
  return LOG_GROUP.test(name) ? null : 'must be a log group name (1–512 of letters, digits and . - _ / #)';
}

/** The query's problems, each prefixed with its key (`.logGroups[1]: …`); empty when it can be run. */
export function incidentLogsProblems(logs: IncidentLogsQuery): string[] {
  const problems: string[] = [];
  if (logs.logGroups.length < 1 || logs.logGroups.length > MAX_LOGS_LOG_GROUPS) {
    problems.push(`.logGroups: must list 1 to ${MAX_LOGS_LOG_GROUPS} log groups`);
  }
  logs.logGroups.forEach((name, index) => {
    const problem = logGroupProblem(name);
    if (problem !== null) problems.push(`.logGroups[${index}]: ${problem}`);
  });
  if (logs.query.trim() === '') problems.push('.query: must not be empty');
  if (logs.query.length > MAX_LOGS_QUERY_LENGTH) problems.push(`.query: must be at most ${MAX_LOGS_QUERY_LENGTH} characters`);
  if (!isLogsLimit(logs.limit)) problems.push(`.limit: must be a whole number from 1 to ${MAX_LOGS_LIMIT}`);
  return problems;
}

export function isLogsLimit(limit: number): boolean {
  return Number.isInteger(limit) && limit >= 1 && limit <= MAX_LOGS_LIMIT;
}

/**
 * Reads a stored query back (the job's JSON column): the query when the value is one `incidentLogsProblems` accepts,
 * else null, so a hand-edited or older row cannot reach StartQuery.
 */
export function asIncidentLogsQuery(value: unknown): IncidentLogsQuery | null {
  if (typeof value !== 'object' || value === null) return null;
  const { logGroups, query, limit } = value as Record<string, unknown>;
  if (!Array.isArray(logGroups) || !logGroups.every((name): name is string => typeof name === 'string')) return null;
  if (typeof query !== 'string' || typeof limit !== 'number') return null;
  const logs: IncidentLogsQuery = { logGroups, query, limit };
  return incidentLogsProblems(logs).length === 0 ? logs : null;
}
