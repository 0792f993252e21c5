import type { PrismaClient } from '@agent-conductor/db';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { join } from 'node:path';
import type { ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { LocalProcessLauncher } from '../src/launch/local-process.launcher';
import { PendingSweepService } from '../src/launch/pending-sweep.service';
import { retryDelayMs } from '../src/launch/retry-policy';
import { WORKER_LAUNCHER, type WorkerLaunchSpec, type WorkerLauncher } from '../src/launch/worker-launcher';
import { startDurableConductor } from './support/durable-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

const node = process.execPath;
const fakeWorker = (mode: string): string => `${node} ${join(__dirname, 'support', 'fake-worker.js')} ${mode}`;

/**
 * Resolves with what each of the next `count` sweep passes launched, counting only passes that start after this
 * call: one already under way is awaited first, since calls made while it runs share its promise. The spy observes
 * the real sweep; it replaces nothing.
 */
async function sweepPassesAfterNow(passes: jest.SpiedFunction<PendingSweepService['sweep']>, count: number): Promise<number[]> {
  await passes.mock.results[passes.mock.results.length - 1]?.value;
  const launched: number[] = [];
  while (launched.length < count) {
    const next = passes.mock.calls.length;
    await eventually('the next sweep pass', async () => (passes.mock.calls.length > next ? true : undefined));
    launched.push(await (passes.mock.results[next]?.value ?? Promise.reject(new Error('no sweep pass recorded'))));
  }
  return launched;
}

describe('retries of infrastructure failures', () => {
  let prisma: PrismaClient;
  let app: INestApplication | undefined;

  async function start(overrides: Partial<ConductorConfig>): Promise<INestApplication> {
    app = await startDurableConductor(await testConfig({ retryBaseMs: 20, retryMaxMs: 40, orphanCheckIntervalMs: 3_600_000, ...overrides }));
    return app;
  }

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

  it('backs off exponentially with full jitter, capped at RETRY_MAX_MS', () => {
    const policy = { retryBaseMs: 5000, retryMaxMs: 300_000 };
    const highest = (attempt: number): number => retryDelayMs(attempt, policy, () => 0.999999);
    expect([1, 2, 3, 4].map(highest)).toEqual([4999, 9999, 19999, 39999]);
    expect(highest(20)).toBe(299_999);
    expect(retryDelayMs(3, policy, () => 0)).toBe(0);
  });

  it('retries a launch error with a backoff, and the second attempt runs', async () => {
    let calls = 0;
    const app = await start({ workerCommand: `${node} -e "setInterval(() => {}, 1000)"` });
    const local = app.get(LocalProcessLauncher);
    // The first RunTask-like call fails the way a capacity shortage does; the rest reach the real launcher.
    const flaky: WorkerLauncher = app.get<WorkerLauncher>(WORKER_LAUNCHER);
    const launch = flaky.launch.bind(flaky);
    flaky.launch = async (spec: WorkerLaunchSpec) => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('no capacity right now'), { retryable: true });
      return launch(spec);
    };
    const job = await createPendingJob(prisma);
    const first = await app.get(JobLaunchService).launch(job.id);
    expect(first).toMatchObject({ status: 'failed', next: 'retrying' });
    // Full jitter can make the backoff ~0 ms, so the pending state in between may already be gone; the backoff
    // itself is covered by the next_attempt_at tests below.

    const relaunched = await eventually('the second attempt to launch', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: { orderBy: { attempt: 'asc' } } } });
      return row.status === 'launching' && row.workers[1]?.state === 'launched' ? row : undefined;
    });
    expect(relaunched.attempts).toBe(2);
    expect(relaunched.workers.map((worker) => [worker.attempt, worker.state, worker.endReason])).toEqual([
      [1, 'ended', 'launch failed: no capacity right now'],
      [2, 'launched', null],
    ]);
    expect(await local.isAlive(relaunched.workers[1]?.launcherHandle ?? '')).toBe(true);
  });

  it('leaves a retried job alone until its next_attempt_at has passed', async () => {
    const app = await start({ workerCommand: `${node} -e "setInterval(() => {}, 1000)"` });
    const job = await createPendingJob(prisma);
    await prisma.job.update({ where: { id: job.id }, data: { attempts: 1, nextAttemptAt: new Date(Date.now() + 60_000) } });
    expect(await app.get(PendingSweepService).sweep()).toBe(0);
    expect(await app.get(JobLaunchService).launch(job.id)).toEqual({
      status: 'waiting',
      reason: `waiting for retry backoff until ${(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).nextAttemptAt?.toISOString()}`,
    });
    await prisma.job.update({ where: { id: job.id }, data: { nextAttemptAt: new Date(Date.now() - 1) } });
    expect(await app.get(PendingSweepService).sweep()).toBe(1);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'launching', attempts: 2, nextAttemptAt: null });
  });

  it('fails the job with the last reason after MAX_JOB_ATTEMPTS', async () => {
    await start({ workerWorkRoot: '/dev/null/workers', maxJobAttempts: 3, pendingSweepIntervalMs: 50 });
    const job = await createPendingJob(prisma);
    const failed = await eventually('the job to fail', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: { orderBy: { attempt: 'asc' } } } });
      return row.status === 'failed' ? row : undefined;
    });
    expect(failed.attempts).toBe(3);
    expect(failed.error).toMatch(/^launch failed: .*ENOTDIR/);
    expect(failed.workers.map((worker) => [worker.attempt, worker.state])).toEqual([
      [1, 'ended'],
      [2, 'ended'],
      [3, 'ended'],
    ]);
  });

  it('retries a worker that crashes without calling Shutdown', async () => {
    const app = await start({ workerCommand: fakeWorker('exit-after-handshake'), maxJobAttempts: 2, pendingSweepIntervalMs: 50 });
    const job = await createPendingJob(prisma);
    await app.get(JobLaunchService).launch(job.id);
    const failed = await eventually('both attempts to crash', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: { orderBy: { attempt: 'asc' } } } });
      return row.status === 'failed' ? row : undefined;
    });
    expect(failed.attempts).toBe(2);
    expect(failed.error).toBe('exited with code 4 before shutdown');
    expect(failed.workers.map((worker) => worker.endReason)).toEqual(['exited with code 4 before shutdown', 'exited with code 4 before shutdown']);
  });

  it('does not retry an agent that reported its own failure', async () => {
    const app = await start({ workerCommand: fakeWorker('report-error'), maxJobAttempts: 3, pendingSweepIntervalMs: 50 });
    const passes = jest.spyOn(app.get(PendingSweepService), 'sweep');
    const job = await createPendingJob(prisma);
    await app.get(JobLaunchService).launch(job.id);
    const failed = await eventually('the job to fail', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
      return row.status === 'failed' ? row : undefined;
    });
    // A (wrong) retry would be due within RETRY_MAX_MS (40 ms) and launched by the next sweep pass. Two whole passes
    // that start after the failure, a sweep interval (50 ms) apart, both had that chance, and launched nothing.
    expect(await sweepPassesAfterNow(passes, 2)).toEqual([0, 0]);
    const settled = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
    expect(settled).toMatchObject({ status: 'failed', attempts: 1 });
    expect(settled.workers).toHaveLength(1);
    expect(failed.error).toBe('exited with code 1 before shutdown');
    const events = await prisma.workerEvent.findMany({ where: { workerId: settled.workers[0]?.id, type: 'attempt-ended' } });
    expect(events.map((event) => event.detail)).toEqual([{ next: 'failed', agentReported: true, retryable: true }]);
  });
});
