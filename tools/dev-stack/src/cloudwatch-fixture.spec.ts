import { CloudWatchAlarmTelemetry, CloudWatchLogsInsights, createCloudWatchClient, createCloudWatchLogsClient } from '@agent-conductor/aws';
import { GetMetricDataCommand, PutMetricAlarmCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetQueryResultsCommand, PutLogEventsCommand, StartQueryCommand, StopQueryCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchFixtureServer, parseMetricCsv, TELEMETRY_FIXTURE_DIR } from './cloudwatch-fixture';

describe('the CloudWatch telemetry fixture, through the real SDK client', () => {
  let server: CloudWatchFixtureServer;
  let client: CloudWatchClient;
  let logsClient: CloudWatchLogsClient;
  let telemetry: CloudWatchAlarmTelemetry;

  beforeAll(async () => {
    server = await CloudWatchFixtureServer.fromDirectory();
    const { endpoint } = await server.start();
    client = createCloudWatchClient({ region: 'us-west-2', endpoint, maxAttempts: 1 }, {});
    logsClient = createCloudWatchLogsClient({ region: 'us-west-2', endpoint, maxAttempts: 1 }, {});
    telemetry = new CloudWatchAlarmTelemetry(client, new CloudWatchLogsInsights(logsClient, { maxWaitMs: 10_000, pollIntervalMs: 10 }));
  });

  afterAll(async () => {
    client?.destroy();
    logsClient?.destroy();
    await server?.stop();
  });

  it('answers DescribeAlarms, DescribeAlarmHistory and GetMetricData for the sample alarm, and in pages of MaxDatapoints', async () => {
    const alarm = await telemetry.describeAlarm('api-high-cpu');
    expect(alarm).toEqual({
      name: 'api-high-cpu',
      metric: { namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { InstanceId: 'i-0abc123def4567890' } },
      statistic: 'Average',
      threshold: 20,
      comparison: 'GreaterThanThreshold',
      periodSeconds: 60,
      evaluationPeriods: 1,
    });
    expect(await telemetry.describeAlarm('no-such-alarm')).toBeNull();

    const history = await telemetry.alarmHistory('api-high-cpu', new Date('2026-05-12T18:00:00Z'), new Date('2026-05-12T21:00:00Z'));
    expect(history.map((change) => [change.at.toISOString(), change.from, change.to])).toEqual([['2026-05-12T20:58:58.130Z', 'OK', 'ALARM']]);

    const recorded = parseMetricCsv(await readFile(join(TELEMETRY_FIXTURE_DIR, 'api-high-cpu', 'metric.csv'), 'utf8'));
    if (!alarm) throw new Error('unreachable: asserted above');
    const window = { from: new Date('2026-05-12T20:30:00Z'), to: new Date('2026-05-12T21:30:00Z') };
    const truncated = await telemetry.metricData(alarm, window.from, window.to, 30);
    expect(truncated).toEqual({ points: recorded.filter((point) => point.at >= window.from).slice(0, 30), truncated: true });
    const whole = await telemetry.metricData(alarm, window.from, window.to, 2880);
    expect(whole).toEqual({ points: recorded.filter((point) => point.at >= window.from && point.at < window.to), truncated: false });

    // The client asks for one point more than it keeps, so only a raw call shows the server's own pages.
    const query = { MetricDataQueries: [{ Id: 'm1', MetricStat: { Metric: { Namespace: 'AWS/EC2', MetricName: 'CPUUtilization' }, Period: 60, Stat: 'Average' } }], StartTime: window.from, EndTime: window.to, MaxDatapoints: 40 };
    const first = await client.send(new GetMetricDataCommand(query));
    const second = await client.send(new GetMetricDataCommand({ ...query, NextToken: first.NextToken }));
    expect([first.MetricDataResults?.[0]?.Values?.length, second.MetricDataResults?.[0]?.Values?.length, second.NextToken]).toEqual([40, 20, undefined]);
    expect([...(first.MetricDataResults?.[0]?.Timestamps ?? []), ...(second.MetricDataResults?.[0]?.Timestamps ?? [])]).toEqual(whole.points.map((point) => point.at));
  });

  it('answers a Logs Insights query with the recorded rows of its log groups inside the window, after one Running poll', async () => {
    const recorded = JSON.parse(await readFile(join(TELEMETRY_FIXTURE_DIR, 'api-high-cpu', 'logs.json'), 'utf8')) as { logGroups: string[]; rows: Array<Record<string, string>> };
    expect(server.recordedLogGroups).toEqual(['/ecs/sample-api']);
    const from = new Date('2026-05-12T20:50:00Z');
    const to = new Date('2026-05-12T21:10:00Z');
    const inWindow = recorded.rows.filter((row) => {
      const at = new Date(`${(row['@timestamp'] ?? '').replace(' ', 'T')}Z`);
      return at >= from && at <= to;
    });
    expect(inWindow.length).toBeGreaterThan(2);
    expect(inWindow.length).toBeLessThan(recorded.rows.length);

    const result = await telemetry.logsQuery({ logGroups: ['/ecs/sample-api'], query: 'fields @timestamp, @message', limit: 100 }, from, to);
    expect(result).toEqual({ columns: ['@timestamp', '@logStream', '@message'], rows: inWindow.map((row) => [row['@timestamp'], row['@logStream'], row['@message']]) });
    const limited = await telemetry.logsQuery({ logGroups: ['/ecs/sample-api'], query: 'fields @message', limit: 2 }, from, to);
    expect(limited.rows).toEqual(result.rows.slice(0, 2));
    expect(await telemetry.logsQuery({ logGroups: ['/ecs/other'], query: 'fields @message', limit: 100 }, from, to)).toEqual({ columns: [], rows: [] });

    // Raw calls: the first poll is Running, and a stopped query answers Cancelled.
    const { queryId } = await logsClient.send(new StartQueryCommand({ logGroupNames: ['/ecs/sample-api'], queryString: 'fields @message', startTime: 0, endTime: 2_000_000_000 }));
    const first = await logsClient.send(new GetQueryResultsCommand({ queryId }));
    expect(first.status).toBe('Running');
    expect(await logsClient.send(new StopQueryCommand({ queryId }))).toMatchObject({ success: true });
    expect((await logsClient.send(new GetQueryResultsCommand({ queryId }))).status).toBe('Cancelled');
    await expect(logsClient.send(new GetQueryResultsCommand({ queryId: 'no-such-query' }))).rejects.toThrow(/no query no-such-query/);
    await expect(logsClient.send(new PutLogEventsCommand({ logGroupName: '/ecs/sample-api', logStreamName: 's', logEvents: [] }))).rejects.toThrow(
      /answers StartQuery, GetQueryResults and StopQuery of CloudWatch Logs, not PutLogEvents/,
    );
  });

  it('refuses an operation it does not record, with an error the SDK reports by name', async () => {
    await expect(client.send(new PutMetricAlarmCommand({ AlarmName: 'x', EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold' }))).rejects.toThrow(
      /answers DescribeAlarms, DescribeAlarmHistory and GetMetricData, not PutMetricAlarm/,
    );
  });

  it('fails to load a recording with a malformed metric.csv, naming the file and the line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telemetry-fixture-'));
    try {
      await mkdir(join(dir, 'broken'));
      await writeFile(join(dir, 'broken', 'alarm.json'), JSON.stringify({ AlarmName: 'broken' }));
      await writeFile(join(dir, 'broken', 'history.json'), '[]');
      await writeFile(join(dir, 'broken', 'metric.csv'), 'timestamp,value\n2026-05-12T18:00:00.000Z,4\n2026-05-12T18:01:00.000Z,high\n');
      await expect(CloudWatchFixtureServer.fromDirectory(dir)).rejects.toThrow(/broken\/metric\.csv: line 3 is not "timestamp,value"/);

      await writeFile(join(dir, 'broken', 'metric.csv'), 'timestamp,value\n2026-05-12T18:00:00.000Z,4\n');
      await writeFile(join(dir, 'broken', 'logs.json'), JSON.stringify({ logGroups: ['/ecs/x'], rows: [{ '@timestamp': '2026-05-12T18:00:00Z', '@message': 'iso, not Logs Insights' }] }));
      await expect(CloudWatchFixtureServer.fromDirectory(dir)).rejects.toThrow(/broken\/logs\.json: .*every row needs an @timestamp like 2026-05-12 20:58:01\.000/s);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
