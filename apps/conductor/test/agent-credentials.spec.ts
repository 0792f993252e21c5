import { readOnlySessionPolicy } from '@agent-conductor/aws';
import type { workerV1 } from '@agent-conductor/contracts';
import { WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import type { ConductorConfig } from '../src/config/env.validators';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/agent-conductor-investigation`;
const ACTIONS = ['cloudwatch:GetMetricData', 'logs:StartQuery', 'logs:GetQueryResults'];

/** Two sessions with values that can be searched for everywhere afterwards. */
const SESSIONS = [1, 2].map((n) => ({
  AccessKeyId: `ASIAAGENTSESSION000${n}`,
  SecretAccessKey: `agent-secret-key-${n}-${randomUUID()}`,
  SessionToken: `agent-session-token-${n}-${randomUUID()}`,
  Expiration: new Date(Date.now() + n * 900_000),
}));
const SECRETS = SESSIONS.flatMap((session) => [session.AccessKeyId, session.SecretAccessKey, session.SessionToken]);

async function expectCode(promise: Promise<unknown>, code: status): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error === undefined) throw new Error(`expected gRPC status ${status[code]}, the call succeeded`);
  expect(status[(error as Partial<ServiceError>).code ?? -1]).toBe(status[code]);
}

describe('AWS credentials for incident agents (real gRPC, Postgres; STS through aws-sdk-client-mock)', () => {
  const sts = mockClient(STSClient);
  const logLines: string[] = [];
  const capture: LoggerService = {
    log: (...args: unknown[]) => void logLines.push(args.map(String).join(' ')),
    warn: (...args: unknown[]) => void logLines.push(args.map(String).join(' ')),
    error: (...args: unknown[]) => void logLines.push(args.map(String).join(' ')),
    debug: (...args: unknown[]) => void logLines.push(args.map(String).join(' ')),
    verbose: (...args: unknown[]) => void logLines.push(args.map(String).join(' ')),
  };
  let prisma: PrismaClient;
  let config: ConductorConfig;
  let app: INestApplication;
  let client: TestWorkerClient;

  /** An incident job as the scheduler leaves it (with its first alarm's region), claimed, with a registered worker. */
  async function workerFor(job: { kind: 'incident' | 'ticket'; key?: string; investigation?: object }): Promise<{ workerId: string; jobId: string; credentials: workerV1.WorkerCredentials }> {
    const created = await createPendingJob(prisma, { kind: job.kind, key: job.key ?? (job.kind === 'incident' ? ACCOUNT : 'ENG-1') });
    await prisma.job.update({ where: { id: created.id }, data: { status: 'launching', attempts: 1, ...(job.investigation ? { investigation: job.investigation } : {}) } });
    if (job.kind === 'incident') {
      const at = new Date();
      const incident = await prisma.incident.create({ data: { account: created.key, firstEventAt: at, lastEventAt: at, alarmCount: 1, jobId: created.id } });
      const delivery = await prisma.delivery.create({ data: { sqsMessageId: randomUUID(), receivedAt: at, body: '{}', classification: 'alarm' } });
      await prisma.alarm.create({ data: { deliveryId: delivery.id, account: created.key, region: 'eu-central-1', alarmName: 'orders-5xx', state: 'ALARM', eventTime: at, incidentId: incident.id, metrics: [] } });
    }
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId: created.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: created.taskMarkdown, agentsMarkdown: '# Agents\n' });
    return { workerId: worker.id, jobId: created.id, credentials: { workerId: worker.id, token } };
  }

  async function handshake(worker: { credentials: workerV1.WorkerCredentials }): Promise<{ response: workerV1.HandshakeResponse; session: workerV1.WorkerCredentials }> {
    const response = await client.handshake({ credentials: worker.credentials, workerVersion: 'test', hostname: 'test-host' });
    return { response, session: { workerId: worker.credentials.workerId, token: response.sessionToken } };
  }

  async function eventTypes(workerId: string): Promise<string[]> {
    return (await prisma.workerEvent.findMany({ where: { workerId }, orderBy: { id: 'asc' }, select: { type: true } })).map((event) => event.type);
  }

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    config = await testConfig({ agentAwsSessionSeconds: 900 });
    app = await startConductorParts(config);
    app.useLogger(capture);
    client = new TestWorkerClient(config.grpcListenAddr);
  });

  afterAll(async () => {
    sts.restore();
    client.close();
    await app.close();
    await prisma.$disconnect();
  });

  beforeEach(() => sts.reset());

  it('hands a read-only incident job a session at handshake and a fresh one on refresh, assumed with the external id, the session policy and the configured duration', async () => {
    sts.on(AssumeRoleCommand).resolvesOnce({ Credentials: SESSIONS[0] }).resolvesOnce({ Credentials: SESSIONS[1] });
    const worker = await workerFor({ kind: 'incident', investigation: { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'read-only', actions: ACTIONS } });

    const { response, session } = await handshake(worker);
    expect(response.agentAwsCredentials).toEqual({
      accessKeyId: SESSIONS[0]?.AccessKeyId,
      secretAccessKey: SESSIONS[0]?.SecretAccessKey,
      sessionToken: SESSIONS[0]?.SessionToken,
      expiresAtUnixMs: SESSIONS[0]?.Expiration.getTime(),
      region: 'eu-central-1',
      account: ACCOUNT,
    });
    const refreshed = await client.refreshAgentCredentials({ credentials: session });
    expect(refreshed.agentAwsCredentials).toMatchObject({ accessKeyId: SESSIONS[1]?.AccessKeyId, sessionToken: SESSIONS[1]?.SessionToken, expiresAtUnixMs: SESSIONS[1]?.Expiration.getTime() });

    const calls = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    for (const input of calls) {
      expect(input).toEqual({ RoleArn: ROLE_ARN, ExternalId: 'ac-ext-7f3c', RoleSessionName: `agent-${worker.jobId}`, DurationSeconds: 900, Policy: readOnlySessionPolicy(ACTIONS) });
    }
    expect(await eventTypes(worker.workerId)).toEqual(expect.arrayContaining(['agent-credentials-issued']));
  });

  it('gives nothing to "none", to a ticket job and to a role outside the job\'s account, and refuses their refresh with PERMISSION_DENIED, recorded', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: SESSIONS[0] });
    const others = [
      await workerFor({ kind: 'incident', investigation: { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'none' } }),
      await workerFor({ kind: 'ticket', investigation: { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'read-only' } }),
      await workerFor({ kind: 'incident', key: '210987654321', investigation: { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'read-only' } }),
      await workerFor({ kind: 'incident' }),
    ];
    for (const worker of others) {
      const { response, session } = await handshake(worker);
      expect(response.agentAwsCredentials ?? null).toBeNull();
      await expectCode(client.refreshAgentCredentials({ credentials: session }), status.PERMISSION_DENIED);
      expect(await eventTypes(worker.workerId)).toContain('agent-credentials-refused');
    }
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('authenticates the refresh like every call', async () => {
    const worker = await workerFor({ kind: 'incident', investigation: { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'read-only' } });
    await expectCode(client.refreshAgentCredentials({ credentials: { workerId: worker.workerId, token: 'wrong' } }), status.UNAUTHENTICATED);
    // Before the handshake, the launch token buys nothing either.
    await expectCode(client.refreshAgentCredentials({ credentials: worker.credentials }), status.FAILED_PRECONDITION);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('starts the agent without credentials when AssumeRole fails, recorded; a failed refresh is UNAVAILABLE', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
    const worker = await workerFor({ kind: 'incident', investigation: { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'read-only' } });
    const { response, session } = await handshake(worker);
    expect(response.jobId).toBe(worker.jobId);
    expect(response.agentAwsCredentials ?? null).toBeNull();
    await expectCode(client.refreshAgentCredentials({ credentials: session }), status.UNAVAILABLE);
    const failures = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId, type: 'agent-credentials-failed' } });
    expect(failures.map((event) => event.detail)).toEqual([
      { reason: 'User is not authorized to perform: sts:AssumeRole' },
      { reason: 'User is not authorized to perform: sts:AssumeRole' },
    ]);
  });

  // Runs last: every session handed out above must have left no trace in any table or log line.
  it('stores no key, secret or session token in any row, and logs none', async () => {
    const tables = await prisma.$queryRaw<Array<{ tablename: string }>>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`;
    expect(tables.map((table) => table.tablename)).toEqual(expect.arrayContaining(['jobs', 'workers', 'worker_events']));
    const dump: string[] = [];
    for (const { tablename } of tables) {
      const rows = await prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT t::text AS "row" FROM "${tablename}" t`);
      dump.push(...rows.map((row) => row.row));
    }
    expect(dump.join('\n')).toContain('agent-credentials-issued');
    expect(logLines.join('\n')).toContain('no AWS credentials for the agent');
    for (const secret of SECRETS) {
      expect(dump.filter((row) => row.includes(secret))).toEqual([]);
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
