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

/** Another account of the job's routing group, with its own role, external id and actions. */
const OTHER_ACCOUNT = '210987654321';
const OTHER_ROLE_ARN = `arn:aws:iam::${OTHER_ACCOUNT}:role/agent-conductor-investigation`;
const OTHER_ACTIONS = ['logs:StartQuery', 'logs:GetQueryResults'];
const OTHER_GRANT = { roleArn: OTHER_ROLE_ARN, externalId: 'ac-ext-other-9d2e', agentAccess: 'read-only', actions: OTHER_ACTIONS };
const OWN_GRANT = { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'read-only', actions: ACTIONS };

/** Sessions with values that can be searched for everywhere afterwards: two of the job's own role, two of the other's. */
function session(label: string, n: number): { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: Date } {
  return {
    AccessKeyId: `ASIA${label.toUpperCase()}SESSION000${n}`,
    SecretAccessKey: `${label}-secret-key-${n}-${randomUUID()}`,
    SessionToken: `${label}-session-token-${n}-${randomUUID()}`,
    Expiration: new Date(Date.now() + n * 900_000),
  };
}
const SESSIONS = [session('agent', 1), session('agent', 2)];
const OTHER_SESSIONS = [session('other', 1), session('other', 2)];
const SECRETS = [...SESSIONS, ...OTHER_SESSIONS].flatMap((each) => [each.AccessKeyId, each.SecretAccessKey, each.SessionToken]);

