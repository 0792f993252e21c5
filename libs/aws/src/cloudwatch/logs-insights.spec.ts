import { GetQueryResultsCommand, StartQueryCommand, StopQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { createCloudWatchLogsClient } from './cloudwatch-logs-client';
import { CloudWatchLogsInsights, LogsQueryError, type LogsInsightsQuery } from './logs-insights';

const FROM = new Date('2026-11-30T10:00:00.250Z');
const TO = new Date('2026-11-30T14:00:00.750Z');
const QUERY: LogsInsightsQuery = { logGroups: ['/ecs/orders', '/ecs/payments'], query: 'fields @timestamp, @message | filter @message like /ERROR/', limit: 3 };
const field = (name: string, value: string) => ({ field: name, value });

describe('CloudWatchLogsInsights', () => {
  const client = createCloudWatchLogsClient({ region: 'eu-west-1' });
  const logs = mockClient(client);
  const insights = new CloudWatchLogsInsights(client, { maxWaitMs: 200, pollIntervalMs: 5 });

  beforeEach(() => logs.reset());
  afterAll(() => logs.restore());

  it('queries the window in whole seconds and polls until the query completes', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(GetQueryResultsCommand, { queryId: 'q-1' })
      .resolvesOnce({ status: 'Scheduled' })
      .resolvesOnce({ status: 'Running', results: [] })
      .resolves({
        status: 'Complete',
        results: [
          [field('@timestamp', '2026-11-30 12:00:01.000'), field('@message', 'ERROR boom'), field('@ptr', 'opaque-1')],
          [field('@timestamp', '2026-11-30 12:00:02.000'), field('status', '503'), field('@ptr', 'opaque-2')],
        ],
      });

    const result = await insights.run(QUERY, FROM, TO);

    expect(logs.commandCalls(StartQueryCommand)[0]?.args[0].input).toEqual({
      logGroupNames: ['/ecs/orders', '/ecs/payments'],
      queryString: QUERY.query,
      startTime: Math.floor(FROM.getTime() / 1000),
      endTime: Math.ceil(TO.getTime() / 1000),
      limit: 3,
    });
    expect(logs.commandCalls(GetQueryResultsCommand)).toHaveLength(3);
    expect(logs.commandCalls(StopQueryCommand)).toHaveLength(0);
    expect(result).toEqual({
      columns: ['@timestamp', '@message', 'status'],
      rows: [
        ['2026-11-30 12:00:01.000', 'ERROR boom', ''],
        ['2026-11-30 12:00:02.000', '', '503'],
      ],
    });
  });

  it('stops a query that does not complete within the wait, and says so', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });

    const started = Date.now();
    await expect(insights.run(QUERY, FROM, TO)).rejects.toThrow(/q-slow did not complete within 0 s \(status Running\); stopped it/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(logs.commandCalls(StopQueryCommand).map((call) => call.args[0].input)).toEqual([{ queryId: 'q-slow' }]);
    expect(logs.commandCalls(GetQueryResultsCommand).length).toBeGreaterThan(1);
  });

  it('reports the timeout even when StopQuery itself fails', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Scheduled' });
    logs.on(StopQueryCommand).rejects(new Error('InvalidParameterException: query already ended'));

    await expect(insights.run(QUERY, FROM, TO)).rejects.toThrow(LogsQueryError);
    expect(logs.commandCalls(StopQueryCommand)).toHaveLength(1);
  });

  it('stops the query when polling fails, and reports the polling error', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-throttled' });
    logs.on(GetQueryResultsCommand).resolvesOnce({ status: 'Running' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    logs.on(StopQueryCommand).resolves({ success: true });

    await expect(insights.run(QUERY, FROM, TO)).rejects.toThrow('Rate exceeded');
    expect(logs.commandCalls(StopQueryCommand).map((call) => call.args[0].input)).toEqual([{ queryId: 'q-throttled' }]);
  });

  it('fails on a query that ended Failed, Cancelled or Timeout, without stopping it', async () => {
    for (const status of ['Failed', 'Cancelled', 'Timeout'] as const) {
      logs.reset();
      logs.on(StartQueryCommand).resolves({ queryId: `q-${status}` });
      logs.on(GetQueryResultsCommand).resolves({ status });
      await expect(insights.run(QUERY, FROM, TO)).rejects.toThrow(`Logs Insights query q-${status} ended ${status}`);
      expect(logs.commandCalls(StopQueryCommand)).toHaveLength(0);
    }
  });

  it('refuses malformed answers and keeps at most the limit of rows', async () => {
    logs.on(StartQueryCommand).resolves({});
    await expect(insights.run(QUERY, FROM, TO)).rejects.toThrow('StartQuery answered without a queryId');
    expect(logs.commandCalls(GetQueryResultsCommand)).toHaveLength(0);

    logs.reset();
    logs.on(StartQueryCommand).resolves({ queryId: 'q-2' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete' });
    expect(await insights.run(QUERY, FROM, TO)).toEqual({ columns: [], rows: [] });

    logs.reset();
    logs.on(StartQueryCommand).resolves({ queryId: 'q-3' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [1, 2, 3, 4, 5].map((n) => [field('n', String(n)), { value: 'no field name' }, { field: 'empty' }]),
    });
    expect(await insights.run(QUERY, FROM, TO)).toEqual({ columns: ['n', 'empty'], rows: [['1', ''], ['2', ''], ['3', '']] });
  });
});
