import { createPrismaClient, type Job, type JobStatus, type PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';

const WORKSPACE = resolve(__dirname, '../../..');
const TSX = join(WORKSPACE, 'node_modules/.bin/tsx');
// Nothing listens there: a CLI that answers --help or refuses its arguments must not even try to connect.
const NO_DATABASE = 'postgresql://postgres:postgres@127.0.0.1:1/nothing';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: run through jest with the libs/testing globalSetup');
  return url;
}

/** The CLI as `npm run` starts it: tsx on the entry file, a child process of its own. */
function run(cli: 'jobs' | 'status', args: string[], database = databaseUrl()): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, [join(WORKSPACE, 'tools/cli', `${cli}.ts`), ...args], {
      cwd: WORKSPACE,
      env: { ...process.env, DATABASE_URL: database, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('npm run jobs / npm run status (child processes, real Postgres)', () => {
  let prisma: PrismaClient;
  const actor = `cli:${userInfo().username}`;

  async function job(status: JobStatus = 'pending', kind: Job['kind'] = 'ticket'): Promise<Job> {
    const delivery = await prisma.delivery.create({ data: { sqsMessageId: randomUUID(), receivedAt: new Date(), body: '{}', classification: kind === 'ticket' ? 'ticket' : 'alarm' } });
    return prisma.job.create({
      data: {
        kind,
        key: `CLI-${randomUUID().slice(0, 8)}`,
        deliveryId: delivery.id,
        repository: 'repo.git',
        claimKey: 'repo.git',
        taskMarkdown: '# task',
        status,
        ...(status === 'pending' ? {} : { attempts: 1 }),
      },
    });
  }
  const statusOf = async (id: string) => (await prisma.job.findUniqueOrThrow({ where: { id } })).status;

  beforeAll(() => {
    prisma = createPrismaClient(databaseUrl());
  });
  afterAll(() => prisma.$disconnect());
  beforeEach(() => resetDatabase(prisma));

  describe('jobs', () => {
    it('prints its usage for --help and refuses bad arguments with exit 2, before touching a database', async () => {
      const help = await run('jobs', ['--help'], NO_DATABASE);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain('usage: npm run jobs -- <cancel|rerun|approve|reject> <jobId>');
      for (const args of [['cancel', randomUUID(), '--no-such-flag'], ['stop', randomUUID()], ['cancel']]) {
        const refused = await run('jobs', args, NO_DATABASE);
        expect({ args, code: refused.code }).toEqual({ args, code: 2 });
        expect(refused.stderr).toMatch(/^jobs: .+\nusage: npm run jobs -- .+\(--help for more\)\n$/);
        expect(refused.stdout).toBe('');
      }
      expect((await run('jobs', ['--no-such-flag'], NO_DATABASE)).stderr).toContain('unknown option --no-such-flag (known: --reason --json)');
    });

    it('cancels a waiting job as cli:<os user>, says there is nothing to do the second time, and refuses an ended job with exit 1', async () => {
      const waiting = await job();
      const first = await run('jobs', ['cancel', waiting.id, '--reason', 'duplicate']);
      expect(first).toEqual({ code: 0, stdout: `job ${waiting.id}: cancelled\n`, stderr: '' });
      expect(await statusOf(waiting.id)).toBe('cancelled');
      expect(await prisma.jobAction.findMany({ select: { action: true, actor: true, detail: true } })).toEqual([
        { action: 'cancel', actor, detail: { step: 'cancel-waiting', reason: 'duplicate' } },
      ]);
      expect(await run('jobs', ['cancel', waiting.id])).toEqual({ code: 0, stdout: `job ${waiting.id}: nothing to do (already cancelled)\n`, stderr: '' });

      const done = await job('succeeded');
      expect(await run('jobs', ['cancel', done.id])).toEqual({ code: 1, stdout: '', stderr: `job ${done.id} has already ended (succeeded); it cannot be cancelled\n` });
      const unknown = randomUUID();
      expect(await run('jobs', ['approve', unknown])).toEqual({ code: 1, stdout: '', stderr: `job ${unknown} not found\n` });
    });

    it('asks a running job to stop, and re-runs an ended one (--json)', async () => {
      const running = await job('running');
      const stop = await run('jobs', ['cancel', running.id]);
      expect(stop.code).toBe(0);
      expect(stop.stdout).toMatch(/stop requested; it ends cancelled once its worker stops/);
      expect((await prisma.job.findUniqueOrThrow({ where: { id: running.id } })).cancelRequestedAt).not.toBeNull();

      const failed = await job('failed');
      const rerun = await run('jobs', ['rerun', failed.id, '--json']);
      expect(rerun.code).toBe(0);
      const outcome = JSON.parse(rerun.stdout) as { outcome: string; actor: string; rerun: { id: string; rerunOfId: string; status: string } };
      expect(outcome).toMatchObject({ outcome: 'applied', actor, rerun: { rerunOfId: failed.id, status: 'pending' } });
      expect(await statusOf(outcome.rerun.id)).toBe('pending');
    });

    it('approves and rejects jobs awaiting approval', async () => {
      const [first, second] = [await job(), await job()];
      await prisma.job.updateMany({ data: { approval: 'required' } });
      expect(await run('jobs', ['approve', first.id])).toMatchObject({ code: 0, stdout: `job ${first.id}: pending, approval approved\n` });
      expect(await run('jobs', ['reject', second.id])).toMatchObject({ code: 0, stdout: `job ${second.id}: cancelled, approval rejected\n` });
      expect(await run('jobs', ['reject', first.id])).toMatchObject({ code: 1, stderr: `job ${first.id} was already approved\n` });
    });
  });

  describe('status', () => {
    it('prints its usage for --help and refuses bad filters with exit 2, before touching a database', async () => {
      const help = await run('status', ['--help'], NO_DATABASE);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--status STATUS');
      for (const [args, problem] of [
        [['--status', 'done'], '--status done: expected one of'],
        [['--limit', '0'], '--limit must be a whole number ≥ 1'],
        [['--verbose'], 'unknown option --verbose (known: --status --kind --limit --json)'],
      ] as const) {
        const refused = await run('status', [...args], NO_DATABASE);
        expect({ args, code: refused.code, stdout: refused.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(refused.stderr).toMatch(/^status: .+\nusage: npm run status -- .+\(--help for more\)\n$/);
        expect(refused.stderr).toContain(problem);
      }
    });

    it('filters by status and kind and keeps the newest --limit jobs, with their workers only', async () => {
      const old = await job('failed');
      await job('succeeded');
      const incident = await job('failed', 'incident');
      await prisma.worker.create({ data: { jobId: old.id, attempt: 1, launcher: 'local', tokenHash: 'h', state: 'ended' } });
      const parse = (out: Run) => JSON.parse(out.stdout) as { jobs: Array<{ id: string }>; workers: Array<{ jobId: string }> };

      const failed = parse(await run('status', ['--status', 'failed', '--json']));
      expect(failed.jobs.map((row) => row.id)).toEqual([old.id, incident.id]);
      expect(failed.workers.map((row) => row.jobId)).toEqual([old.id]);
      const incidents = parse(await run('status', ['--kind', 'incident', '--json']));
      expect(incidents).toEqual({ jobs: [expect.objectContaining({ id: incident.id })], workers: [] });
      const newest = parse(await run('status', ['--status', 'failed', '--limit', '1', '--json']));
      expect(newest.jobs.map((row) => row.id)).toEqual([incident.id]);
      const table = await run('status', ['--kind', 'incident']);
      expect(table.stdout).toMatch(/^1 job\(s\)\n/);
      expect(table.stdout).toContain(incident.id);
    });
  });
});