const ACCESS_DENIED = Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });

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

  /** An incident of `account` on the job with one alarm in `region`, carrying its own account rule's role, as the scheduler records it. */
  async function addIncident(jobId: string, incident: { account: string; region: string; investigation?: object }): Promise<void> {
    const at = new Date();
    const row = await prisma.incident.create({
      data: { account: incident.account, firstEventAt: at, lastEventAt: at, alarmCount: 1, jobId, ...(incident.investigation ? { investigation: incident.investigation } : {}) },
    });
    const delivery = await prisma.delivery.create({ data: { sqsMessageId: randomUUID(), receivedAt: at, body: '{}', classification: 'alarm' } });
    await prisma.alarm.create({ data: { deliveryId: delivery.id, account: incident.account, region: incident.region, alarmName: `alarm-${incident.account}`, state: 'ALARM', eventTime: at, incidentId: row.id, metrics: [] } });
  }

  /**
   * An incident job as the scheduler leaves it (the route's role on the job and on its own incident, whose first alarm
   * is in eu-central-1), plus incidents of other accounts of its group attached to it, claimed, with a registered worker.
   */
  async function workerFor(job: {
    kind: 'incident' | 'ticket';
    key?: string;
    investigation?: object;
    attached?: Array<{ account: string; region: string; investigation?: object }>;
  }): Promise<{ workerId: string; jobId: string; credentials: workerV1.WorkerCredentials }> {
    const created = await createPendingJob(prisma, { kind: job.kind, key: job.key ?? (job.kind === 'incident' ? ACCOUNT : 'ENG-1') });
    await prisma.job.update({ where: { id: created.id }, data: { status: 'launching', attempts: 1, ...(job.investigation ? { investigation: job.investigation } : {}) } });
    if (job.kind === 'incident') {
      await addIncident(created.id, { account: created.key, region: 'eu-central-1', ...(job.investigation ? { investigation: job.investigation } : {}) });
      for (const attached of job.attached ?? []) await addIncident(created.id, attached);
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
      expect(response.otherAccountAwsCredentials).toEqual([]);
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
    sts.on(AssumeRoleCommand).rejects(ACCESS_DENIED);
    const worker = await workerFor({ kind: 'incident', investigation: { roleArn: ROLE_ARN, externalId: 'ac-ext-7f3c', agentAccess: 'read-only' } });
    const { response, session } = await handshake(worker);
    expect(response.jobId).toBe(worker.jobId);
    expect(response.agentAwsCredentials ?? null).toBeNull();
    await expectCode(client.refreshAgentCredentials({ credentials: session }), status.UNAVAILABLE);
    const failures = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId, type: 'agent-credentials-failed' } });
    expect(failures.map((event) => event.detail)).toEqual([
      { account: ACCOUNT, reason: 'User is not authorized to perform: sts:AssumeRole' },
      { account: ACCOUNT, reason: 'User is not authorized to perform: sts:AssumeRole' },
    ]);
  });

  describe('a job whose incidents span several accounts of a routing group', () => {
    function assumedRoles(): Array<string | undefined> {
      return sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn);
    }

    it("hands the agent each granting account's own session, through that account's role and policy, at handshake and on refresh", async () => {
      sts.on(AssumeRoleCommand, { RoleArn: ROLE_ARN }).resolvesOnce({ Credentials: SESSIONS[0] }).resolvesOnce({ Credentials: SESSIONS[1] });
      sts.on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN }).resolvesOnce({ Credentials: OTHER_SESSIONS[0] }).resolvesOnce({ Credentials: OTHER_SESSIONS[1] });
      const worker = await workerFor({ kind: 'incident', investigation: OWN_GRANT, attached: [{ account: OTHER_ACCOUNT, region: 'us-west-2', investigation: OTHER_GRANT }] });

      const { response, session } = await handshake(worker);
      expect(response.agentAwsCredentials).toMatchObject({ accessKeyId: SESSIONS[0]?.AccessKeyId, region: 'eu-central-1', account: ACCOUNT });
      expect(response.otherAccountAwsCredentials).toEqual([
        {
          accessKeyId: OTHER_SESSIONS[0]?.AccessKeyId,
          secretAccessKey: OTHER_SESSIONS[0]?.SecretAccessKey,
          sessionToken: OTHER_SESSIONS[0]?.SessionToken,
          expiresAtUnixMs: OTHER_SESSIONS[0]?.Expiration.getTime(),
          region: 'us-west-2',
          account: OTHER_ACCOUNT,
        },
      ]);
      const refreshed = await client.refreshAgentCredentials({ credentials: session });
      expect(refreshed.agentAwsCredentials).toMatchObject({ accessKeyId: SESSIONS[1]?.AccessKeyId, account: ACCOUNT });
      expect(refreshed.otherAccountAwsCredentials).toEqual([
        expect.objectContaining({ accessKeyId: OTHER_SESSIONS[1]?.AccessKeyId, sessionToken: OTHER_SESSIONS[1]?.SessionToken, region: 'us-west-2', account: OTHER_ACCOUNT }),
      ]);

      const calls = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
      const sessionName = `agent-${worker.jobId}`;
      const own = { RoleArn: ROLE_ARN, ExternalId: 'ac-ext-7f3c', RoleSessionName: sessionName, DurationSeconds: 900, Policy: readOnlySessionPolicy(ACTIONS) };
      const other = { RoleArn: OTHER_ROLE_ARN, ExternalId: 'ac-ext-other-9d2e', RoleSessionName: sessionName, DurationSeconds: 900, Policy: readOnlySessionPolicy(OTHER_ACTIONS) };
      expect(calls).toHaveLength(4);
      expect(calls).toEqual(expect.arrayContaining([own, other]));
      expect(calls.filter((input) => input.RoleArn === OTHER_ROLE_ARN)).toEqual([other, other]);
      const issued = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId, type: 'agent-credentials-issued' } });
      expect(issued.map((event) => (event.detail as { account?: string }).account).sort()).toEqual([OTHER_ACCOUNT, OTHER_ACCOUNT, ACCOUNT, ACCOUNT].sort());
    });

    it("gives nothing for an attached account whose role is another account's, or whose rule says none, or has no role", async () => {
      sts.on(AssumeRoleCommand).resolves({ Credentials: SESSIONS[0] });
      const worker = await workerFor({
        kind: 'incident',
        investigation: OWN_GRANT,
        attached: [
          // Account 1111…'s rule naming the job's own account's role: it must never buy the agent a session of that role.
          { account: '111111111111', region: 'us-east-1', investigation: { ...OWN_GRANT, roleArn: ROLE_ARN } },
          { account: '222222222222', region: 'us-east-1', investigation: { ...OTHER_GRANT, roleArn: 'arn:aws:iam::222222222222:role/investigation', agentAccess: 'none' } },
          { account: '333333333333', region: 'us-east-1' },
          // A second incident of the job's own account carries no second session.
          { account: ACCOUNT, region: 'us-east-1', investigation: OWN_GRANT },
        ],
      });
      const { response } = await handshake(worker);
      expect(response.agentAwsCredentials).toMatchObject({ account: ACCOUNT });
      expect(response.otherAccountAwsCredentials).toEqual([]);
      expect(assumedRoles()).toEqual([ROLE_ARN]);
    });

    it("refreshes the other account's session when the job's own account grants none, instead of refusing", async () => {
      sts.on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN }).resolvesOnce({ Credentials: OTHER_SESSIONS[0] }).resolvesOnce({ Credentials: OTHER_SESSIONS[1] });
      const worker = await workerFor({ kind: 'incident', investigation: { ...OWN_GRANT, agentAccess: 'none' }, attached: [{ account: OTHER_ACCOUNT, region: 'us-west-2', investigation: OTHER_GRANT }] });
      const { response, session } = await handshake(worker);
      expect(response.agentAwsCredentials ?? null).toBeNull();
      expect(response.otherAccountAwsCredentials.map((each) => each.accessKeyId)).toEqual([OTHER_SESSIONS[0]?.AccessKeyId]);
      const refreshed = await client.refreshAgentCredentials({ credentials: session });
      expect(refreshed.agentAwsCredentials ?? null).toBeNull();
      expect(refreshed.otherAccountAwsCredentials.map((each) => each.accessKeyId)).toEqual([OTHER_SESSIONS[1]?.AccessKeyId]);
      expect(assumedRoles()).toEqual([OTHER_ROLE_ARN, OTHER_ROLE_ARN]);
      expect(await eventTypes(worker.workerId)).not.toContain('agent-credentials-refused');
    });

    it("records one account's failed AssumeRole, naming it, and still hands over the other's; UNAVAILABLE only when every account failed", async () => {
      sts.on(AssumeRoleCommand, { RoleArn: ROLE_ARN }).resolves({ Credentials: SESSIONS[0] });
      sts.on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN }).rejects(ACCESS_DENIED);
      const worker = await workerFor({ kind: 'incident', investigation: OWN_GRANT, attached: [{ account: OTHER_ACCOUNT, region: 'us-west-2', investigation: OTHER_GRANT }] });
      const { response, session } = await handshake(worker);
      expect(response.agentAwsCredentials).toMatchObject({ accessKeyId: SESSIONS[0]?.AccessKeyId, account: ACCOUNT });
      expect(response.otherAccountAwsCredentials).toEqual([]);
      const refreshed = await client.refreshAgentCredentials({ credentials: session });
      expect(refreshed.agentAwsCredentials).toMatchObject({ account: ACCOUNT });
      expect(refreshed.otherAccountAwsCredentials).toEqual([]);
      const failures = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId, type: 'agent-credentials-failed' } });
      expect(failures.map((event) => event.detail)).toEqual([
        { account: OTHER_ACCOUNT, reason: 'User is not authorized to perform: sts:AssumeRole' },
        { account: OTHER_ACCOUNT, reason: 'User is not authorized to perform: sts:AssumeRole' },
      ]);

      // The other way round: the job's own role fails, the other account's session still arrives.
      sts.reset();
      sts.on(AssumeRoleCommand, { RoleArn: ROLE_ARN }).rejects(ACCESS_DENIED);
      sts.on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN }).resolves({ Credentials: OTHER_SESSIONS[0] });
      const second = await workerFor({ kind: 'incident', investigation: OWN_GRANT, attached: [{ account: OTHER_ACCOUNT, region: 'us-west-2', investigation: OTHER_GRANT }] });
      const secondHandshake = await handshake(second);
      expect(secondHandshake.response.agentAwsCredentials ?? null).toBeNull();
      expect(secondHandshake.response.otherAccountAwsCredentials.map((each) => each.account)).toEqual([OTHER_ACCOUNT]);

      // Every account failing leaves nothing to hand over: the refresh says so.
      sts.reset();
      sts.on(AssumeRoleCommand).rejects(ACCESS_DENIED);
      await expectCode(client.refreshAgentCredentials({ credentials: secondHandshake.session }), status.UNAVAILABLE);
    });
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
    // The other accounts' sessions were handed out above too, so their absence below means something.
    expect(dump.filter((row) => row.includes('agent-credentials-issued') && row.includes(OTHER_ACCOUNT))).not.toEqual([]);
    expect(logLines.join('\n')).toContain('no AWS credentials for the agent');
    for (const secret of SECRETS) {
      expect(dump.filter((row) => row.includes(secret))).toEqual([]);
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });
});
