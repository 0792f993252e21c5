/**
 * `npm run dev` as a newcomer meets it: in a fresh copy of the repository (no .nx/, dist/ or generated clients;
 * node_modules linked), three cold starts in a row, each stopped a different way, then a start that fails. After
 * each, nothing it started may be left: no process carrying the run's tag, every port free.
 */
import { processesWithEnvironment, type TaggedProcess } from '@agent-conductor/testing';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, WORKSPACE } from '../src/local-stack';

// A cold build of three apps on a busy 2-core machine, then two app boots.
const START_TIMEOUT_MS = 420_000;
// The stack's own grace per part is 10 s; four parts, one after the other, and slack for a loaded machine.
const STOP_TIMEOUT_MS = 60_000;
const TAG_VARIABLE = 'DEV_STACK_TEST_TAG';

interface Ports {
  postgres: number;
  sqs: number;
  schedulerGrpc: number;
  schedulerHttp: number;
  conductorGrpc: number;
  conductorHttp: number;
}

interface DevRun {
  npm: ChildProcess;
  tag: string;
  ports: Ports;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const copies: string[] = [];
const runs: DevRun[] = [];

/** What a clone has: tracked and untracked-but-not-ignored files, so this tests the working tree as it is. */
async function freshCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'npm-run-dev-'));
  copies.push(dir);
  // As root, embedded Postgres runs as the `postgres` user, who must reach .dev/postgres inside (mkdtemp gives 0700).
  await chmod(dir, 0o755);
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: WORKSPACE }).toString('utf8');
  // node_modules is a symlink in worktrees (so not ignored as a directory); deleted files are still "cached".
  const files = listed.split('\0').filter((file) => file !== '' && file !== 'node_modules' && existsSync(join(WORKSPACE, file)));
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(WORKSPACE, file), join(dir, file));
  }
  await symlink(realpathSync(join(WORKSPACE, 'node_modules')), join(dir, 'node_modules'));
  return dir;
}

async function freePorts(): Promise<Ports> {
  return {
    postgres: await freePort(),
    sqs: await freePort(),
    schedulerGrpc: await freePort(),
    schedulerHttp: await freePort(),
    conductorGrpc: await freePort(),
    conductorHttp: await freePort(),
  };
}

/** A terminal's environment: nothing a surrounding Nx task or jest set, and no database or queue to reuse. */
function devEnvironment(copy: string, ports: Ports, tag: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([name]) => !/^(NX_|npm_|JEST_)/.test(name) && !['NODE_ENV', 'NODE_OPTIONS', 'DATABASE_URL', 'SQS_QUEUE_URL', 'SQS_ENDPOINT'].includes(name),
  );
  return {
    ...Object.fromEntries(inherited),
    // Nx 23 otherwise shares one per-user cache between checkouts of a repository: the copy would start warm.
    NX_CACHE_DIRECTORY: join(copy, '.nx', 'cache'),
    NX_WORKSPACE_DATA_DIRECTORY: join(copy, '.nx', 'workspace-data'),
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    DEV_POSTGRES_PORT: String(ports.postgres),
    DEV_SQS_PORT: String(ports.sqs),
    SCHEDULER_GRPC_LISTEN_ADDR: `127.0.0.1:${ports.schedulerGrpc}`,
    SCHEDULER_HTTP_PORT: String(ports.schedulerHttp),
    CONDUCTOR_GRPC_LISTEN_ADDR: `127.0.0.1:${ports.conductorGrpc}`,
    CONDUCTOR_HTTP_PORT: String(ports.conductorHttp),
    [TAG_VARIABLE]: tag,
  };
}

function startNpmRunDev(copy: string, ports: Ports): DevRun {
  const tag = `run-${randomBytes(6).toString('hex')}`;
  // detached: a process group of its own with npm as its leader, as a terminal gives a foreground job.
  const npm = spawn('npm', ['run', 'dev'], { cwd: copy, env: devEnvironment(copy, ports, tag), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024);
  };
  npm.stdout?.on('data', keep);
  npm.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
  const run: DevRun = { npm, tag, ports, output: () => output, exited };
  runs.push(run);
  return run;
}

function tail(run: DevRun): string {
  return run.output().split('\n').slice(-40).join('\n');
}

