/**
 * `npm run dev`: builds what the stack runs through Nx (`dev-stack:prerequisites`: the generated clients and the
 * three apps), then runs the local stack (./dev-stack.ts) in the foreground until it is stopped.
 *
 * One Nx run that finishes before anything is served: Nx continuous tasks whose executors start nested Nx builds
 * raced each other for the same generate tasks (Nx stops a nested run that re-enters a task its parent runs), and
 * ran the stack in a process group of its own that outlived `npm run dev`. Here this process is npm's child, every
 * part of the stack is its child in the same process group, and the supervisor stops them all.
 */
import { useLocalDevEnvironment } from '@agent-conductor/cli-args';
import { errorMessage } from '@agent-conductor/scheduling-domain';
import { spawn } from 'node:child_process';
import { loadDevStackConfig, type DevStackConfig } from './config/env.validators';
import { Supervisor } from './supervisor';
import { WORKSPACE } from './workspace';

/** Long enough for initdb and the migrations of a first start, which cannot be interrupted half-way. */
const START_STEP_SETTLE_MS = 60_000;

function log(line: string): void {
  process.stdout.write(`[dev-stack] ${line}\n`);
}

async function buildPrerequisites(supervisor: Supervisor): Promise<void> {
  // Same process group: Ctrl-C reaches Nx and its build tasks directly.
  const nx = spawn(process.execPath, [require.resolve('nx/bin/nx.js'), 'run', 'dev-stack:prerequisites', '--outputStyle=static-failures-only'], {
    cwd: WORKSPACE,
    stdio: 'inherit',
  });
  const stopNx = (): void => void nx.kill('SIGTERM');
  supervisor.signal.addEventListener('abort', stopNx, { once: true });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    nx.once('error', reject);
    nx.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  }).finally(() => supervisor.signal.removeEventListener('abort', stopNx));
  supervisor.signal.throwIfAborted();
  if (code !== 0) throw new Error(`the build (nx run dev-stack:prerequisites) failed with ${code ?? signal}; its output above says why`);
}

async function main(): Promise<void> {
  // Before anything starts: the apps, Nx and Postgres inherit it (npm run dev no longer goes through `nx serve`
  // and its .env.serve).
  useLocalDevEnvironment();
  let config: DevStackConfig;
  try {
    config = loadDevStackConfig(process.env);
  } catch (error) {
    process.stderr.write(`[dev-stack] ${errorMessage(error)}\n`);
    process.exit(1);
  }
  const supervisor = new Supervisor({ log, settleMs: START_STEP_SETTLE_MS, partStopMs: config.stopGraceMs + 5_000 });
  supervisor.handleSignals();
  supervisor.watchParent();
  try {
    await supervisor.step(() => buildPrerequisites(supervisor));
    // Loaded only now: it imports the Prisma client that the build has just generated.
    const { startDevStack } = await import('./dev-stack');
    await startDevStack(config, supervisor, log);
  } catch (error) {
    // A stop under way has said why; what failed here is only its consequence.
    if (supervisor.isStopping) return;
    process.stderr.write(`[dev-stack] failed to start: ${errorMessage(error)}\n`);
    await supervisor.stop('start failed', 1);
  }
}

void main();
