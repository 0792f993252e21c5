import { AppProcess, ensureSampleRemote, freePort, WORKSPACE } from '@agent-conductor/dev-stack';
import type { PrismaClient } from '@agent-conductor/db';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPendingJob, databaseUrl, testPrisma } from './support/fixtures';
import { startLocalIntakeQueue, type LocalIntakeQueue } from './support/local-queue';

/**
 * A deploy with a worker mid-task, with real processes: the conductor from
 * dist/apps/conductor, a worker from dist/apps/worker that the conductor
 * launches, and an agent that holds until the test lets it finish (then runs
 * the demo agent, which commits and pushes to a local bare remote).
 */
describe('deploying a conductor while a worker is mid-task', () => {
  let prisma: PrismaClient;
  let queue: LocalIntakeQueue | undefined;
  let queueUrl: string;
  let endpoint: string;
  let base: string;
  const running: AppProcess[] = [];

  beforeAll(async () => {
    for (const app of ['conductor', 'worker']) {
      if (!existsSync(join(WORKSPACE, 'dist/apps', app, 'main.js'))) throw new Error(`dist/apps/${app}/main.js is missing: run nx build ${app}`);
    }
    prisma = testPrisma();
    queue = await startLocalIntakeQueue('deploy-intake');
    ({ endpoint, queueUrl } = queue);
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    base = await mkdtemp(join(tmpdir(), 'conductor-deploy-'));
    // Run as root, the worker starts the agent as its own uid: it must pass through base, and signal in signals/.
    await chmod(base, 0o711);
    await mkdir(join(base, 'signals'));
    await chmod(join(base, 'signals'), 0o777);
  });

  afterEach(async () => {
    for (const app of running.splice(0)) await app.stop('SIGKILL');
    // The held agent exits when its go file appears; a failed test must not leave it waiting.
    await writeFile(join(base, 'signals', 'go'), '').catch(() => undefined);
    if (!process.env['KEEP_DEPLOY_DIR']) await rm(base, { recursive: true, force: true });
  });

  afterAll(async () => {
    await queue?.stop();
    await prisma?.$disconnect();
  });

  interface Stage {
    env: Record<string, string>;
    runDir: string;
    logDir: string;
    jobId: string;
  }

  async function stage(): Promise<Stage> {
    const runDir = join(base, 'run');
    const logDir = join(base, 'logs');
    await Promise.all([mkdir(runDir, { recursive: true }), mkdir(logDir, { recursive: true })]);
    const remote = join(base, 'remote', 'sample-app.git');
    await ensureSampleRemote(remote);
    const job = await createPendingJob(prisma, { key: 'DEPLOY-1', repository: remote, taskMarkdown: '# Add a deploy note\n\nWrite it down.\n' });
    const started = join(base, 'signals', 'agent-started');
    const go = join(base, 'signals', 'go');
    const demo = join(WORKSPACE, 'tools/demo-agent/demo-agent.sh');
    const grpc = `127.0.0.1:${await freePort()}`;
    return {
      runDir,
      logDir,
      jobId: job.id,
      env: {
        DATABASE_URL: databaseUrl(),
        SCHEDULER_GRPC_ADDR: `127.0.0.1:${await freePort()}`,
        SQS_QUEUE_URL: queueUrl,
        SQS_ENDPOINT: endpoint,
        SQS_WAIT_TIME_SECONDS: '1',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        // Both generations listen on, and hand out, the same address: what a load balancer gives in ECS.
        CONDUCTOR_GRPC_LISTEN_ADDR: grpc,
        CONDUCTOR_GRPC_DIAL_ADDR: grpc,
        CONDUCTOR_RUN_DIR: runDir,
        RESULTS_DIR: join(base, 'results'),
        WORKER_COMMAND: `${process.execPath} ${join(WORKSPACE, 'dist/apps/worker/main.js')}`,
        WORKER_AGENT_COMMAND: `touch ${started}; while [ ! -f ${go} ]; do sleep 0.2; done; bash ${demo}`,
        PENDING_SWEEP_INTERVAL_MS: '300',
        SHUTDOWN_POLL_INTERVAL_MS: '200',
      },
    };
  }

  async function startConductor(generation: string, s: Stage, extra: Record<string, string>): Promise<AppProcess> {
    // AppProcess names its log after the app: one directory per generation keeps both logs.
    const logDir = join(s.logDir, generation);
    await mkdir(logDir, { recursive: true });
    const app = AppProcess.start('conductor', { ...s.env, CONDUCTOR_HTTP_PORT: '0', ...extra }, logDir);
    running.push(app);
    return app;
  }

  async function workerMidTask(s: Stage): Promise<{ id: string; pid: number }> {
    const worker = await eventually(
      'the worker to be connected and its agent running',
      async () => {
        const row = await prisma.worker.findFirst({ where: { jobId: s.jobId } });
        return row?.state === 'connected' && row.launcherHandle && existsSync(join(base, 'signals', 'agent-started')) ? row : undefined;
      },
      120_000,
    );
    return { id: worker.id, pid: Number(worker.launcherHandle) };
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function exitWithin(app: AppProcess, ms: number): Promise<number | null | 'still running'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'still running'>((resolve) => {
      timer = setTimeout(() => resolve('still running'), ms);
    });
    try {
      return await Promise.race([app.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function finishedJob(jobId: string): Promise<{ status: string; error: string | null; workers: Array<{ id: string; state: string }> }> {
    return eventually(
      'the job to finish',
      async () => {
        const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { workers: true } });
        return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
      },
      120_000,
    );
  }

  it.each<[string, (s: Stage, conductor: AppProcess) => Promise<void>]>([
    ['IS_CONDUCTOR_SHUTTING_DOWN turns true', (s) => writeFile(join(s.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN'), 'true\n')],
    // ECS stops a task with SIGTERM: in drain mode that must wait for the worker too, not end the conductor under it.
    [
      'SIGTERM arrives',
      async (_s, conductor) => {
        conductor.child.kill('SIGTERM');
      },
    ],
  ])('drain: once %s the old conductor keeps serving until the worker has finished, then writes the ready file and exits 0', async (_trigger, shutDown) => {
    const s = await stage();
    const a = await startConductor('a', s, { SHUTDOWN_MODE: 'drain' });
    const worker = await workerMidTask(s);

    await shutDown(s, a);
    // Well past a few gate polls: still up, still not ready, the worker untouched.
    expect(await exitWithin(a, 3000)).toBe('still running');
    expect(existsSync(join(s.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN'))).toBe(false);
    expect(alive(worker.pid)).toBe(true);

    await writeFile(join(base, 'signals', 'go'), '');
    expect(await exitWithin(a, 120_000)).toBe(0);
    expect(existsSync(join(s.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN'))).toBe(true);
    const job = await finishedJob(s.jobId);
    expect({ status: job.status, error: job.error }).toEqual({ status: 'succeeded', error: null });
    expect(job.workers.map((w) => ({ id: w.id, state: w.state }))).toEqual([{ id: worker.id, state: 'ended' }]);
  }, 300_000);

  it('handoff: SIGTERM makes the old conductor exit 0 at once; the worker carries on and finishes against the new one', async () => {
    const s = await stage();
    const a = await startConductor('a', s, { SHUTDOWN_MODE: 'handoff' });
    const worker = await workerMidTask(s);

    const signalledAt = Date.now();
    a.child.kill('SIGTERM');
    expect(await exitWithin(a, 20_000)).toBe(0);
    // Far inside ECS's 120 s stopTimeout, however long the agent still needs.
    expect(Date.now() - signalledAt).toBeLessThan(20_000);
    expect(existsSync(join(s.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN'))).toBe(true);
    expect(alive(worker.pid)).toBe(true);
    const between = await prisma.worker.findUniqueOrThrow({ where: { id: worker.id } });
    expect(between.state).toBe('connected');
    expect(await readFile(join(s.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN'), 'utf8')).toBe('false\n');

    // The new generation: same addresses, same database; the worker reconnects to it.
    const b = await startConductor('b', s, { SHUTDOWN_MODE: 'handoff' });
    await writeFile(join(base, 'signals', 'go'), '');
    const job = await finishedJob(s.jobId);
    expect({ status: job.status, error: job.error }).toEqual({ status: 'succeeded', error: null });
    expect(job.workers.map((w) => ({ id: w.id, state: w.state }))).toEqual([{ id: worker.id, state: 'ended' }]);
    expect(await prisma.job.count()).toBe(1);
    expect(b.child.exitCode).toBeNull();
    await eventually('the worker process to exit', async () => (alive(worker.pid) ? undefined : true), 30_000);
  }, 300_000);
});
