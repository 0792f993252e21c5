import { AppProcess, freePort, WORKSPACE } from '@agent-conductor/dev-stack';
import type { Job, PrismaClient } from '@agent-conductor/db';
import { eventually, resetDatabase, testRunPrefix } from '@agent-conductor/testing';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPendingJob, databaseUrl, testPrisma } from './support/fixtures';
import { startLocalIntakeQueue, type LocalIntakeQueue } from './support/local-queue';

const FAKE_WORKER = join(__dirname, 'support', 'fake-worker.js');
const ORDERS = 'https://github.com/acme/orders-api.git';

/**
 * Admission with real processes: conductors from dist/apps/conductor on the test database, each launching stand-in
 * workers (support/fake-worker.js: real gRPC, heartbeats until its work dir holds a GO file, then Shutdown). Jobs are
 * written the way the scheduler writes them; the conductors' sweeps and attempt ends drive admission.
 */
describe('admission across real conductor processes', () => {
  let prisma: PrismaClient;
  let queue: LocalIntakeQueue | undefined;
  let queueUrl: string;
  let endpoint: string;
  let base: string;
  const conductors: AppProcess[] = [];
  const samplers: Array<{ stop(): Promise<unknown> }> = [];

  beforeAll(async () => {
    if (!existsSync(join(WORKSPACE, 'dist/apps/conductor/main.js'))) throw new Error('dist/apps/conductor/main.js is missing: run nx build conductor');
    prisma = testPrisma();
    queue = await startLocalIntakeQueue('admission-intake');
    ({ endpoint, queueUrl } = queue);
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    base = await mkdtemp(join(tmpdir(), testRunPrefix('conductor-admission')));
  });

  afterEach(async () => {
    // A failed test leaves its sampler running; it must stop before the database is reset or closed.
    for (const sampler of samplers.splice(0)) await sampler.stop().catch(() => undefined);
    for (const conductor of conductors.splice(0)) await conductor.stop('SIGKILL');
    // Stand-in workers outlive a killed conductor: stop the ones this test launched.
    for (const worker of await prisma.worker.findMany({ where: { launcherHandle: { not: null } } })) {
      try {
        process.kill(Number(worker.launcherHandle), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (!process.env['KEEP_ADMISSION_DIR']) await rm(base, { recursive: true, force: true });
  });

  afterAll(async () => {
    await queue?.stop();
    await prisma?.$disconnect();
  });

  /** A conductor process; every one of a test shares the work root, so a restarted one finds its workers' dirs. */
  async function startConductor(name: string, env: Record<string, string> = {}): Promise<AppProcess> {
    const logDir = join(base, 'logs', name);
    await mkdir(logDir, { recursive: true });
    const grpc = `127.0.0.1:${await freePort()}`;
    const conductor = AppProcess.start(
      'conductor',
      {
        DATABASE_URL: databaseUrl(),
        SCHEDULER_GRPC_ADDR: `127.0.0.1:${await freePort()}`,
        SQS_QUEUE_URL: queueUrl,
        SQS_ENDPOINT: endpoint,
        SQS_WAIT_TIME_SECONDS: '1',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        CONDUCTOR_GRPC_LISTEN_ADDR: env['CONDUCTOR_GRPC_LISTEN_ADDR'] ?? grpc,
        CONDUCTOR_GRPC_DIAL_ADDR: env['CONDUCTOR_GRPC_LISTEN_ADDR'] ?? grpc,
        CONDUCTOR_HTTP_PORT: '0',
        CONDUCTOR_RUN_DIR: join(base, 'run', name),
        RESULTS_DIR: join(base, 'results'),
        WORKER_WORK_ROOT: join(base, 'workers'),
        WORKER_COMMAND: `${process.execPath} ${FAKE_WORKER} complete`,
        PENDING_SWEEP_INTERVAL_MS: '300',
        ORPHAN_CHECK_INTERVAL_MS: '300',
        WORKER_HEARTBEAT_INTERVAL_MS: '1000',
        RETRY_BASE_MS: '200',
        RETRY_MAX_MS: '400',
        ...env,
      },
      logDir,
    );
    conductors.push(conductor);
    return conductor;
  }

  /** Lets the job's current worker finish: the stand-in worker reports success once GO exists in its work dir. */
  async function release(jobId: string): Promise<void> {
    const worker = await eventually(`a connected worker for job ${jobId}`, async () => {
      const row = await prisma.worker.findFirst({ where: { jobId, state: 'connected' }, orderBy: { attempt: 'desc' } });
      return row ?? undefined;
    }, 60_000);
    await writeFile(join(base, 'workers', worker.id, 'GO'), '');
  }

  const active = (): Promise<Job[]> => prisma.job.findMany({ where: { status: { in: ['launching', 'running'] } }, orderBy: { updatedAt: 'asc' } });

  /** Samples the active jobs until stopped: the most ever active at once, overall and per claim key. */
  function sampleActive(): { stop(): Promise<{ peak: number; peakPerClaim: number; samples: number }> } {
    const sampler = startSampler();
    samplers.push(sampler);
    return sampler;
  }

  function startSampler(): { stop(): Promise<{ peak: number; peakPerClaim: number; samples: number }> } {
    let running = true;
    let peak = 0;
    let peakPerClaim = 0;
    let samples = 0;
    const loop = (async () => {
      while (running) {
        const rows = await active();
        const perClaim = new Map<string, number>();
        for (const row of rows) perClaim.set(row.claimKey ?? row.repository, (perClaim.get(row.claimKey ?? row.repository) ?? 0) + 1);
        peak = Math.max(peak, rows.length);
        peakPerClaim = Math.max(peakPerClaim, 0, ...perClaim.values());
        samples += 1;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { peak, peakPerClaim, samples };
      },
    };
  }

  /** The one job active now, once exactly one is (and it has a connected worker). */
  async function theActiveJob(): Promise<string> {
    return eventually(
      'exactly one active job with a connected worker',
      async () => {
        const rows = await active();
        if (rows.length !== 1) return undefined;
        const connected = await prisma.worker.findFirst({ where: { jobId: rows[0]?.id, state: 'connected' } });
        return connected ? rows[0]?.id : undefined;
      },
      60_000,
    );
  }

  /** The one active job once it is none of `done` (a released job stays active until its Shutdown lands). */
  const nextActiveJob = (done: string[]): Promise<string> =>
    eventually('the next job to start', async () => {
      const id = await theActiveJob();
      return done.includes(id) ? undefined : id;
    }, 60_000);

  const succeeded = (ids: string[]) =>
    eventually(
      'every job to succeed',
      async () => ((await prisma.job.count({ where: { id: { in: ids }, status: 'succeeded' } })) === ids.length ? true : undefined),
      60_000,
    );

  it('runs a burst on one repository one agent at a time, in order, and says why the others wait', async () => {
    const burst: Job[] = [];
    for (let n = 1; n <= 4; n += 1) burst.push(await createPendingJob(prisma, { key: `BURST-${n}`, repository: ORDERS }));
    const sampler = sampleActive();
    await startConductor('a');

    const started: string[] = [];
    for (let n = 0; n < burst.length; n += 1) {
      const current = await theActiveJob();
      started.push(current);
      if (n === 0) {
        const waiting = await eventually('the waiting reasons to be stored', async () => {
          const rows = await prisma.job.findMany({ where: { status: 'pending' }, select: { waitingReason: true } });
          return rows.length === 3 && rows.every((row) => row.waitingReason !== null) ? rows : undefined;
        });
        expect(new Set(waiting.map((row) => row.waitingReason))).toEqual(new Set([`waiting for repository claim ${ORDERS} (held by job ${current})`]));
      }
      await release(current);
      await eventually('the released job to succeed', async () =>
        (await prisma.job.findUniqueOrThrow({ where: { id: current } })).status === 'succeeded' ? true : undefined,
      );
    }
    const { peak, samples } = await sampler.stop();

    expect(started).toEqual(burst.map((job) => job.id));
    expect(samples).toBeGreaterThan(10);
    expect(peak).toBe(1);
  }, 180_000);

  it('lets an incident overtake the tickets queued before it', async () => {
    const first = await createPendingJob(prisma, { key: 'T-1', repository: ORDERS });
    await startConductor('a');
    expect(await theActiveJob()).toBe(first.id);
    const queued = [await createPendingJob(prisma, { key: 'T-2', repository: ORDERS }), await createPendingJob(prisma, { key: 'T-3', repository: ORDERS })];
    const incident = await createPendingJob(prisma, { kind: 'incident', key: '123456789012', repository: ORDERS });

    const order: string[] = [first.id];
    await release(first.id);
    for (let n = 0; n < 3; n += 1) {
      const next = await nextActiveJob(order);
      order.push(next);
      await release(next);
    }
    await succeeded(order);
    expect(order).toEqual([first.id, incident.id, queued[0]?.id, queued[1]?.id]);
  }, 180_000);

  it('holds the global cap across two conductor processes', async () => {
    const jobs: Job[] = [];
    for (let n = 1; n <= 6; n += 1) jobs.push(await createPendingJob(prisma, { key: `CAP-${n}`, repository: `https://github.com/acme/repo-${n}.git` }));
    const sampler = sampleActive();
    await Promise.all([startConductor('a', { MAX_ACTIVE_JOBS: '2' }), startConductor('b', { MAX_ACTIVE_JOBS: '2' })]);

    // Let the two conductors' sweeps race for a while before anything finishes.
    await eventually('two jobs to be active', async () => ((await active()).length === 2 ? true : undefined), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const finished = new Set<string>();
    while (finished.size < jobs.length) {
      const running = await eventually('an active job with a connected worker', async () => {
        const rows = await active();
        for (const row of rows) {
          if (finished.has(row.id)) continue;
          if (await prisma.worker.findFirst({ where: { jobId: row.id, state: 'connected' } })) return row.id;
        }
        return undefined;
      }, 60_000);
      finished.add(running);
      await release(running);
    }
    await succeeded(jobs.map((job) => job.id));
    const { peak, samples } = await sampler.stop();

    expect(samples).toBeGreaterThan(10);
    expect(peak).toBe(2);
    // One attempt each: no job was claimed twice.
    expect(await prisma.worker.count()).toBe(jobs.length);
  }, 240_000);

  it('never leaks a claim when a conductor is killed with -9, whether its worker lives on or dies with it', async () => {
    const grpc = `127.0.0.1:${await freePort()}`;
    // A restarted conductor: same address for its workers, same run directory (where it keeps its workers' exits).
    const fixed = { CONDUCTOR_GRPC_LISTEN_ADDR: grpc, CONDUCTOR_RUN_DIR: join(base, 'run', 'restarted'), HEARTBEAT_TIMEOUT_MS: '30000', HEARTBEAT_GRACE_MS: '30000' };
    const survivor = await createPendingJob(prisma, { key: 'KILL-1', repository: ORDERS });
    const next = await createPendingJob(prisma, { key: 'KILL-2', repository: ORDERS });
    const sampler = sampleActive();

    // 1. The worker lives on: the next conductor adopts it, and its Shutdown frees the claim.
    const first = await startConductor('first', fixed);
    expect(await theActiveJob()).toBe(survivor.id);
    // Killed only once the worker has its session: a handshake whose answer dies with the conductor strands its worker.
    const survivorWorker = await eventually('the first worker to heartbeat on its session', async () => {
      const row = await prisma.worker.findFirst({ where: { jobId: survivor.id, state: 'connected' } });
      return row?.handshakeAt && row.lastEventAt > row.handshakeAt ? row : undefined;
    });
    await first.stop('SIGKILL');
    await startConductor('second', fixed);
    await eventually(
      'the next conductor to adopt the worker',
      async () => ((await prisma.workerEvent.count({ where: { workerId: survivorWorker.id, type: 'adopted' } })) > 0 ? true : undefined),
      60_000,
    );
    await release(survivor.id);
    expect(await nextActiveJob([survivor.id])).toBe(next.id);

    // 2. The worker dies with the conductor: the next conductor finds it gone, ends the attempt and frees the claim.
    const worker = await eventually('the worker of the second job', async () => (await prisma.worker.findFirst({ where: { jobId: next.id, state: 'connected' } })) ?? undefined);
    const last = await createPendingJob(prisma, { key: 'KILL-3', repository: ORDERS });
    const second = conductors[conductors.length - 1];
    await second?.stop('SIGKILL');
    process.kill(Number(worker.launcherHandle), 'SIGKILL');
    await startConductor('third', fixed);
    await eventually(
      'the next conductor to find the dead worker and end its attempt',
      async () => ((await prisma.worker.findUniqueOrThrow({ where: { id: worker.id } })).state === 'ended' ? true : undefined),
      60_000,
    );
    // The dead attempt is retried (it keeps its place ahead of KILL-3); every job ends up done, one at a time.
    for (let n = 0; n < 2; n += 1) {
      const current = await eventually('the next job to run', async () => {
        const id = await theActiveJob();
        return (await prisma.job.findUniqueOrThrow({ where: { id } })).status === 'running' ? id : undefined;
      }, 60_000);
      await release(current);
      await eventually('it to succeed', async () => ((await prisma.job.findUniqueOrThrow({ where: { id: current } })).status === 'succeeded' ? true : undefined), 60_000);
    }
    await succeeded([survivor.id, next.id, last.id]);
    const { peak } = await sampler.stop();

    expect(peak).toBe(1);
    expect(await active()).toEqual([]);
    const retried = await prisma.job.findUniqueOrThrow({ where: { id: next.id }, include: { workers: { orderBy: { attempt: 'asc' } } } });
    expect(retried.workers.map((row) => [row.attempt, row.state])).toEqual([
      [1, 'ended'],
      [2, 'ended'],
    ]);
  }, 240_000);
});
