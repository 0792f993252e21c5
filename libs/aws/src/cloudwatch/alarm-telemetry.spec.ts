import { DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type Server, type Socket } from 'node:net';
import { CloudWatchAlarmTelemetry, type AlarmDefinition } from './alarm-telemetry';
import { createCloudWatchClient } from './cloudwatch-client';
import { createCloudWatchLogsClient } from './cloudwatch-logs-client';
import { CloudWatchLogsInsights } from './logs-insights';

const FROM = new Date('2026-11-30T10:00:00Z');
const TO = new Date('2026-11-30T14:00:00Z');
const at = (minutes: number): Date => new Date(FROM.getTime() + minutes * 60_000);
const state = (from: string, to: string): string => JSON.stringify({ oldState: { stateValue: from }, newState: { stateValue: to } });

const ALARM: AlarmDefinition = {
  name: 'orders-5xx',
  metric: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', dimensions: { LoadBalancer: 'app/orders/abc' } },
  statistic: 'Sum',
  threshold: 100,
  comparison: 'GreaterThanThreshold',
  periodSeconds: 60,
  evaluationPeriods: 1,
};

describe('CloudWatchAlarmTelemetry', () => {
  const client = createCloudWatchClient({ region: 'eu-west-1' });
  const cloudWatch = mockClient(client);
  // Logs Insights has its own spec (logs-insights.spec.ts); these cases never reach it.
  const telemetry = new CloudWatchAlarmTelemetry(client, new CloudWatchLogsInsights(createCloudWatchLogsClient({ region: 'eu-west-1' })));

  beforeEach(() => cloudWatch.reset());
  afterAll(() => cloudWatch.restore());

  it('reads a metric alarm\'s definition, and none for a missing or metric-math alarm', async () => {
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders-5xx'] }).resolves({
      MetricAlarms: [{ AlarmName: 'orders-5xx', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: 'app/orders/abc' }], Statistic: 'Sum', Period: 60, Threshold: 100, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 }],
    });
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['gone'] }).resolves({ MetricAlarms: [] });
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['math'] }).resolves({ MetricAlarms: [{ AlarmName: 'math', Threshold: 5, ExtendedStatistic: 'p99', Metrics: [{ Id: 'e1', Expression: 'm1/m2' }] }] });

    expect(await telemetry.describeAlarm('orders-5xx')).toEqual(ALARM);
    expect(await telemetry.describeAlarm('gone')).toBeNull();
    expect(await telemetry.describeAlarm('math')).toMatchObject({ metric: null, statistic: 'p99', threshold: 5 });
  });

  it('follows history pages, keeps state updates only, oldest first', async () => {
    cloudWatch
      .on(DescribeAlarmHistoryCommand)
      .resolvesOnce({
        AlarmHistoryItems: [
          { Timestamp: at(40), HistoryData: state('ALARM', 'OK'), HistorySummary: 'to OK' },
          { Timestamp: at(10), HistoryData: state('OK', 'ALARM'), HistorySummary: 'to ALARM' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ AlarmHistoryItems: [{ Timestamp: at(50), HistoryData: 'not json' }, { Timestamp: at(55), HistoryData: state('OK', 'ALARM'), HistorySummary: 'again' }] });

    const history = await telemetry.alarmHistory('orders-5xx', FROM, TO);

    expect(history).toEqual([
      { at: at(10), from: 'OK', to: 'ALARM', summary: 'to ALARM' },
      { at: at(40), from: 'ALARM', to: 'OK', summary: 'to OK' },
      { at: at(55), from: 'OK', to: 'ALARM', summary: 'again' },
    ]);
    expect(cloudWatch.commandCalls(DescribeAlarmHistoryCommand)[1]?.args[0].input).toMatchObject({ AlarmName: 'orders-5xx', NextToken: 'page-2', StartDate: FROM, EndDate: TO });
  });

  it('joins metric pages and stops at the limit, saying it truncated', async () => {
    const page = (start: number, count: number): { Id: string; Timestamps: Date[]; Values: number[] } => ({
      Id: 'm1',
      Timestamps: Array.from({ length: count }, (_, i) => at(start + i)),
      Values: Array.from({ length: count }, (_, i) => start + i),
    });
    cloudWatch.on(GetMetricDataCommand).resolvesOnce({ MetricDataResults: [page(0, 3)], NextToken: 't' }).resolvesOnce({ MetricDataResults: [page(3, 3)] });

    const whole = await telemetry.metricData(ALARM, FROM, TO, 10);
    expect(whole).toEqual({ points: [0, 1, 2, 3, 4, 5].map((value) => ({ at: at(value), value })), truncated: false });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[0]?.MetricStat).toEqual({
      Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: 'app/orders/abc' }] },
      Period: 60,
      Stat: 'Sum',
    });

    cloudWatch.reset();
    cloudWatch.on(GetMetricDataCommand).resolvesOnce({ MetricDataResults: [page(0, 3)], NextToken: 't' }).resolvesOnce({ MetricDataResults: [page(3, 3)], NextToken: 'more' });
    const cut = await telemetry.metricData(ALARM, FROM, TO, 4);
    expect(cut).toEqual({ points: [0, 1, 2, 3].map((value) => ({ at: at(value), value })), truncated: true });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });
});

describe('createCloudWatchClient', () => {
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers: a stalled endpoint.
    server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    port = address.port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fails a request that gets no answer within requestTimeoutMs instead of hanging the launch', async () => {
    const client = createCloudWatchClient({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, requestTimeoutMs: 300, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await expect(client.send(new DescribeAlarmsCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
    client.destroy();
  }, 20_000);
});
