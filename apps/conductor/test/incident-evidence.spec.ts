import type { PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand, StopQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { INestApplication } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConductorConfig } from '../src/config/env.validators';
import { CHART_HEIGHT, CHART_WIDTH } from '../src/incident-evidence/evidence-chart';
import { MAX_LOGS_TABLE_CELL_CHARS, MAX_LOGS_TABLE_ROWS } from '../src/incident-evidence/logs-table';
import { AttemptService } from '../src/launch/attempts.service';
import { launchAndExtractTask, startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

const ACCOUNT = '123456789012';
const FIRST_ALARM_AT = new Date(Date.now() - 30 * 60_000);

/** An incident job with its alarms, as the scheduler's ingest leaves them: deliveries, alarms, incident, job. */
async function createIncidentJob(prisma: PrismaClient, alarms: Array<{ name: string; at: Date }>): Promise<string> {
  const job = await createPendingJob(prisma, { kind: 'incident', key: ACCOUNT, taskMarkdown: '# Incident in 123456789012\n' });
  const times = alarms.map((alarm) => alarm.at.getTime());
  const incident = await prisma.incident.create({
    data: { account: ACCOUNT, firstEventAt: new Date(Math.min(...times)), lastEventAt: new Date(Math.max(...times)), alarmCount: alarms.length, jobId: job.id },
  });
  for (const alarm of alarms) {
    const delivery = await prisma.delivery.create({ data: { sqsMessageId: randomUUID(), receivedAt: new Date(), body: '{}', classification: 'alarm' } });
    await prisma.alarm.create({
      data: { deliveryId: delivery.id, account: ACCOUNT, region: 'eu-west-1', alarmName: alarm.name, state: 'ALARM', eventTime: alarm.at, incidentId: incident.id, metrics: [] },
    });
  }
  return job.id;
}

/** Width and height from a PNG's IHDR, after checking the signature and that IHDR comes first. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('the incident evidence pack', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  const logs = mockClient(CloudWatchLogsClient);
  let prisma: PrismaClient;
  let app: INestApplication | undefined;
  let scratch: string;

  const points = Array.from({ length: 12 }, (_, i) => ({ at: new Date(FIRST_ALARM_AT.getTime() + (i - 6) * 300_000), value: i < 6 ? 40 + i : 120 + i }));

  async function launchAndExtract(jobId: string, overrides: Partial<ConductorConfig> = {}): Promise<{ dir: string; workerId: string }> {
    if (!app) {
      const config = await testConfig({ incidentEvidence: true, workerLauncher: 'spool', retryBaseMs: 1, retryMaxMs: 1, ...overrides });
      config.workerSpoolDir = join(config.runDir, 'spool');
      app = await startConductorParts(config);
    }
    return launchAndExtractTask(app, jobId, scratch);
  }

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    cloudWatch.reset();
    logs.reset();
    scratch = await mkdtemp(join(tmpdir(), 'incident-evidence-'));
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await rm(scratch, { recursive: true, force: true });
  });

  afterAll(async () => {
    cloudWatch.restore();
    logs.restore();
    await prisma.$disconnect();
  });

  it('puts each alarm\'s definition, history, metric CSV and PNG chart under incident/, summarized in TASK.md', async () => {
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders-5xx'] }).resolves({
      MetricAlarms: [
        {
          AlarmName: 'orders-5xx',
          Namespace: 'AWS/ApplicationELB',
          MetricName: 'HTTPCode_Target_5XX_Count',
          Dimensions: [{ Name: 'LoadBalancer', Value: 'app/orders/abc' }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 100,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
        },
      ],
    });
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders-latency'] }).resolves({ MetricAlarms: [] });
    cloudWatch.on(DescribeAlarmHistoryCommand).resolves({
      AlarmHistoryItems: [
        {
          AlarmName: 'orders-5xx',
          Timestamp: FIRST_ALARM_AT,
          HistoryItemType: 'StateUpdate',
          HistorySummary: 'Alarm updated from OK to ALARM',
          HistoryData: JSON.stringify({ oldState: { stateValue: 'OK' }, newState: { stateValue: 'ALARM' } }),
        },
      ],
    });
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'm1', Timestamps: points.map((point) => point.at), Values: points.map((point) => point.value), StatusCode: 'Complete' }],
    });
    const jobId = await createIncidentJob(prisma, [
      { name: 'orders-5xx', at: FIRST_ALARM_AT },
      { name: 'orders-latency', at: new Date(FIRST_ALARM_AT.getTime() + 60_000) },
      { name: 'orders-5xx', at: new Date(FIRST_ALARM_AT.getTime() + 120_000) },
    ]);

    const { dir, workerId } = await launchAndExtract(jobId);

    // One DescribeAlarms per distinct alarm; the metric is asked for with the alarm's own statistic and period.
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(2);
    const metricQuery = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(metricQuery?.MetricDataQueries?.[0]?.MetricStat).toMatchObject({ Period: 300, Stat: 'Sum', Metric: { Dimensions: [{ Name: 'LoadBalancer', Value: 'app/orders/abc' }] } });
    expect(metricQuery?.StartTime?.getTime()).toBe(FIRST_ALARM_AT.getTime() - 3 * 3_600_000);

    const alarmDir = join(dir, 'incident', '01-orders-5xx');
    expect((await readdir(alarmDir)).sort()).toEqual(['alarm.json', 'chart.png', 'metric.csv']);
    const csv = await readFile(join(alarmDir, 'metric.csv'), 'utf8');
    expect(csv).toBe(`timestamp,value\n${points.map((point) => `${point.at.toISOString()},${point.value}\n`).join('')}`);
    expect(pngSize(await readFile(join(alarmDir, 'chart.png')))).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    expect(await readdir(join(dir, 'incident', '02-orders-latency'))).toEqual(['alarm.json']);

    const task = await readFile(join(dir, 'TASK.md'), 'utf8');
    expect(task).toMatch(/^# Incident in 123456789012\n/);
    expect(task).toContain(`First to fire: \`orders-5xx\` at ${FIRST_ALARM_AT.toISOString()}`);
    expect(task).toContain(`peak 131 at ${points[11]?.at.toISOString()} vs threshold 100 (GreaterThanThreshold)`);
    expect(task).toContain('[chart](incident/01-orders-5xx/chart.png)');
    expect(task).toContain('`orders-latency`: DescribeAlarms found no such metric alarm');
    const events = await prisma.workerEvent.findMany({ where: { workerId }, select: { type: true } });
    expect(events.map((event) => event.type)).toContain('incident-evidence-gathered');
  });

  it('ends the window the lookback after the last alarm when the job starts long after its incident', async () => {
    const longAgo = new Date(Date.now() - 10 * 24 * 3_600_000);
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'orders-5xx', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Statistic: 'Sum', Period: 300, Threshold: 100 }],
    });
    cloudWatch.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm1', Timestamps: [], Values: [], StatusCode: 'Complete' }] });
    const lastAlarmAt = new Date(longAgo.getTime() + 20 * 60_000);
    const jobId = await createIncidentJob(prisma, [
      { name: 'orders-5xx', at: longAgo },
      { name: 'orders-5xx', at: lastAlarmAt },
    ]);

    await launchAndExtract(jobId);

    const metricQuery = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect({ start: metricQuery?.StartTime?.getTime(), end: metricQuery?.EndTime?.getTime() }).toEqual({
      start: longAgo.getTime() - 3 * 3_600_000,
      end: lastAlarmAt.getTime() + 3 * 3_600_000,
    });
  });

  it('says so when the series was truncated at the size limit', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'queue-depth', Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 60, Threshold: 10, ComparisonOperator: 'GreaterThanThreshold' }],
    });
    cloudWatch.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
    const many = 3000;
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'm1', Timestamps: Array.from({ length: many }, (_, i) => new Date(FIRST_ALARM_AT.getTime() + i * 1000)), Values: Array.from({ length: many }, (_, i) => i) }],
    });
    const jobId = await createIncidentJob(prisma, [{ name: 'queue-depth', at: FIRST_ALARM_AT }]);

    const { dir } = await launchAndExtract(jobId);

    const csv = await readFile(join(dir, 'incident', '01-queue-depth', 'metric.csv'), 'utf8');
    expect(csv.trimEnd().split('\n')).toHaveLength(1 + 2880);
    expect(await readFile(join(dir, 'TASK.md'), 'utf8')).toContain('(truncated: only the first 2880 points, the series goes on)');
  });

  it('gathers again before a retry, so the next attempt sees the metric up to its own start', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'orders-5xx', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Statistic: 'Sum', Period: 300, Threshold: 100, ComparisonOperator: 'GreaterThanThreshold' }],
    });
    cloudWatch.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
    const later = { at: new Date(FIRST_ALARM_AT.getTime() + 600_000), value: 150 };
    const series = (list: Array<{ at: Date; value: number }>): { MetricDataResults: Array<{ Id: string; Timestamps: Date[]; Values: number[] }> } => ({
      MetricDataResults: [{ Id: 'm1', Timestamps: list.map((point) => point.at), Values: list.map((point) => point.value) }],
    });
    cloudWatch.on(GetMetricDataCommand).resolvesOnce(series(points.slice(0, 6))).resolvesOnce(series([...points.slice(0, 6), later]));
    const jobId = await createIncidentJob(prisma, [{ name: 'orders-5xx', at: FIRST_ALARM_AT }]);

    const first = await launchAndExtract(jobId);
    const running = await prisma.worker.findUniqueOrThrow({ where: { id: first.workerId } });
    expect(await app?.get(AttemptService).endAttempt(running, 'exited with code 1 before shutdown', { retryable: true, event: 'exited' })).toBe('retrying');
    // RETRY_BASE_MS=1: the backoff is over by the time the next admission runs.
    const second = await launchAndExtract(jobId);

    expect(second.workerId).not.toBe(first.workerId);
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(2);
    const csv = (dir: string): Promise<string> => readFile(join(dir, 'incident', '01-orders-5xx', 'metric.csv'), 'utf8');
    expect(await csv(first.dir)).not.toContain(later.at.toISOString());
    expect(await csv(second.dir)).toContain(`${later.at.toISOString()},150\n`);
    expect(await readFile(join(second.dir, 'TASK.md'), 'utf8')).toContain(`peak 150 at ${later.at.toISOString()}`);
  });

  it('records a failure to gather on the attempt and launches the agent without the pack', async () => {
    cloudWatch.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudwatch:DescribeAlarms'), { name: 'AccessDenied' }));
    const jobId = await createIncidentJob(prisma, [{ name: 'orders-5xx', at: FIRST_ALARM_AT }]);

    const { dir, workerId } = await launchAndExtract(jobId);

    expect((await readdir(dir)).sort()).toEqual(['AGENTS.md', 'TASK.md']);
    expect(await readFile(join(dir, 'TASK.md'), 'utf8')).toBe('# Incident in 123456789012\n');
    const failed = await prisma.workerEvent.findFirst({ where: { workerId, type: 'incident-evidence-failed' } });
    expect(failed?.detail).toEqual({ reason: 'User is not authorized to perform: cloudwatch:DescribeAlarms' });
    expect(await prisma.worker.findUniqueOrThrow({ where: { id: workerId } })).toMatchObject({ state: 'launched' });
  });

  describe("with the route's Logs Insights query", () => {
    const QUERY = { logGroups: ['/ecs/orders', '/ecs/payments'], query: 'fields @timestamp, @message | filter @message like /ERROR/', limit: 300 };

    /** One metric alarm with the route's query stored on its job and incident, as the scheduler stores it. */
    async function incidentJobWithLogs(): Promise<string> {
      cloudWatch.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [{ AlarmName: 'orders-5xx', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Statistic: 'Sum', Period: 300, Threshold: 100, ComparisonOperator: 'GreaterThanThreshold' }],
      });
      cloudWatch.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
      cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm1', Timestamps: points.map((point) => point.at), Values: points.map((point) => point.value) }] });
      const jobId = await createIncidentJob(prisma, [{ name: 'orders-5xx', at: FIRST_ALARM_AT }]);
      // The scheduler stores the rule's query on the job and on its incident; the evidence reads the incident's.
      await prisma.job.update({ where: { id: jobId }, data: { incidentLogs: QUERY } });
      await prisma.incident.updateMany({ where: { jobId }, data: { incidentLogs: QUERY } });
      return jobId;
    }
    const row = (at: string, message: string): Array<{ field: string; value: string }> => [
      { field: '@timestamp', value: at },
      { field: '@message', value: message },
      { field: '@ptr', value: 'opaque' },
    ];

    it('runs it over the evidence window and puts the rows in incident/logs.md (escaped) and incident/logs.csv, linked from TASK.md', async () => {
      logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
      logs.on(GetQueryResultsCommand, { queryId: 'q-1' }).resolves({
        status: 'Complete',
        results: [row('2026-11-30 12:00:01.000', 'ERROR a | b <script>'), row('2026-11-30 12:00:02.000', 'ERROR trace\n  at x, "quoted"')],
      });
      const jobId = await incidentJobWithLogs();

      const { dir, workerId } = await launchAndExtract(jobId);

      const start = logs.commandCalls(StartQueryCommand)[0];
      const metric = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
      expect(start?.args[0].input).toMatchObject({ logGroupNames: QUERY.logGroups, queryString: QUERY.query, limit: 300 });
      // The same window as the metric, in the whole seconds Logs Insights takes, in the first alarm's region.
      expect(start?.args[0].input.startTime).toBe(Math.floor((metric?.StartTime?.getTime() ?? 0) / 1000));
      expect(start?.args[0].input.endTime).toBe(Math.ceil((metric?.EndTime?.getTime() ?? 0) / 1000));
      expect(await (start?.thisValue as CloudWatchLogsClient | undefined)?.config.region()).toBe('eu-west-1');

      const markdown = await readFile(join(dir, 'incident', 'logs.md'), 'utf8');
      expect(markdown).toContain('| @timestamp | @message |\n| --- | --- |\n');
      expect(markdown).toContain('| 2026-11-30 12:00:01.000 | ERROR a \\| b &lt;script&gt; |\n');
      expect(markdown).toContain('| 2026-11-30 12:00:02.000 | ERROR trace<br>  at x, "quoted" |\n');
      expect(markdown).not.toContain('opaque');
      expect(await readFile(join(dir, 'incident', 'logs.csv'), 'utf8')).toBe(
        '@timestamp,@message\n2026-11-30 12:00:01.000,ERROR a | b <script>\n2026-11-30 12:00:02.000,"ERROR trace\n  at x, ""quoted"""\n',
      );
      const task = await readFile(join(dir, 'TASK.md'), 'utf8');
      expect(task).toContain('- Logs Insights over 2 log group(s): 2 row(s). [table](incident/logs.md), [data](incident/logs.csv).');
      const events = await prisma.workerEvent.findMany({ where: { workerId }, select: { type: true, detail: true } });
      expect(events.filter((event) => event.type.startsWith('incident-evidence-'))).toEqual([{ type: 'incident-evidence-gathered', detail: { files: 6 } }]);
    });

    it('shows a bounded table and says what it cut, while logs.csv keeps every row', async () => {
      const many = 150;
      const long = `ERROR ${'x'.repeat(500)}`;
      logs.on(StartQueryCommand).resolves({ queryId: 'q-2' });
      logs.on(GetQueryResultsCommand).resolves({
        status: 'Complete',
        results: Array.from({ length: many }, (_, i) => row(`2026-11-30 12:00:${String(i % 60).padStart(2, '0')}.000`, i === 0 ? long : `ERROR ${i}`)),
      });
      const jobId = await incidentJobWithLogs();

      const { dir } = await launchAndExtract(jobId);

      const markdown = await readFile(join(dir, 'incident', 'logs.md'), 'utf8');
      const tableRows = markdown.split('\n').filter((line) => line.startsWith('| 2026-'));
      expect(tableRows).toHaveLength(MAX_LOGS_TABLE_ROWS);
      expect(tableRows[0]).toContain(`${long.slice(0, MAX_LOGS_TABLE_CELL_CHARS - 1)}… |`);
      expect(tableRows[0]).not.toContain(long);
      expect(markdown).toContain(`truncated: only the first ${MAX_LOGS_TABLE_ROWS} of ${many} rows are shown here; all of them are in logs.csv`);
      const csv = (await readFile(join(dir, 'incident', 'logs.csv'), 'utf8')).trimEnd().split('\n');
      expect(csv).toHaveLength(1 + many);
      expect(csv[1]).toContain(long);
      expect(await readFile(join(dir, 'TASK.md'), 'utf8')).toContain(
        `${many} row(s). [table](incident/logs.md), [data](incident/logs.csv) (truncated: only the first ${MAX_LOGS_TABLE_ROWS} of ${many} rows`,
      );
    });

    it('records a failed query on the attempt and still ships the rest of the pack', async () => {
      logs.on(StartQueryCommand).rejects(Object.assign(new Error('User is not authorized to perform: logs:StartQuery'), { name: 'AccessDeniedException' }));
      const jobId = await incidentJobWithLogs();

      const { dir, workerId } = await launchAndExtract(jobId);

      expect((await readdir(join(dir, 'incident'))).sort()).toEqual(['01-orders-5xx', 'README.md']);
      expect((await readdir(join(dir, 'incident', '01-orders-5xx'))).sort()).toEqual(['alarm.json', 'chart.png', 'metric.csv']);
      expect(await readFile(join(dir, 'TASK.md'), 'utf8')).toContain(
        '- Logs Insights: the query failed, so there are no logs in this pack (User is not authorized to perform: logs:StartQuery).',
      );
      const events = await prisma.workerEvent.findMany({ where: { workerId }, orderBy: { id: 'asc' }, select: { type: true, detail: true } });
      expect(events.filter((event) => event.type.startsWith('incident-evidence-'))).toEqual([
        { type: 'incident-evidence-gathered', detail: { files: 4 } },
        { type: 'incident-evidence-failed', detail: { part: 'logs', reason: 'User is not authorized to perform: logs:StartQuery' } },
      ]);
      expect(await prisma.worker.findUniqueOrThrow({ where: { id: workerId } })).toMatchObject({ state: 'launched' });
    });

    it('stops a query that runs past INCIDENT_LOGS_MAX_WAIT_SECONDS and launches without the logs', async () => {
      logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
      logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
      logs.on(StopQueryCommand).resolves({ success: true });
      const jobId = await incidentJobWithLogs();

      const { dir, workerId } = await launchAndExtract(jobId, { incidentLogsMaxWaitSeconds: 1 });

      expect(logs.commandCalls(StopQueryCommand).map((call) => call.args[0].input)).toEqual([{ queryId: 'q-slow' }]);
      expect(await readdir(join(dir, 'incident'))).not.toContain('logs.md');
      const failed = await prisma.workerEvent.findFirst({ where: { workerId, type: 'incident-evidence-failed' } });
      expect(failed?.detail).toEqual({ part: 'logs', reason: 'Logs Insights query q-slow did not complete within 1 s (status Running); stopped it' });
    });
  });
});
