import { AdmissionRepository, WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { DEFAULT_ADMISSION_LIMITS } from '@agent-conductor/scheduling-domain';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import type { ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { LocalProcessLauncher } from '../src/launch/local-process.launcher';
import { OrphanMonitorService } from '../src/orphans/orphan-monitor.service';
import { startDurableConductor } from './support/durable-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const node = process.execPath;
const fakeWorker = (mode: string): string => `${node} ${join(__dirname, 'support', 'fake-worker.js')} ${mode}`;

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('a conductor restart', () => {
  let prisma: PrismaClient;
  const apps: INestApplication[] = [];
  const pids: number[] = [];

  async function boot(config: ConductorConfig): Promise<INestApplication> {
    const app = await startDurableConductor(config);
    apps.push(app);
    return app;
  }

  /** Closes a conductor the way a crash or a handoff leaves things: its workers run on. */
  async function abandon(app: INestApplication): Promise<void> {
    app.get(LocalProcessLauncher).releaseWorkers();
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  }

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  afterAll(async () => {
    await prisma.$disconnect();
  });

  it('adopts a running worker, which reconnects and completes its Shutdown against the new conductor', async () => {
    const config = await testConfig({ workerCommand: fakeWorker('complete'), orphanCheckIntervalMs: 100, heartbeatTimeoutMs: 60_000 });
    const a = await boot(config);
    const job = await createPendingJob(prisma);
    const outcome = await a.get(JobLaunchService).launch(job.id);
    if (outcome.status !== 'launched') throw new Error(`not launched: ${outcome.status}`);
    pids.push(Number(outcome.handle));
    // A heartbeat, not just the handshake: the handshake's answer must have reached the worker before A goes.
    await eventually('the worker to work with A', async () =>
      (await prisma.workerEvent.count({ where: { workerId: outcome.workerId, type: 'heartbeat' } })) > 0 ? true : undefined,
    );
    await abandon(a);
    expect(processGone(Number(outcome.handle))).toBe(false);

    const b = await boot(config);
    const adoptedEvents = await prisma.workerEvent.findMany({ where: { workerId: outcome.workerId, type: 'adopted' } });
    expect(adoptedEvents.map((event) => event.detail)).toEqual([{ handle: outcome.handle }]);

    // The worker goes on with its session token (only its hash survived A, in Postgres) ...
    const adoptedAt = adoptedEvents[0]?.id ?? 0n;
    // Generous: B boots slowly on a loaded machine, and while A was gone the worker's channel backed off its
    // reconnects (capped at 4 s, as the real worker's are).
    await eventually(
      'the worker to heartbeat to B',
      async () => ((await prisma.workerEvent.count({ where: { workerId: outcome.workerId, type: 'heartbeat', id: { gt: adoptedAt } } })) > 0 ? true : undefined),
      60_000,
    );
    // ... while the launch token, which anyone who can read the worker's environment has, buys nothing from B.
    const launchToken = (await readFile(`/proc/${outcome.handle}/environ`, 'utf8'))
      .split('\0')
      .find((entry) => entry.startsWith('WORKER_TOKEN='))
      ?.slice('WORKER_TOKEN='.length);
    expect(launchToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stranger = new TestWorkerClient(config.grpcListenAddr);
    try {
      const launchCredentials = { workerId: outcome.workerId, token: launchToken ?? '' };
      await expect(stranger.heartbeat({ credentials: launchCredentials, phase: 1 })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      await expect(stranger.handshake({ credentials: launchCredentials, workerVersion: '', hostname: '' })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    } finally {
      stranger.close();
    }

    await writeFile(join(config.workerWorkRoot, outcome.workerId, 'GO'), '');
    const done = await eventually('the job to succeed through B', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
      return row.status === 'succeeded' ? row : undefined;
    });
    expect(done.attempts).toBe(1);
    expect(done.workers).toHaveLength(1);
    expect(done.workers[0]).toMatchObject({ id: outcome.workerId, state: 'ended', endReason: 'shutdown: succeeded' });
    // B noticed the exit by polling: recorded, and the outcome stands.
    const exited = await eventually('B to notice the exit', async () => {
      const events = await prisma.workerEvent.findMany({ where: { workerId: outcome.workerId, type: 'exited' } });
      return events.length > 0 ? events : undefined;
    });
    // Polling sees only that the pid is gone, never an exit code: the code the spawning conductor would have had.
    expect(exited.map((event) => event.detail)).toEqual([
      { code: null, signal: null, reason: 'exited before shutdown (noticed after a conductor restart)', beforeShutdown: false },
    ]);
    expect(processGone(Number(outcome.handle))).toBe(true);
    expect(await b.get(LocalProcessLauncher).isAlive(outcome.handle)).toBe(false);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'succeeded', attempts: 1 });
  }, 120_000);

  it('ends and retries an adopted worker that died while no conductor watched', async () => {
    const config = await testConfig({ workerCommand: `${node} -e "setInterval(() => {}, 1000)"`, retryBaseMs: 60_000, retryMaxMs: 60_000 });
    const a = await boot(config);
    const job = await createPendingJob(prisma);
    const outcome = await a.get(JobLaunchService).launch(job.id);
    if (outcome.status !== 'launched') throw new Error('not launched');
    await abandon(a);
    process.kill(Number(outcome.handle), 'SIGKILL');
    await eventually('the worker to die', async () => (processGone(Number(outcome.handle)) ? true : undefined));
    await boot(config);
    const worker = await prisma.worker.findUniqueOrThrow({ where: { id: outcome.workerId } });
    expect(worker).toMatchObject({ state: 'ended', endReason: 'exited before shutdown while no conductor was watching' });
    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'pending', attempts: 1 });
  });

  describe('crashing between launch steps yields exactly one worker per attempt', () => {
    it('claim, then crash before register: the claim is released and the job launches once', async () => {
      const config = await testConfig({ workerCommand: `${node} -e "setInterval(() => {}, 1000)"`, handshakeDeadlineMs: 200, orphanCheckIntervalMs: 3_600_000 });
      const job = await createPendingJob(prisma);
      const a = await boot(config);
      expect((await a.get(AdmissionRepository).admit(DEFAULT_ADMISSION_LIMITS)).admitted.map((claimed) => claimed.id)).toEqual([job.id]);
      await abandon(a);
      const b = await boot(config);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await b.get(OrphanMonitorService).check();
      const launched = await eventually('the job to launch once', async () => {
        const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
        return row.workers[0]?.state === 'launched' ? row : undefined;
      });
      pids.push(Number(launched.workers[0]?.launcherHandle));
      expect(launched).toMatchObject({ status: 'launching', attempts: 1 });
      expect(launched.workers.map((worker) => worker.attempt)).toEqual([1]);
    });

    it('launch, then crash before the handle is recorded: the next conductor adopts the pid instead of launching again', async () => {
      const config = await testConfig({ workerCommand: `${node} -e "setInterval(() => {}, 1000)"` });
      const job = await createPendingJob(prisma);
      const a = await boot(config);
      const [claimed] = (await a.get(AdmissionRepository).admit(DEFAULT_ADMISSION_LIMITS)).admitted;
      if (claimed?.id !== job.id) throw new Error('not claimed');
      const token = newWorkerToken();
      const worker = await a.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
      const spec = {
        workerId: worker.id,
        jobId: job.id,
        attempt: 1,
        workDir: join(config.workerWorkRoot, worker.id),
        env: { WORKER_ID: worker.id, WORKER_TOKEN: token, CONDUCTOR_GRPC_SERVER_ADDR: config.grpcDialAddr },
      };
      const { handle } = await a.get(LocalProcessLauncher).launch(spec);
      pids.push(Number(handle));
      await abandon(a);

      const b = await boot(config);
      const adopted = await prisma.worker.findUniqueOrThrow({ where: { id: worker.id } });
      expect(adopted).toMatchObject({ state: 'launched', launcherHandle: handle });
      // The same attempt launched again (a sweep, a retrying caller) answers with the same process.
      expect(await b.get(LocalProcessLauncher).launch(spec)).toEqual({ handle });
      expect(await prisma.worker.count({ where: { jobId: job.id } })).toBe(1);
      expect(processGone(Number(handle))).toBe(false);
    });

    it('never starts a second process for an attempt, even when launched twice at once', async () => {
      const config = await testConfig({ workerCommand: `${node} -e "setInterval(() => {}, 1000)"` });
      const job = await createPendingJob(prisma);
      const a = await boot(config);
      const launcher = a.get(LocalProcessLauncher);
      const spec = { workerId: 'w-1', jobId: job.id, attempt: 1, workDir: join(config.workerWorkRoot, 'w-1'), env: { WORKER_ID: 'w-1' } };
      const [first, second] = await Promise.all([launcher.launch(spec), launcher.launch(spec)]);
      pids.push(Number(first.handle));
      expect(second).toEqual(first);
      const other = await launcher.launch({ ...spec, attempt: 2, workerId: 'w-2', workDir: join(config.workerWorkRoot, 'w-2'), env: { WORKER_ID: 'w-2' } });
      pids.push(Number(other.handle));
      expect(other.handle).not.toBe(first.handle);
    });
  });
});
