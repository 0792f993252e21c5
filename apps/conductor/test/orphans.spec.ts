import { WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import { Logger, type INestApplication } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import type { ConductorConfig } from '../src/config/env.validators';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { OrphanMonitorService } from '../src/orphans/orphan-monitor.service';
import { startDurableConductor } from './support/durable-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const node = process.execPath;

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('orphan handling', () => {
  let prisma: PrismaClient;
  let app: INestApplication | undefined;
  let client: TestWorkerClient | undefined;
  const strays: ChildProcess[] = [];

  async function start(overrides: Partial<ConductorConfig>): Promise<{ app: INestApplication; config: ConductorConfig }> {
    const config = await testConfig({ retryBaseMs: 20, retryMaxMs: 40, orphanCheckIntervalMs: 3_600_000, ...overrides });
    app = await startDurableConductor(config);
    client = new TestWorkerClient(config.grpcListenAddr);
    return { app, config };
  }

  /**
   * A connected worker whose process the test owns, handshaken over real gRPC,
   * with its exit events out of the conductor's sight: the position of a worker
   * on ECS, or one adopted after a restart.
   */
  async function connectedWorker(app: INestApplication, pid: number): Promise<{ workerId: string; jobId: string }> {
    const job = await createPendingJob(prisma);
    await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1 } });
    const token = newWorkerToken();
    const workers = app.get(WorkerRepository);
    const worker = await workers.register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
    await workers.markLaunched(worker.id, String(pid));
    await client?.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'test' });
    return { workerId: worker.id, jobId: job.id };
  }

  async function silence(workerId: string, forMs: number): Promise<void> {
    await prisma.worker.update({ where: { id: workerId }, data: { lastEventAt: new Date(Date.now() - forMs) } });
  }

  function startProcess(): ChildProcess {
    const child = spawn(node, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    strays.push(child);
    return child;
  }

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
  });

  afterEach(async () => {
    client?.close();
    client = undefined;
    await app?.close();
    app = undefined;
    for (const child of strays.splice(0)) child.kill('SIGKILL');
  });

  afterAll(async () => {
    await prisma.$disconnect();
  });

  it('kills a worker that never handshakes by the deadline and retries the job', async () => {
    await start({
      workerCommand: `${node} -e "setInterval(() => {}, 1000)"`,
      handshakeDeadlineMs: 400,
      orphanCheckIntervalMs: 100,
      pendingSweepIntervalMs: 50,
      maxJobAttempts: 2,
    });
    // The pending sweep (every 50 ms) launches it, as in production; launching here too would race the sweep.
    const job = await createPendingJob(prisma);
    const failed = await eventually('both attempts to miss the deadline', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: { orderBy: { attempt: 'asc' } } } });
      return row.status === 'failed' ? row : undefined;
    });
    expect(failed.attempts).toBe(2);
    expect(failed.error).toBe('no handshake within 400 ms');
    expect(failed.workers.map((worker) => [worker.attempt, worker.endReason])).toEqual([
      [1, 'no handshake within 400 ms'],
      [2, 'no handshake within 400 ms'],
    ]);
    for (const worker of failed.workers) {
      await eventually(`worker process ${worker.launcherHandle} to be killed`, async () => (processGone(Number(worker.launcherHandle)) ? true : undefined));
    }
  });

  it('ends and retries a silent worker whose process is gone', async () => {
    // A backoff the test outlives: with the default 20–40 ms the retry timer relaunches the job before it is read as pending.
    const { app } = await start({ heartbeatTimeoutMs: 1000, heartbeatGraceMs: 60_000, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    const gone = startProcess();
    const pid = gone.pid ?? 0;
    gone.kill('SIGKILL');
    await eventually('the process to die', async () => (processGone(pid) ? true : undefined));
    const { workerId, jobId } = await connectedWorker(app, pid);
    await silence(workerId, 5000);
    await app.get(OrphanMonitorService).check();
    expect(await prisma.worker.findUniqueOrThrow({ where: { id: workerId } })).toMatchObject({ state: 'ended' });
    expect((await prisma.worker.findUniqueOrThrow({ where: { id: workerId } })).endReason).toMatch(/^heartbeat lost for \d+ ms and the local worker is gone$/);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ status: 'pending', attempts: 1 });
    expect(job.nextAttemptAt).not.toBeNull();
  });

  it('keeps a silent worker whose process is alive, and stops it after the grace', async () => {
    // A backoff the test outlives: with the default 20–40 ms the retry timer relaunches the job before it is read as pending.
    const { app } = await start({ heartbeatTimeoutMs: 1000, heartbeatGraceMs: 10_000, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    const alive = startProcess();
    const { workerId, jobId } = await connectedWorker(app, alive.pid ?? 0);
    await silence(workerId, 5000);
    await app.get(OrphanMonitorService).check();
    expect(await prisma.worker.findUniqueOrThrow({ where: { id: workerId } })).toMatchObject({ state: 'connected' });
    expect(await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ status: 'running' });
    const missed = await prisma.workerEvent.findMany({ where: { workerId, type: 'heartbeat-missed' } });
    expect(missed).toHaveLength(1);
    expect(missed[0]?.detail).toMatchObject({ alive: true });
    expect(processGone(alive.pid ?? 0)).toBe(false);

    await silence(workerId, 12_000);
    await app.get(OrphanMonitorService).check();
    const ended = await prisma.worker.findUniqueOrThrow({ where: { id: workerId } });
    expect(ended.state).toBe('ended');
    expect(ended.endReason).toMatch(/^heartbeat lost for \d+ ms; stopped although the launcher still saw it$/);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ status: 'pending' });
    await eventually('the silent worker to be stopped', async () => (alive.exitCode !== null || alive.signalCode !== null ? true : undefined));
  });

  it('ends cancelled a claim that never got a worker when an operator asked it to stop, and logs it so', async () => {
    // A grace longer than the test keeps the cancel enforcer from ending the job first.
    const { app } = await start({ handshakeDeadlineMs: 1000, cancelGraceMs: 3_600_000 });
    const job = await createPendingJob(prisma);
    const claimedAt = new Date(Date.now() - 60_000);
    await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1, cancelRequestedAt: claimedAt, updatedAt: claimedAt } });
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await app.get(OrphanMonitorService).check();
      expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'cancelled', attempts: 0 });
      expect(warn.mock.calls.map(([message]) => message)).toContain(`job ${job.id} was claimed but never got a worker; ended cancelled, as an operator had asked`);
    } finally {
      warn.mockRestore();
    }
  });

  it('refuses an ended worker, so a stopped worker that lingers cannot go on', async () => {
    const { app } = await start({ heartbeatTimeoutMs: 1000, heartbeatGraceMs: 0 });
    const alive = startProcess();
    const job = await createPendingJob(prisma);
    await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1 } });
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
    await app.get(WorkerRepository).markLaunched(worker.id, String(alive.pid));
    const handshake = await client?.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'test' });
    await silence(worker.id, 5000);
    await app.get(OrphanMonitorService).check();
    await expect(client?.heartbeat({ credentials: { workerId: worker.id, token: handshake?.sessionToken ?? '' }, phase: 1 })).rejects.toMatchObject({ code: 9 });
  });
});
