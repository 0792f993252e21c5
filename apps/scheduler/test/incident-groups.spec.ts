import { AdmissionRepository, createPrismaClient, PrismaClient } from '@agent-conductor/db';
import { DEFAULT_INCIDENT_POLICY } from '@agent-conductor/scheduling';
import { freePort, resetDatabase } from '@agent-conductor/testing';
import { INestApplication } from '@nestjs/common';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapScheduler } from '../src/bootstrap';
import { loadSchedulerConfig } from '../src/config/env.validators';
import { SchedulerTestClient } from './scheduler-client';

function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: run through `nx test scheduler` (libs/testing global setup)');
  return url;
}

const SHOP_A = '111111111111';
const SHOP_B = '222222222222';
const BILLING = '333333333333';
const SOLO = '444444444444';
const LEDGER_REPLICA = '555555555555';
const ORDERS = 'https://github.com/acme/orders.git';
const SHARED = 'https://github.com/acme/shared-protos.git';
const PAYMENTS = 'https://github.com/acme/payments.git';
const LEDGER = 'https://github.com/acme/ledger.git';

/** Each account of the `shop` group has its own investigation role and Logs Insights query. */
const INVESTIGATION_A = { roleArn: `arn:aws:iam::${SHOP_A}:role/investigation`, externalId: 'ext-shop-a', agentAccess: 'read-only' };
const INVESTIGATION_B = { roleArn: `arn:aws:iam::${SHOP_B}:role/investigation`, externalId: 'ext-shop-b', agentAccess: 'none' };
const LOGS_A = { logGroups: ['/ecs/orders'], query: 'fields @message | filter @message like /orders/', limit: 50 };
const LOGS_B = { logGroups: ['/ecs/payments'], query: 'fields @message | filter @message like /payments/', limit: 80 };

const ROUTING = {
  default: { repository: 'https://github.com/acme/platform.git' },
  incidents: [
    {
      account: SHOP_A,
      group: 'shop',
      claim: 'shop-orders',
      repositories: [
        { repository: ORDERS, sparsePaths: ['services/orders'] },
        { repository: SHARED, name: 'protos' },
      ],
      investigation: INVESTIGATION_A,
      logs: LOGS_A,
    },
    {
      account: SHOP_B,
      group: 'shop',
      repositories: [{ repository: PAYMENTS, branch: 'develop' }, { repository: SHARED }],
      investigation: INVESTIGATION_B,
      logs: LOGS_B,
    },
    { account: BILLING, group: 'billing', repository: LEDGER },
    { account: LEDGER_REPLICA, group: 'billing', repository: LEDGER, branch: 'replica' },
    { account: SOLO, repositories: [{ repository: ORDERS }, { repository: PAYMENTS, name: 'pay' }] },
  ],
};

const T0 = Date.parse('2026-05-12T20:00:00.000Z');
const MINUTE = 60_000;

/** The EventBridge fixture for an account, alarm name and event time (minutes after T0). */
function alarmBody(account: string, name: string, minutes: number): string {
  const event = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'cloudwatch-alarm.eventbridge.json'), 'utf8')) as {
    account: string;
    time: string;
    resources: string[];
    detail: { alarmName: string };
  };
  event.account = account;
  event.time = new Date(T0 + minutes * MINUTE).toISOString();
  event.detail.alarmName = name;
  event.resources = [`arn:aws:cloudwatch:us-west-2:${account}:alarm:${name}`];
  return JSON.stringify(event);
}

