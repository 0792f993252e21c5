/** The account of the sample alarm (tools/e2e/fixtures/cloudwatch-alarm.eventbridge.json). */
export const SAMPLE_ALARM_ACCOUNT = '123456789012';
/** The fixture does not interpret queries; this one asks for what it returns anyway, so the route reads true. */
export const FIXTURE_LOGS_QUERY = 'fields @timestamp, @logStream, @message | sort @timestamp asc';

export interface FixtureRoutingOptions {
  repository: string;
  branch: string;
  /** The recorded log groups (CloudWatchFixtureServer.recordedLogGroups). */
  logGroups: string[];
}

/**
 * The routing file of fixture mode: everything takes the default route, as without a routing file, and the sample
 * alarm's account adds a Logs Insights query over the recorded log groups, so its evidence pack has logs too.
 */
export function fixtureRoutingTable(options: FixtureRoutingOptions): Record<string, unknown> {
  const route = { repository: options.repository, branch: options.branch };
  return {
    default: route,
    incidents: [{ account: SAMPLE_ALARM_ACCOUNT, ...route, logs: { logGroups: options.logGroups, query: FIXTURE_LOGS_QUERY, limit: 200 } }],
  };
}
