import type { PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { INestApplication } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchAndExtractTask, startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

const SHOP_A = '111111111111';
const SHOP_B = '222222222222';
const ROLE_A = { roleArn: `arn:aws:iam::${SHOP_A}:role/investigation`, externalId: 'ext-shop-a', agentAccess: 'none' };
const ROLE_B = { roleArn: `arn:aws:iam::${SHOP_B}:role/investigation`, externalId: 'ext-shop-b', agentAccess: 'read-only' };
const LOGS_A = { logGroups: ['/ecs/orders'], query: 'fields @timestamp, @message | filter @message like /orders/', limit: 100 };
const LOGS_B = { logGroups: ['/ecs/payments'], query: 'fields @timestamp, @message | filter @message like /payments/', limit: 100 };
/** Each account's session, as STS hands it out for that account's role only. */
const SESSION = {
  [SHOP_A]: { AccessKeyId: 'ASIASHOPASESSION0001', SecretAccessKey: 'secret-a', SessionToken: 'token-a' },
  [SHOP_B]: { AccessKeyId: 'ASIASHOPBSESSION0002', SecretAccessKey: 'secret-b', SessionToken: 'token-b' },
};
const A_FIRED_AT = new Date(Date.now() - 40 * 60_000);
const B_FIRED_AT = new Date(A_FIRED_AT.getTime() + 15 * 60_000);

interface IncidentRows {
  account: string;
  region: string;
  investigation: object | null;
  logs: object | null;
  alarms: Array<{ name: string; at: Date }>;
}

/**
 * A grouped job as the scheduler's ingest leaves it: the job keyed and routed by the first account (its rule's role
 * and query on the job too), and one incident per account, each with ITS account's role and query and its alarms.
 */
async function createGroupedJob(prisma: PrismaClient, incidents: IncidentRows[]): Promise<string> {
  const [own] = incidents;
  if (!own) throw new Error('a job needs an incident');
  const job = await createPendingJob(prisma, { kind: 'incident', key: own.account, taskMarkdown: '# Incident across AWS accounts\n' });
  await prisma.job.update({ where: { id: job.id }, data: { ...(own.investigation ? { investigation: own.investigation } : {}), ...(own.logs ? { incidentLogs: own.logs } : {}) } });
  for (const rows of incidents) {
    const times = rows.alarms.map((alarm) => alarm.at.getTime());
    const incident = await prisma.incident.create({
      data: {
        account: rows.account,
        firstEventAt: new Date(Math.min(...times)),
        lastEventAt: new Date(Math.max(...times)),
        alarmCount: rows.alarms.length,
        jobId: job.id,
        ...(rows.investigation ? { investigation: rows.investigation } : {}),
        ...(rows.logs ? { incidentLogs: rows.logs } : {}),
      },
    });
    for (const alarm of rows.alarms) {
      const delivery = await prisma.delivery.create({ data: { sqsMessageId: randomUUID(), receivedAt: new Date(), body: '{}', classification: 'alarm' } });
      await prisma.alarm.create({
        data: { deliveryId: delivery.id, account: rows.account, region: rows.region, alarmName: alarm.name, state: 'ALARM', eventTime: alarm.at, incidentId: incident.id, metrics: [] },
      });
    }
  }
  return job.id;
}

/** What a mocked call was made with: the session the SDK resolves for its client, as signing the request would. */
interface SignedCall {
  operation: string;
  subject: string;
  accessKeyId: string;
  region: string;
}

type AnyClient = CloudWatchClient | CloudWatchLogsClient;

describe('the incident evidence pack of a job with incidents of several accounts', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  const logs = mockClient(CloudWatchLogsClient);
  const sts = mockClient(STSClient);
  let prisma: PrismaClient;
  let app: INestApplication | undefined;
  let scratch: string;
  let signed: SignedCall[];
  let refusedRoles: Set<string>;

  /**
   * The mocks stand in for the HTTP request only: each first resolves its client's credentials, as the SDK's signer
   * does, so the client's own role is assumed (through the STS mock) and a refused role fails the call.
   */
  function answer<T>(operation: string, subject: (input: Record<string, unknown>) => string, output: T) {
    return async (input: Record<string, unknown>, getClient: () => AnyClient): Promise<T> => {
      const client = getClient();
      const credentials = await client.config.credentials();
      signed.push({ operation, subject: subject(input), accessKeyId: credentials.accessKeyId, region: await client.config.region() });
      return output;
    };
  }
  const alarmName = (input: Record<string, unknown>): string => String((input['AlarmNames'] as string[] | undefined)?.[0] ?? input['AlarmName'] ?? '');

  const points = Array.from({ length: 6 }, (_, i) => ({ at: new Date(A_FIRED_AT.getTime() + (i - 3) * 300_000), value: 50 + 20 * i }));

  function metricAlarm(name: string, threshold: number): object {
    return { AlarmName: name, Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Statistic: 'Sum', Period: 300, Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold' };
  }

  async function launchAndExtract(jobId: string): Promise<{ dir: string; workerId: string }> {
    if (!app) {
      const config = await testConfig({ incidentEvidence: true, workerLauncher: 'spool' });
      config.workerSpoolDir = join(config.runDir, 'spool');
      app = await startConductorParts(config);
    }
    return launchAndExtractTask(app, jobId, scratch);
  }

  async function evidenceEvents(workerId: string): Promise<Array<{ type: string; detail: unknown }>> {
    return prisma.workerEvent.findMany({ where: { workerId, type: { startsWith: 'incident-evidence-' } }, orderBy: { id: 'asc' }, select: { type: true, detail: true } });
  }

  const twoAccounts = (overrides: Partial<Record<'a' | 'b', Partial<IncidentRows>>> = {}): IncidentRows[] => [
    { account: SHOP_A, region: 'eu-west-1', investigation: ROLE_A, logs: LOGS_A, alarms: [{ name: 'orders-5xx', at: A_FIRED_AT }], ...overrides.a },
    {
      account: SHOP_B,
      region: 'us-east-1',
      investigation: ROLE_B,
      logs: LOGS_B,
      alarms: [
        { name: 'payments-5xx', at: B_FIRED_AT },
        { name: 'payments-latency', at: new Date(B_FIRED_AT.getTime() + 60_000) },
      ],
      ...overrides.b,
    },
  ];

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    cloudWatch.reset();
    logs.reset();
    sts.reset();
    scratch = await mkdtemp(join(tmpdir(), 'incident-evidence-accounts-'));
    signed = [];
    refusedRoles = new Set();
    const expiration = new Date(Date.now() + 3_600_000);
    // STS as IAM would answer: each role only with its own external id, so a session is proof of which role it is.
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn?: string; ExternalId?: string }) => {
      const role = [ROLE_A, ROLE_B].find((candidate) => candidate.roleArn === input.RoleArn && candidate.externalId === input.ExternalId);
      if (!role || refusedRoles.has(role.roleArn)) throw Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
      return { Credentials: { ...SESSION[role === ROLE_A ? SHOP_A : SHOP_B], Expiration: expiration } };
    });
    for (const [name, threshold] of [
      ['orders-5xx', 100],
      ['payments-5xx', 120],
      ['payments-latency', 2],
    ] as const) {
      cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: [name] }).callsFake(answer('DescribeAlarms', alarmName, { MetricAlarms: [metricAlarm(name, threshold)] }));
    }
    cloudWatch.on(DescribeAlarmHistoryCommand).callsFake(answer('DescribeAlarmHistory', alarmName, { AlarmHistoryItems: [] }));
    cloudWatch.on(GetMetricDataCommand).callsFake(
      answer('GetMetricData', () => '', { MetricDataResults: [{ Id: 'm1', Timestamps: points.map((point) => point.at), Values: points.map((point) => point.value) }] }),
    );
    const groups = (input: Record<string, unknown>): string => String((input['logGroupNames'] as string[] | undefined)?.join(',') ?? '');
    logs.on(StartQueryCommand, { logGroupNames: LOGS_A.logGroups }).callsFake(answer('StartQuery', groups, { queryId: 'q-a' }));
    logs.on(StartQueryCommand, { logGroupNames: LOGS_B.logGroups }).callsFake(answer('StartQuery', groups, { queryId: 'q-b' }));
    logs.on(GetQueryResultsCommand, { queryId: 'q-a' }).resolves({ status: 'Complete', results: [[{ field: '@message', value: 'orders ERROR' }]] });
    logs.on(GetQueryResultsCommand, { queryId: 'q-b' }).resolves({ status: 'Complete', results: [[{ field: '@message', value: 'payments ERROR' }]] });
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await rm(scratch, { recursive: true, force: true });
  });

  afterAll(async () => {
    cloudWatch.restore();
    logs.restore();
    sts.restore();
    await prisma.$disconnect();
  });

  it("puts each account's alarms and logs under incident/<account>/, summarized per account and overall", async () => {
    const jobId = await createGroupedJob(prisma, twoAccounts());

    const { dir, workerId } = await launchAndExtract(jobId);

    expect((await readdir(join(dir, 'incident'))).sort()).toEqual([SHOP_A, SHOP_B, 'README.md']);
    expect((await readdir(join(dir, 'incident', SHOP_A))).sort()).toEqual(['01-orders-5xx', 'logs.csv', 'logs.md']);
    expect((await readdir(join(dir, 'incident', SHOP_B))).sort()).toEqual(['01-payments-5xx', '02-payments-latency', 'logs.csv', 'logs.md']);
    expect((await readdir(join(dir, 'incident', SHOP_B, '01-payments-5xx'))).sort()).toEqual(['alarm.json', 'chart.png', 'metric.csv']);
    expect(await readFile(join(dir, 'incident', SHOP_A, 'logs.csv'), 'utf8')).toBe('@message\norders ERROR\n');
    expect(await readFile(join(dir, 'incident', SHOP_B, 'logs.csv'), 'utf8')).toBe('@message\npayments ERROR\n');

    const task = await readFile(join(dir, 'TASK.md'), 'utf8');
    expect(task).toContain(`Accounts: ${SHOP_A} (the job's own), ${SHOP_B}.`);
    expect(task).toContain(`First to fire overall: \`orders-5xx\` at ${A_FIRED_AT.toISOString()} (eu-west-1) in account ${SHOP_A}.`);
    const sectionB = task.slice(task.indexOf(`### Account ${SHOP_B}`));
    expect(sectionB).toContain(`- First to fire: \`payments-5xx\` at ${B_FIRED_AT.toISOString()} (us-east-1).`);
    expect(sectionB).toContain(`peak 150 at ${points[5]?.at.toISOString()} vs threshold 120 (GreaterThanThreshold)`);
    expect(sectionB).toContain(`[chart](incident/${SHOP_B}/01-payments-5xx/chart.png)`);
    expect(sectionB).toContain(`[table](incident/${SHOP_B}/logs.md)`);
    expect(task.slice(task.indexOf(`### Account ${SHOP_A}`), task.indexOf(`### Account ${SHOP_B}`))).toContain('vs threshold 100 (GreaterThanThreshold)');
    expect(await evidenceEvents(workerId)).toEqual([{ type: 'incident-evidence-gathered', detail: { files: 3 + 6 + 2 + 2 + 1 } }]);

    // The window spans both incidents: from the lookback before A's first alarm.
    const windowStart = cloudWatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input.StartTime?.getTime());
    expect(new Set(windowStart)).toEqual(new Set([A_FIRED_AT.getTime() - 3 * 3_600_000]));
  });

  it("reads each account only through its own role: B's calls carry B's session, assumed with B's external id", async () => {
    const jobId = await createGroupedJob(prisma, twoAccounts());

    await launchAndExtract(jobId);

    expect(
      sts
        .commandCalls(AssumeRoleCommand)
        .map((call) => [call.args[0].input.RoleArn, call.args[0].input.ExternalId])
        .sort(),
    ).toEqual([
      [ROLE_A.roleArn, ROLE_A.externalId],
      [ROLE_B.roleArn, ROLE_B.externalId],
    ]);
    const keyA = SESSION[SHOP_A].AccessKeyId;
    const keyB = SESSION[SHOP_B].AccessKeyId;
    const bySubject = (operation: string): Array<[string, string, string]> =>
      signed
        .filter((call) => call.operation === operation)
        .map((call): [string, string, string] => [call.subject, call.accessKeyId, call.region])
        .sort();
    for (const operation of ['DescribeAlarms', 'DescribeAlarmHistory']) {
      expect(bySubject(operation)).toEqual([
        ['orders-5xx', keyA, 'eu-west-1'],
        ['payments-5xx', keyB, 'us-east-1'],
        ['payments-latency', keyB, 'us-east-1'],
      ]);
    }
    expect(bySubject('GetMetricData')).toEqual([
      ['', keyA, 'eu-west-1'],
      ['', keyB, 'us-east-1'],
      ['', keyB, 'us-east-1'],
    ]);
    expect(bySubject('StartQuery')).toEqual([
      [LOGS_A.logGroups.join(','), keyA, 'eu-west-1'],
      [LOGS_B.logGroups.join(','), keyB, 'us-east-1'],
    ]);
  });

  it("keeps A's evidence when B's role cannot be assumed, says B's is missing and records why", async () => {
    refusedRoles.add(ROLE_B.roleArn);
    const jobId = await createGroupedJob(prisma, twoAccounts());

    const { dir, workerId } = await launchAndExtract(jobId);

    expect((await readdir(join(dir, 'incident'))).sort()).toEqual([SHOP_A, 'README.md']);
    expect((await readdir(join(dir, 'incident', SHOP_A))).sort()).toEqual(['01-orders-5xx', 'logs.csv', 'logs.md']);
    const task = await readFile(join(dir, 'TASK.md'), 'utf8');
    expect(task.slice(task.indexOf(`### Account ${SHOP_B}`))).toContain(
      '- Evidence missing: nothing of this account is in the pack (User is not authorized to perform: sts:AssumeRole).',
    );
    // What fired first is known from the alarms themselves, even for the account whose evidence is missing.
    expect(task).toContain(`- First to fire: \`payments-5xx\` at ${B_FIRED_AT.toISOString()} (us-east-1).`);
    expect(await evidenceEvents(workerId)).toEqual([
      { type: 'incident-evidence-gathered', detail: { files: 3 + 2 + 1 } },
      { type: 'incident-evidence-failed', detail: { part: 'account', account: SHOP_B, reason: 'User is not authorized to perform: sts:AssumeRole' } },
    ]);
    expect(await prisma.worker.findUniqueOrThrow({ where: { id: workerId } })).toMatchObject({ state: 'launched' });
  });

  it("refuses an incident whose role is in another account: nothing of it is read, through that role or any other", async () => {
    // A hand-edited row: B's incident naming A's role. Reading B's alarms through A's session would mix the accounts.
    const jobId = await createGroupedJob(prisma, twoAccounts({ b: { investigation: { ...ROLE_A, agentAccess: 'none' } } }));

    const { dir, workerId } = await launchAndExtract(jobId);

    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn)).toEqual([ROLE_A.roleArn]);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.AlarmNames)).toEqual([['orders-5xx']]);
    expect(await readdir(join(dir, 'incident'))).not.toContain(SHOP_B);
    const failed = (await evidenceEvents(workerId)).find((event) => event.type === 'incident-evidence-failed');
    expect(failed?.detail).toEqual({
      part: 'account',
      account: SHOP_B,
      reason: `investigation role of account ${SHOP_B} refused: must be a role in the route's account ${SHOP_B}, not ${SHOP_A}`,
    });
  });

  it("records a failed logs query with its account and keeps that account's alarms", async () => {
    logs.on(StartQueryCommand, { logGroupNames: LOGS_B.logGroups }).rejects(Object.assign(new Error('User is not authorized to perform: logs:StartQuery'), { name: 'AccessDeniedException' }));
    const jobId = await createGroupedJob(prisma, twoAccounts());

    const { dir, workerId } = await launchAndExtract(jobId);

    expect((await readdir(join(dir, 'incident', SHOP_B))).sort()).toEqual(['01-payments-5xx', '02-payments-latency']);
    expect(await evidenceEvents(workerId)).toContainEqual({
      type: 'incident-evidence-failed',
      detail: { part: 'logs', account: SHOP_B, reason: 'User is not authorized to perform: logs:StartQuery' },
    });
  });

  it('launches without a pack when no account could be read, and says why for each', async () => {
    refusedRoles.add(ROLE_A.roleArn).add(ROLE_B.roleArn);
    const jobId = await createGroupedJob(prisma, twoAccounts());

    const { dir, workerId } = await launchAndExtract(jobId);

    expect((await readdir(dir)).sort()).toEqual(['AGENTS.md', 'TASK.md']);
    expect(await evidenceEvents(workerId)).toEqual([
      { type: 'incident-evidence-failed', detail: { reason: `no account's evidence could be gathered: ${SHOP_A}: User is not authorized to perform: sts:AssumeRole; ${SHOP_B}: User is not authorized to perform: sts:AssumeRole` } },
    ]);
  });
});
