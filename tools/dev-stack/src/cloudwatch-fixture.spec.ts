import { CloudWatchAlarmTelemetry, createCloudWatchClient } from '@agent-conductor/aws';
import { GetMetricDataCommand, PutMetricAlarmCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchFixtureServer, parseMetricCsv, TELEMETRY_FIXTURE_DIR } from './cloudwatch-fixture';

describe('the CloudWatch telemetry fixture, through the real SDK client', () => {
  let server: CloudWatchFixtureServer;
  let client: CloudWatchClient;
  let telemetry: CloudWatchAlarmTelemetry;

  beforeAll(async () => {
    server = await CloudWatchFixtureServer.fromDirectory();
    const { endpoint } = await server.start();
    client = createCloudWatchClient({ region: 'us-west-2', endpoint, maxAttempts: 1 }, {});
    telemetry = new CloudWatchAlarmTelemetry(client);
  });

  afterAll(async () => {
    client?.destroy();
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
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