async function answersOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function waitForBothApps(run: DevRun): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void run.exited.then((value) => (exit = value));
  for (;;) {
    if (exit) throw new Error(`npm run dev exited (${exit.code ?? exit.signal}) before both apps were healthy:\n${tail(run)}`);
    const [scheduler, conductor] = await Promise.all([
      answersOk(`http://127.0.0.1:${run.ports.schedulerHttp}/health`),
      answersOk(`http://127.0.0.1:${run.ports.conductorHttp}/health`),
    ]);
    if (scheduler && conductor) return;
    if (Date.now() > deadline) {
      throw new Error(`after ${START_TIMEOUT_MS / 1000} s: scheduler healthy ${scheduler}, conductor healthy ${conductor}:\n${tail(run)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function tagged(run: DevRun): TaggedProcess[] {
  return processesWithEnvironment((variable) => variable === `${TAG_VARIABLE}=${run.tag}`);
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server: Server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Everything it started is gone and every port it used is free again, within the bound. */
async function expectNothingLeft(run: DevRun, ports: number[]): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const alive = tagged(run);
    const busy: number[] = [];
    for (const port of ports) if (!(await portIsFree(port))) busy.push(port);
    if (alive.length === 0 && busy.length === 0) return;
    if (Date.now() > deadline) {
      const survivors = alive.map((p) => `  ${p.pid} ${p.command}`).join('\n');
      throw new Error(`${STOP_TIMEOUT_MS / 1000} s after the stop: still running:\n${survivors || '  (none)'}\nports still taken: ${busy.join(', ') || '(none)'}\n${tail(run)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function allPorts(ports: Ports): number[] {
  return Object.values(ports);
}

/** The processes to be stopped, named so that "nothing left" cannot pass because nothing was found to begin with. */
function expectWholeStackRunning(run: DevRun): void {
  const commands = tagged(run).map((p) => p.command);
  expect(commands).toEqual(
    expect.arrayContaining([
      expect.stringContaining('tools/dev-stack/src/main.ts'),
      expect.stringMatching(/bin\/postgres -D \S+\/\.dev\/postgres/),
      expect.stringContaining('dist/apps/scheduler/main.js'),
      expect.stringContaining('dist/apps/conductor/main.js'),
    ]),
  );
}

/** Nx's summary of the build `npm run dev` ran first: nothing came from a cache, so the start was cold. */
function expectColdBuild(run: DevRun): void {
  expect(run.output()).toMatch(/Cache:\s+0\/\d+ hit/);
}

afterEach(() => {
  // A failed test must not leave a stack behind for the next one or for the machine.
  for (const run of runs.splice(0)) {
    for (const { pid } of tagged(run)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone in the meantime.
      }
    }
  }
});

afterAll(async () => {
  if (process.env['KEEP_DEV_COPIES']) return;
  await Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('npm run dev from a fresh copy, three cold starts in a row', () => {
  it('1: starts both apps; Ctrl-C (SIGINT to its process group) stops everything', async () => {
    const run = startNpmRunDev(await freshCopy(), await freePorts());
    await waitForBothApps(run);
    expectColdBuild(run);
    expectWholeStackRunning(run);

    process.kill(-(run.npm.pid ?? 0), 'SIGINT');

    await expectNothingLeft(run, allPorts(run.ports));
    expect(await run.exited).toEqual({ code: 130, signal: null });
  });

  it('2: starts both apps; SIGTERM to npm stops everything', async () => {
    const run = startNpmRunDev(await freshCopy(), await freePorts());
    await waitForBothApps(run);
    expectColdBuild(run);
    expectWholeStackRunning(run);

    run.npm.kill('SIGTERM');

    await expectNothingLeft(run, allPorts(run.ports));
    expect(await run.exited).toEqual({ code: 143, signal: null });
  });

  it('3: starts both apps; when npm is killed outright (SIGKILL), the stack notices and stops everything', async () => {
    const run = startNpmRunDev(await freshCopy(), await freePorts());
    await waitForBothApps(run);
    expectColdBuild(run);
    expectWholeStackRunning(run);

    run.npm.kill('SIGKILL');

    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await expectNothingLeft(run, allPorts(run.ports));
    expect(run.output()).toContain('is gone: stopping');
  });

  it('a start that fails (the conductor port is taken) stops what it had started and exits non-zero', async () => {
    // After the cold starts above, their last copy is built: this start gets as far as the conductor quickly.
    const copy = copies.at(-1) ?? (await freshCopy());
    const ports = await freePorts();
    // Hangs up at once: a connection nobody reads would never see its peer go, and close() would wait for it.
    const blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(ports.conductorHttp, resolve));
    try {
      const run = startNpmRunDev(copy, ports);

      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([run.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (exit === 'timeout' || exit.code !== 1) throw new Error(`expected exit code 1, got ${JSON.stringify(exit)}:\n${tail(run)}`);
      // It got as far as the apps: Postgres, SQS and the scheduler were running and had to be stopped.
      const output = run.output();
      for (const expected of [`embedded Postgres on 127.0.0.1:${ports.postgres}`, 'scheduler healthy', 'failed to start: conductor exited with 1 while waiting for conductor']) {
        if (!output.includes(expected)) throw new Error(`the output lacks "${expected}":\n${tail(run)}`);
      }
      await expectNothingLeft(run, allPorts(ports).filter((port) => port !== ports.conductorHttp));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
