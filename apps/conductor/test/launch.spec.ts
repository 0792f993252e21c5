import type { PrismaClient } from '@agent-conductor/db';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { localAgentUid, LocalProcessLauncher } from '../src/launch/local-process.launcher';
import { PendingSweepService } from '../src/launch/pending-sweep.service';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

const node = process.execPath;

describe('launching jobs', () => {
  let prisma: PrismaClient;
  let app: INestApplication | undefined;

  async function start(overrides: Partial<ConductorConfig>): Promise<{ app: INestApplication; config: ConductorConfig }> {
    const config = await testConfig(overrides);
    app = await startConductorParts(config);
    return { app, config };
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

  it('claims a job exactly once when launches race (they share one admission round)', async () => {
    const { app } = await start({ workerCommand: `${node} -e "setTimeout(() => {}, 20000)"` });
    const job = await createPendingJob(prisma);
    const launches = app.get(JobLaunchService);
    const outcomes = await Promise.all([launches.launch(job.id), launches.launch(job.id), launches.launch(job.id)]);
    const launchedWorkers = new Set(outcomes.map((outcome) => (outcome.status === 'launched' ? outcome.workerId : outcome.status)));
    expect(launchedWorkers.size).toBe(1);
    expect(outcomes[0]?.status).toBe('launched');
    const workers = await prisma.worker.findMany({ where: { jobId: job.id } });
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ state: 'launched', attempt: 1, launcher: 'local' });
    expect(workers[0]?.launcherHandle).toMatch(/^\d+$/);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'launching', attempts: 1 });
  });

  it('fails the job with the reason when the launcher cannot start the worker and no attempt is left', async () => {
    // A directory cannot be created below a regular file, so the launcher fails for real.
    const { app } = await start({ workerWorkRoot: '/dev/null/workers', maxJobAttempts: 1 });
    const job = await createPendingJob(prisma);
    const outcome = await app.get(JobLaunchService).launch(job.id);
    expect(outcome.status).toBe('failed');
    const failed = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^launch failed: .*ENOTDIR/);
    expect(failed.workers).toHaveLength(1);
    expect(failed.workers[0]).toMatchObject({ state: 'ended', endReason: failed.error });
  });

  it('fails the job when the worker process exits without calling Shutdown on its last attempt', async () => {
    const { app, config } = await start({
      maxJobAttempts: 1,
      workerCommand: `${node} -e "console.log(Object.keys(process.env).sort().join(' ')); process.exit(3)"`,
    });
    const job = await createPendingJob(prisma);
    const outcome = await app.get(JobLaunchService).launch(job.id);
    expect(outcome.status).toBe('launched');
    const failed = await eventually('the job to fail', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
      return row.status === 'failed' ? row : undefined;
    });
    expect(failed.error).toBe('exited with code 3 before shutdown');
    expect(failed.workers[0]).toMatchObject({ state: 'ended', endReason: 'exited with code 3 before shutdown' });

    // The worker's output goes to its own log file, and it sees its own variables but none of the conductor's secrets.
    if (outcome.status !== 'launched') throw new Error('not launched');
    const log = await readFile(app.get(LocalProcessLauncher).logPath(outcome.workerId), 'utf8');
    const names = log.trim().split(' ');
    expect(names).toEqual(expect.arrayContaining(['WORKER_ID', 'WORKER_TOKEN', 'CONDUCTOR_GRPC_SERVER_ADDR', 'WORK_DIR', 'AGENT_KIND', 'AGENT_COMMAND']));
    expect(names).not.toContain('DATABASE_URL');
    expect(log.startsWith(config.runDir)).toBe(false);
  });

  it('hands the worker its id, the dial address and its work directory', async () => {
    const script =
      'const e = process.env; console.log(JSON.stringify({ id: e.WORKER_ID, addr: e.CONDUCTOR_GRPC_SERVER_ADDR, dir: e.WORK_DIR, cwd: process.cwd(), kind: e.AGENT_KIND, agent: e.AGENT_COMMAND, agentUid: e.AGENT_UID }))';
    const { app, config } = await start({ workerCommand: `${node} -e '${script}'`, grpcDialAddr: '10.1.2.3:50051', workerAgentCommand: 'bash agent.sh' });
    const job = await createPendingJob(prisma);
    const outcome = await app.get(JobLaunchService).launch(job.id);
    if (outcome.status !== 'launched') throw new Error(`not launched: ${outcome.status}`);
    await eventually('the worker to exit', async () =>
      (await prisma.worker.findUniqueOrThrow({ where: { id: outcome.workerId } })).state === 'ended' ? true : undefined,
    );
    const seen: unknown = JSON.parse(await readFile(app.get(LocalProcessLauncher).logPath(outcome.workerId), 'utf8'));
    const workDir = join(config.workerWorkRoot, outcome.workerId);
    expect(seen).toEqual({ id: outcome.workerId, addr: '10.1.2.3:50051', dir: workDir, cwd: workDir, kind: 'command', agent: 'bash agent.sh', agentUid: String(localAgentUid(outcome.workerId)) });
  });

  it("gives each local worker its own agent uid, so that one worker's kill of its agent's processes spares the others'", () => {
    const uids = Array.from({ length: 200 }, (_, index) => localAgentUid(`w-${index}-${index * 7919}`));
    expect(new Set(uids).size).toBe(200);
    for (const uid of uids) expect(uid).toBeGreaterThanOrEqual(100_000);
    for (const uid of uids) expect(uid).toBeLessThan(900_000);
    expect(localAgentUid('w-1')).toBe(localAgentUid('w-1'));
  });

  describe('the agent settings of a local worker', () => {
    const saved = { ...process.env };
    const passed: Record<string, string> = {
      OPENAI_API_KEY: 'sk-test-openai-key',
      CODEX_MODEL: 'gpt-5-codex',
      CODEX_PATH: '/opt/codex/bin/codex',
      CODEX_BASE_URL: 'http://127.0.0.1:9/v1',
      AGENT_MAX_TURNS: '12',
      AGENT_MAX_TOKENS: '3000000',
      AGENT_TIMEOUT_MS: '600000',
      PUBLISHER: 'github',
      GITHUB_TOKEN: 'ghs_test-github-token',
      GITHUB_API_URL: 'https://ghe.example.test/api/v3',
      GITHUB_REPOSITORY: 'acme/orders-api',
      GITHUB_REPORT_LABEL: 'ops-report',
      LOG_FORMAT: 'json',
    };
    const kept: Record<string, string> = {
      AWS_ACCESS_KEY_ID: 'AKIATESTKEY',
      AWS_SECRET_ACCESS_KEY: 'aws-test-secret',
      AWS_SESSION_TOKEN: 'aws-test-session',
      AWS_REGION: 'eu-west-1',
      SQS_QUEUE_URL: 'http://127.0.0.1:9/queue',
      CODEX_API_KEY: 'sk-not-for-workers',
      SOME_SERVICE_PASSWORD: 'hunter2',
    };

    afterEach(() => {
      process.env = { ...saved };
    });

    async function workerEnv(overrides: Partial<ConductorConfig>): Promise<Record<string, string>> {
      const script = 'console.log(JSON.stringify(process.env))';
      const { app } = await start({ workerCommand: `${node} -e '${script}'`, ...overrides });
      const job = await createPendingJob(prisma);
      const outcome = await app.get(JobLaunchService).launch(job.id);
      if (outcome.status !== 'launched') throw new Error(`not launched: ${outcome.status}`);
      await eventually('the worker to exit', async () =>
        (await prisma.worker.findUniqueOrThrow({ where: { id: outcome.workerId } })).state === 'ended' ? true : undefined,
      );
      return JSON.parse(await readFile(app.get(LocalProcessLauncher).logPath(outcome.workerId), 'utf8')) as Record<string, string>;
    }

    it('passes what a Codex run and the GitHub publisher need, and none of the conductor\'s other secrets', async () => {
      Object.assign(process.env, passed, kept);
      const env = await workerEnv({ workerAgentKind: 'codex' });

      expect(env).toMatchObject({ ...passed, AGENT_KIND: 'codex' });
      const names = Object.keys(env);
      expect(names.filter((name) => name.startsWith('AWS_') || name in kept)).toEqual([]);
      expect(names).not.toContain('DATABASE_URL');
      const values = JSON.stringify(env);
      for (const secret of [...Object.values(kept), process.env['DATABASE_URL'] ?? 'no DATABASE_URL']) expect(values).not.toContain(secret);
    });

    it('leaves unset settings unset and runs the command agent by default', async () => {
      for (const name of Object.keys(passed)) delete process.env[name];
      const env = await workerEnv({});
      expect(env['AGENT_KIND']).toBe('command');
      expect(Object.keys(env).filter((name) => name in passed)).toEqual([]);
    });
  });

  it('sweeps up jobs left pending', async () => {
    const { app } = await start({ workerCommand: `${node} -e "setTimeout(() => {}, 20000)"` });
    const first = await createPendingJob(prisma, { repository: 'https://github.com/acme/orders-api.git' });
    const second = await createPendingJob(prisma, { repository: 'https://github.com/acme/billing.git' });
    expect(await app.get(PendingSweepService).sweep()).toBe(2);
    const jobs = await prisma.job.findMany({ where: { id: { in: [first.id, second.id] } }, include: { workers: true } });
    expect(jobs.map((job) => [job.status, job.workers.length])).toEqual([
      ['launching', 1],
      ['launching', 1],
    ]);
    expect(await app.get(PendingSweepService).sweep()).toBe(0);
  });

  it('sweeps on its own timer', async () => {
    const { app } = await start({ workerCommand: `${node} -e "setTimeout(() => {}, 20000)"`, pendingSweepIntervalMs: 100 });
    // Observed, not replaced: the timer's passes run the real sweep and report how many jobs each launched.
    const passes = jest.spyOn(app.get(PendingSweepService), 'sweep');
    const job = await createPendingJob(prisma);
    const launched = await eventually('the sweep to launch the job', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
      return row.workers.some((worker) => worker.state === 'launched') ? row : undefined;
    });
    expect(launched).toMatchObject({ status: 'launching', attempts: 1 });
    expect(launched.workers.map((worker) => [worker.attempt, worker.state])).toEqual([[1, 'launched']]);
    // Nothing in this test launches or sweeps: a timer pass did, and launched exactly this one job. Calls made while
    // a pass runs share its promise, so each pass is counted once.
    const launchedPerPass = await Promise.all(new Set(passes.mock.results.map((result) => result.value)));
    expect(launchedPerPass.reduce((sum, count) => sum + count, 0)).toBe(1);
  });
});
