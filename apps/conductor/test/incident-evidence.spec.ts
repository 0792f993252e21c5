import { extractArchiveSafely } from '@agent-conductor/contracts';
import type { PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { INestApplication } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_HEIGHT, CHART_WIDTH } from '../src/incident-evidence/evidence-chart';
import { AttemptService } from '../src/launch/attempts.service';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startConductorParts } from './support/conductor-parts';
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
  let prisma: PrismaClient;
  let app: INestApplication | undefined;
  let scratch: string;

  const points = Array.from({ length: 12 }, (_, i) => ({ at: new Date(FIRST_ALARM_AT.getTime() + (i - 6) * 300_000), value: i < 6 ? 40 + i : 120 + i }));

  async function launchAndExtract(jobId: string): Promise<{ dir: string; workerId: string }> {
    if (!app) {
      const config = await testConfig({ incidentEvidence: true, workerLauncher: 'spool', retryBaseMs: 1, retryMaxMs: 1 });
      config.workerSpoolDir = join(config.runDir, 'spool');
      app = await startConductorParts(config);
    }
    const outcome = await app.get(JobLaunchService).launch(jobId);
    if (outcome.status !== 'launched') throw new Error(`expected a launch, got ${JSON.stringify(outcome)}`);
    const dir = join(scratch, outcome.workerId);
    await extractArchiveSafely(app.get(TaskArchiveStore).pathFor(outcome.workerId), dir);
    return { dir, workerId: outcome.workerId };
  }

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    cloudWatch.reset();
    scratch = await mkdtemp(join(tmpdir(), 'incident-evidence-'));
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await rm(scratch, { recursive: true, force: true });
  });

  afterAll(async () => {
    cloudWatch.restore();
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
});