describe('several repositories and accounts per incident job (real gRPC and Postgres)', () => {
  let app: INestApplication;
  let client: SchedulerTestClient;
  let prisma: PrismaClient;
  let counter = 0;

  const submit = (account: string, name: string, minutes: number, messageId = `group-${(counter += 1)}`) =>
    client.submitMessage({ messageId, body: alarmBody(account, name, minutes), receivedAt: new Date(T0 + minutes * MINUTE).toISOString() });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'incident-groups-'));
    writeFileSync(join(dir, 'routing.json'), JSON.stringify(ROUTING));
    const config = {
      ...loadSchedulerConfig({ ROUTING_FILE: join(dir, 'routing.json') }, dir),
      databaseUrl: databaseUrl(),
      dbConnectTimeoutMs: 0,
      grpcListenAddr: `127.0.0.1:${await freePort()}`,
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
    };
    app = await bootstrapScheduler(config, { logger: false });
    client = new SchedulerTestClient(config.grpcListenAddr);
    prisma = createPrismaClient(databaseUrl());
  });
  beforeEach(async () => {
    await resetDatabase(prisma);
  });
  afterAll(async () => {
    client?.close();
    await prisma?.$disconnect();
    await app?.close();
  });

  it("stores a route's repositories on its incident job, the first as the job's repository and claim", async () => {
    const response = await submit(SOLO, 'solo-5xx', 0);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: response.decisions[0]?.jobId } });
    expect(job).toMatchObject({ repository: ORDERS, branch: 'main', sparsePaths: [], claimKey: ORDERS });
    expect(job.repositories).toEqual([
      { url: ORDERS, branch: 'main', name: 'orders', sparsePaths: [] },
      { url: PAYMENTS, branch: 'main', name: 'pay', sparsePaths: [] },
    ]);
  });

  it('attaches an incident of another account of the group to the pending job: one job, both repositories and alarms', async () => {
    const first = await submit(SHOP_A, 'orders-5xx', 0);
    const jobId = first.decisions[0]?.jobId ?? '';
    const attached = await submit(SHOP_B, 'payments-latency', 45, 'attach-b');
    expect(attached.decisions).toEqual([]);
    // B's later alarm joins B's own incident (per-account rules), which is on A's job.
    expect((await submit(SHOP_B, 'payments-errors', 70)).decisions).toEqual([]);

    expect(await prisma.job.count()).toBe(1);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { incidents: { orderBy: { createdAt: 'asc' } } } });
    expect(job).toMatchObject({ key: SHOP_A, repository: ORDERS, claimKey: 'shop-orders', status: 'pending' });
    expect(job.repositories).toEqual([
      { url: ORDERS, branch: 'main', name: 'orders', sparsePaths: ['services/orders'] },
      { url: SHARED, branch: 'main', name: 'protos', sparsePaths: [] },
      { url: PAYMENTS, branch: 'develop', name: 'payments', sparsePaths: [] },
    ]);
    expect(job.incidents.map((incident) => [incident.account, incident.alarmCount])).toEqual([
      [SHOP_A, 1],
      [SHOP_B, 2],
    ]);
    expect(job.taskMarkdown).toContain(`# Incident across AWS accounts ${SHOP_A}, ${SHOP_B}`);
    for (const name of ['orders-5xx', 'payments-latency', 'payments-errors']) expect(job.taskMarkdown).toContain(name);
    expect(job.taskMarkdown).toContain('- **Alarms so far:** 3');
    // The job keeps its own account's route; each incident keeps ITS account's role and query, so the evidence and
    // the agent's access for B go through B's role, never A's.
    expect({ investigation: job.investigation, logs: job.incidentLogs }).toEqual({ investigation: INVESTIGATION_A, logs: LOGS_A });
    expect(job.incidents.map((incident) => ({ account: incident.account, investigation: incident.investigation, logs: incident.incidentLogs }))).toEqual([
      { account: SHOP_A, investigation: INVESTIGATION_A, logs: LOGS_A },
      { account: SHOP_B, investigation: INVESTIGATION_B, logs: LOGS_B },
    ]);

    // Redelivery spawns nothing and changes nothing.
    const again = await submit(SHOP_B, 'payments-latency', 45, 'attach-b');
    expect(again).toMatchObject({ duplicate: true, decisions: [] });
    expect(await prisma.job.count()).toBe(1);
    expect(await prisma.incident.count()).toBe(2);
  });

  it('keeps a plain one-repository job when both accounts route to the same repository', async () => {
    const first = await submit(BILLING, 'ledger-lag', 0);
    expect((await submit(LEDGER_REPLICA, 'replica-lag', 5)).decisions).toEqual([]);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: first.decisions[0]?.jobId }, include: { incidents: true } });
    expect(job.incidents.map((incident) => incident.account).sort()).toEqual([BILLING, LEDGER_REPLICA]);
    // No one-entry list: the worker clones into repo/ and the agent is not asked for branches.json.
    expect(job).toMatchObject({ repository: LEDGER, branch: 'main', repositories: null });
  });

  it('gives the account its own job once the first job has launched', async () => {
    await submit(SHOP_A, 'orders-5xx', 0);
    const admitted = await new AdmissionRepository(prisma).admit({ maxActiveJobs: 10, claimMaxActiveJobs: 10 });
    expect(admitted.admitted).toHaveLength(1);
    const own = await submit(SHOP_B, 'payments-latency', 45);
    expect(own.decisions).toEqual([expect.objectContaining({ key: SHOP_B, repository: PAYMENTS })]);
    expect(await prisma.job.count()).toBe(2);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: own.decisions[0]?.jobId } });
    expect(job.taskMarkdown).toContain(`# Incident in AWS account ${SHOP_B}`);
  });

  it('keeps different groups, and alarms beyond the window, on their own jobs', async () => {
    await submit(SHOP_A, 'orders-5xx', 0);
    expect((await submit(BILLING, 'ledger-lag', 10)).decisions).toHaveLength(1);
    expect((await submit(SHOP_B, 'payments-latency', 61)).decisions).toHaveLength(1);
    expect(await prisma.job.count()).toBe(3);
    expect(await prisma.incident.groupBy({ by: ['jobId'], _count: { _all: true } })).toHaveLength(3);
  });

  it('decides a batch holding both accounts of a group in their order (one lane per group)', async () => {
    const response = await client.submitMessages({
      messages: [
        { messageId: 'batch-a', body: alarmBody(SHOP_A, 'orders-5xx', 0), receivedAt: new Date(T0).toISOString() },
        { messageId: 'batch-b', body: alarmBody(SHOP_B, 'payments-latency', 5), receivedAt: new Date(T0 + 5 * MINUTE).toISOString() },
        { messageId: 'batch-a2', body: alarmBody(SHOP_A, 'orders-latency', 6), receivedAt: new Date(T0 + 6 * MINUTE).toISOString() },
      ],
    });
    expect(response.outcomes.map((outcome) => outcome.response?.decisions.length)).toEqual([1, 0, 0]);
    expect(await prisma.job.count()).toBe(1);
    const job = await prisma.job.findFirstOrThrow();
    for (const name of ['orders-5xx', 'payments-latency', 'orders-latency']) expect(job.taskMarkdown).toContain(name);
  });
});
