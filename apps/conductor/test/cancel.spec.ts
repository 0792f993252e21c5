import { ensureSampleRemote, WORKSPACE } from '@agent-conductor/dev-stack';
import { workerV1 } from '@agent-conductor/contracts';
import { AdmissionRepository, WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import { ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { INestApplication } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packDirectory, readFileAsChunks } from '@agent-conductor/contracts';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import { loadConductorConfig, type ConductorConfig } from '../src/config/env.validators';
import { CancelEnforcerService } from '../src/job-actions/cancel-enforcer.service';
import { JobActionsModule } from '../src/job-actions/job-actions.module';
import { JobActionsService } from '../src/job-actions/job-actions.service';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startConductorParts } from './support/conductor-parts';
import { createClaimedJob, createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const node = process.execPath;
const WORKER_MAIN = join(WORKSPACE, 'dist/apps/worker/main.js');
const DEMO_AGENT = join(WORKSPACE, 'tools/demo-agent/demo-agent.sh');
const OPERATOR = 'cli:tester';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('cancelling jobs (real Postgres, gRPC, worker processes)', () => {
  let prisma: PrismaClient;
  let app: INestApplication | undefined;

  async function start(overrides: Partial<ConductorConfig>): Promise<{ app: INestApplication; config: ConductorConfig }> {
    const config = await testConfig({ orphanCheckIntervalMs: 100, ...overrides });
    // Run as root, the worker starts its agent as another uid, which must be able to pass through to its work dir.
    await chmod(dirname(config.workerWorkRoot), 0o711);
    app = await startConductorParts(config, [JobActionsModule]);
    return { app, config };
  }

  const jobRow = (id: string) => prisma.job.findUniqueOrThrow({ where: { id }, include: { workers: true } });
  const cancel = (running: INestApplication, jobId: string) => running.get(JobActionsService).apply('cancel', { jobId, actor: OPERATOR, reason: 'test' });

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await prisma.$disconnect();
  });

  it('stops a running worker while its agent sleeps: the job ends cancelled, the worker pid is gone, the claim is free', async () => {
    if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run nx build worker`);
    const { app } = await start({
      workerCommand: `${node} ${WORKER_MAIN}`,
      workerAgentCommand: `DEMO_AGENT_SLEEP_SECONDS=300 bash ${DEMO_AGENT}`,
      workerHeartbeatIntervalMs: 200,
      // Long enough that only the worker's own stop can end the job in this test.
      cancelGraceMs: 600_000,
    });
    const remote = join(await mkdtemp(join(tmpdir(), 'cancel-remote-')), 'sample-app.git');
    await ensureSampleRemote(remote);
    const job = await createPendingJob(prisma, { key: 'SLOW-1', repository: remote, taskMarkdown: '# SLOW-1: take your time\n\nSleep first.\n' });
    const launched = await app.get(JobLaunchService).launch(job.id);
    if (launched.status !== 'launched') throw new Error(`not launched: ${JSON.stringify(launched)}`);
    const pid = Number(launched.handle);

    await eventually(
      'the agent to be running',
      async () =>
        (await prisma.workerEvent.findFirst({
          where: { workerId: launched.workerId, type: 'heartbeat', detail: { path: ['phase'], equals: 'WORKER_PHASE_AGENT_RUNNING' } },
        })) ?? undefined,
      90_000,
    );
    expect(alive(pid)).toBe(true);

    const cancelledAt = Date.now();
    expect(await cancel(app, job.id)).toMatchObject({ outcome: 'applied', job: { status: 'running', cancelRequestedAt: expect.any(Date) } });
    const ended = await eventually('the job to end', async () => {
      const row = await jobRow(job.id);
      return row.status === 'running' ? undefined : row;
    }, 60_000);
    // The agent would have slept five minutes; the stop ended it long before.
    expect(Date.now() - cancelledAt).toBeLessThan(60_000);
    expect(ended).toMatchObject({ status: 'cancelled', attempts: 1, error: expect.stringContaining('the conductor asked this worker to stop') });
    expect(ended.workers).toEqual([expect.objectContaining({ id: launched.workerId, state: 'ended', endReason: 'shutdown: failed' })]);
    expect(await app.get(WorkerRepository).hasEvent(launched.workerId, 'results-uploaded')).toBe(true);
    await eventually('the worker process to be gone', async () => (alive(pid) ? undefined : true), 15_000);
    expect(await app.get(AdmissionRepository).activeByClaim()).toEqual(new Map());
    expect(await prisma.jobAction.findMany({ where: { jobId: job.id }, select: { action: true, actor: true } })).toEqual([{ action: 'cancel', actor: OPERATOR }]);
  }, 180_000);

  it('kills a worker that does not stop within CANCEL_GRACE_SECONDS (cancelled during launch, before its handshake)', async () => {
    const { app } = await start({ workerCommand: `${node} -e "setTimeout(() => {}, 120000)"`, cancelGraceMs: 300 });
    const job = await createPendingJob(prisma);
    const launched = await app.get(JobLaunchService).launch(job.id);
    if (launched.status !== 'launched') throw new Error(`not launched: ${JSON.stringify(launched)}`);
    const pid = Number(launched.handle);
    expect(await cancel(app, job.id)).toMatchObject({ outcome: 'applied', job: { status: 'launching' } });

    const ended = await eventually('the job to end', async () => {
      const row = await jobRow(job.id);
      return row.status === 'launching' ? undefined : row;
    });
    expect(ended).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(ended.error).toMatch(/had not stopped after the 0.3 s grace period and was killed/);
    expect(ended.workers[0]).toMatchObject({ state: 'ended' });
    await eventually('the worker process to be gone', async () => (alive(pid) ? undefined : true));
    expect(await app.get(AdmissionRepository).activeByClaim()).toEqual(new Map());
    // No retry: the job stays cancelled with its one attempt.
    await app.get(JobLaunchService).admit();
    expect(await jobRow(job.id)).toMatchObject({ status: 'cancelled', attempts: 1 });
  });

  it('launches nothing for a job cancelled between its admission and its launch', async () => {
    const marker = join(await mkdtemp(join(tmpdir(), 'cancel-launch-')), 'started');
    const { app } = await start({ workerCommand: `touch ${marker}`, cancelGraceMs: 600_000 });
    const job = await createPendingJob(prisma);
    // The operator's cancel lands at the moment the task archive is built: after admission claimed the job, before the launcher runs.
    await prisma.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION cancel_spec_cancel_on_archive() RETURNS trigger AS $$
      BEGIN
        IF NEW."type" = 'task-archive-built' THEN
          UPDATE "jobs" SET "cancel_requested_at" = now() WHERE "id" = (SELECT "job_id" FROM "workers" WHERE "id" = NEW."worker_id");
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await prisma.$executeRawUnsafe(
      'CREATE TRIGGER cancel_spec_cancel_on_archive AFTER INSERT ON "worker_events" FOR EACH ROW EXECUTE FUNCTION cancel_spec_cancel_on_archive()',
    );
    try {
      const outcome = await app.get(JobLaunchService).launch(job.id);
      expect(outcome).toMatchObject({ status: 'cancelled' });
    } finally {
      await prisma.$executeRawUnsafe('DROP TRIGGER IF EXISTS cancel_spec_cancel_on_archive ON "worker_events"');
      await prisma.$executeRawUnsafe('DROP FUNCTION IF EXISTS cancel_spec_cancel_on_archive()');
    }
    const ended = await jobRow(job.id);
    expect(ended).toMatchObject({ status: 'cancelled', attempts: 1, error: 'cancelled by an operator before its worker was launched' });
    expect(ended.workers).toEqual([expect.objectContaining({ state: 'ended', launcherHandle: null })]);
    expect(await app.get(WorkerRepository).hasEvent(ended.workers[0]?.id ?? '', 'cancelled-before-launch')).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('ends a cancelled job that was claimed but never got a worker', async () => {
    const { app } = await start({ cancelGraceMs: 0, orphanCheckIntervalMs: 3_600_000 });
    const job = await createClaimedJob(prisma);
    await cancel(app, job.id);
    expect(await app.get(CancelEnforcerService).enforce()).toBe(1);
    expect(await jobRow(job.id)).toMatchObject({ status: 'cancelled', error: 'cancelled by an operator; no worker was running for it' });
  });

  it('cancelled during the upload: the heartbeat answers stop_requested, and the Shutdown ends the job cancelled with what it uploaded', async () => {
    const { app, config } = await start({ cancelGraceMs: 600_000 });
    const job = await createClaimedJob(prisma);
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
    const client = new TestWorkerClient(config.grpcListenAddr);
    try {
      const { sessionToken } = await client.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'test-host' });
      const credentials = { workerId: worker.id, token: sessionToken };
      const beat = () => client.heartbeat({ credentials, phase: workerV1.WorkerPhase.WORKER_PHASE_UPLOADING });
      expect(await beat()).toEqual({ stopRequested: false });

      const dir = await mkdtemp(join(tmpdir(), 'cancel-upload-'));
      await mkdir(join(dir, 'agent-meta'));
      await writeFile(join(dir, 'agent-meta', 'ending-report.md'), '# Partial work\n');
      const archive = join(dir, '..', `${worker.id}.tar.gz`);
      const { bytes, sha256 } = await packDirectory(dir, archive);
      const upload = client.openUpload();
      upload.send({ header: { credentials, totalSize: bytes, sha256 } });

      expect(await cancel(app, job.id)).toMatchObject({ outcome: 'applied', job: { status: 'running' } });
      expect(await beat()).toEqual({ stopRequested: true });

      for await (const chunk of readFileAsChunks(archive)) upload.send({ chunk });
      await upload.finish();
      await client.shutdown({
        credentials,
        outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED,
        result: undefined,
        error: 'stopped: the conductor asked this worker to stop (the job was cancelled)',
      });
    } finally {
      client.close();
    }
    const ended = await jobRow(job.id);
    expect(ended).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(ended.workers[0]).toMatchObject({ state: 'ended', endReason: 'shutdown: failed' });
    expect(await app.get(WorkerRepository).hasEvent(worker.id, 'results-uploaded')).toBe(true);
    expect(await app.get(AdmissionRepository).activeByClaim()).toEqual(new Map());
  });

  describe('on ECS', () => {
    const ecs = mockClient(ECSClient);
    const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/agents/feedfacefeedface';

    beforeEach(() => ecs.reset());
    afterAll(() => ecs.restore());

    it('stops the task with StopTask once the grace period is over', async () => {
      ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
      ecs.on(StopTaskCommand).resolves({});
      const fromEnv = loadConductorConfig({
        NODE_ENV: 'test',
        WORKER_LAUNCHER: 'ecs',
        ECS_CLUSTER: 'agents',
        ECS_TASK_DEFINITION: 'agent-conductor-worker:7',
        ECS_CONTAINER_NAME: 'worker',
        ECS_SUBNETS: 'subnet-a',
        ECS_SECURITY_GROUPS: 'sg-workers',
      });
      const { app } = await start({
        workerLauncher: 'ecs',
        ...(fromEnv.ecs ? { ecs: fromEnv.ecs } : {}),
        cancelGraceMs: 0,
        orphanCheckIntervalMs: 3_600_000,
      });
      const job = await createPendingJob(prisma);
      expect(await app.get(JobLaunchService).launch(job.id)).toMatchObject({ status: 'launched', handle: TASK_ARN });
      await cancel(app, job.id);
      expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(0);

      expect(await app.get(CancelEnforcerService).enforce()).toBe(1);
      const stops = ecs.commandCalls(StopTaskCommand);
      expect(stops).toHaveLength(1);
      expect(stops[0]?.args[0].input).toMatchObject({ cluster: 'agents', task: TASK_ARN, reason: expect.stringContaining('cancelled by an operator') });
      expect(await jobRow(job.id)).toMatchObject({ status: 'cancelled', workers: [expect.objectContaining({ state: 'ended' })] });
      // A second pass finds nothing left to do.
      expect(await app.get(CancelEnforcerService).enforce()).toBe(0);
      expect(ecs.commandCalls(StopTaskCommand)).toHaveLength(1);
    });
  });
});
