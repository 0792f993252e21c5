import { launchClientToken } from '@agent-conductor/aws';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import type { AdoptableWorker, WorkerExit, WorkerExitListener, WorkerLaunchSpec, WorkerLauncher } from './worker-launcher';

/**
 * The parent's variables a worker may see. Everything else (DATABASE_URL, AWS
 * credentials, ...) stays with the conductor: a worker runs an AI agent and
 * should hold no secret but its own token and what its agent and publisher
 * need (the model API key, the GitHub token), which the worker keeps from the
 * agent's own processes. They go into the child's environment only; nothing
 * here logs an environment.
 */
const INHERITED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'TZ',
  'SHELL',
  'PROTO_DIR',
  'MAX_AGENT_ATTEMPTS',
  'CONDUCTOR_RETRY_WINDOW_MS',
  'CONDUCTOR_LOST_EXIT_MS',
  // TLS to this conductor: the CA that signed its certificate, and the name to expect.
  'CONDUCTOR_TLS_CA',
  'CONDUCTOR_TLS_SERVER_NAME',
  'LOG_FORMAT',
  // The agent (AGENT_KIND comes from WORKER_AGENT_KIND).
  'AGENT_MAX_TURNS',
  'AGENT_MAX_TOKENS',
  'AGENT_TIMEOUT_MS',
  'OPENAI_API_KEY',
  'CODEX_MODEL',
  'CODEX_PATH',
  'CODEX_BASE_URL',
  // The publisher.
  'PUBLISHER',
  'GITHUB_TOKEN',
  'GITHUB_API_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_REPORT_LABEL',
];
const INHERITED_PREFIXES = ['GIT_'];
/** How long a stopped worker gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5000;
/** How long a repeated launch waits for the first one's child to write its pid. */
const PID_WAIT_MS = 2000;
/** The exit status of the launch wrapper when another process already holds the attempt. */
export const DUPLICATE_LAUNCH_EXIT = 75;

function inheritedEnv(parent: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (INHERITED_ENV.includes(name) || INHERITED_PREFIXES.some((prefix) => name.startsWith(prefix))) env[name] = value;
  }
  return env;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** True while `pid` is a live (not zombie) process, and, where /proc tells, the worker `workerId`. */
export async function localWorkerAlive(pid: number, workerId?: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (errorCode(error) !== 'EPERM') return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself hold spaces.
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    if (workerId) {
      // A recycled pid belongs to someone else: the worker's own environment names it.
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
      return environ.split('\0').includes(`WORKER_ID=${workerId}`);
    }
  } catch {
    // No /proc (macOS) or not ours to read: the signal check is all there is.
  }
  return true;
}

/**
 * Runs each worker as a child process of the conductor (WORKER_LAUNCHER=local).
 *
 * Idempotency, the local counterpart of ECS's clientToken: each job attempt
 * has a claim file, created exclusively before anything is spawned, so a
 * second launch of the same attempt (another call, another conductor on the
 * same run directory, a restart) never spawns again. The child itself writes
 * its pid next to it before it becomes the worker, so even a conductor killed
 * right after spawn leaves the pid behind for the next one to adopt.
 */
@Injectable()
export class LocalProcessLauncher implements WorkerLauncher, OnModuleDestroy {
  readonly kind = 'local';
  private readonly logger = new Logger(LocalProcessLauncher.name);
  private readonly children = new Map<string, ChildProcess>();
  /** Workers a previous conductor started: pid → worker id, watched by polling. */
  private readonly adopted = new Map<string, string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<WorkerExitListener>();
  private readonly pendingListeners = new Set<Promise<void>>();

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig) {}

  /** Where a worker's stdout and stderr go; the conductor's own log stays readable. */
  logPath(workerId: string): string {
    return join(this.config.runDir, 'logs', `worker-${workerId}.log`);
  }

  private launchPaths(jobId: string, attempt: number): { claim: string; pid: string } {
    const base = join(this.config.runDir, 'launches', launchClientToken(jobId, attempt));
    return { claim: `${base}.claim`, pid: `${base}.pid` };
  }

  async launch(spec: WorkerLaunchSpec): Promise<{ handle: string }> {
    if (spec.taskDefinition !== undefined) {
      // A route's worker image is an ECS task definition; a local worker runs WORKER_COMMAND whatever the route says.
      this.logger.log(`job ${spec.jobId}: route names worker task definition ${spec.taskDefinition}; ignored by the local launcher`);
    }
    mkdirSync(spec.workDir, { recursive: true });
    mkdirSync(join(this.config.runDir, 'logs'), { recursive: true });
    mkdirSync(join(this.config.runDir, 'launches'), { recursive: true });
    const paths = this.launchPaths(spec.jobId, spec.attempt);
    try {
      const claimFd = openSync(paths.claim, 'wx', 0o600);
      try {
        writeSync(claimFd, `${spec.workerId}\n`);
      } finally {
        closeSync(claimFd);
      }
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      return this.existingLaunch(spec, paths.pid);
    }

    const logFd = openSync(this.logPath(spec.workerId), 'a', 0o600);
    let child: ChildProcess;
    try {
      // The wrapper writes its pid (noclobber: at most once per attempt) and then `exec`s, so the pid is the worker's own.
      child = spawn('/bin/sh', ['-c', `set -C; echo $$ > "$0" || exit ${DUPLICATE_LAUNCH_EXIT}; exec ${this.config.workerCommand}`, paths.pid], {
        cwd: spec.workDir,
        env: {
          ...inheritedEnv(process.env),
          WORK_DIR: spec.workDir,
          AGENT_KIND: this.config.workerAgentKind,
          AGENT_COMMAND: this.config.workerAgentCommand,
          AGENT_UID: String(localAgentUid(spec.workerId)),
          ...spec.env,
        },
        stdio: ['ignore', logFd, logFd],
        // Its own process group: a Ctrl-C or crash of the conductor does not take workers with it, and a stop reaches the agent too.
        detached: true,
      });
    } finally {
      closeSync(logFd);
    }
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.off('error', reject);
        if (child.pid === undefined) reject(new Error('the worker process has no pid'));
        else resolve(child.pid);
      });
    });
    const handle = String(pid);
    this.children.set(handle, child);
    child.on('error', (error) => this.logger.warn(`worker ${spec.workerId} (pid ${handle}): ${error.message}`));
    child.once('exit', (code, signal) => {
      if (this.children.get(handle) !== child) return;
      this.children.delete(handle);
      this.emitExit({ workerId: spec.workerId, handle, code, signal });
    });
    return { handle };
  }

  /** The attempt was claimed before: answer with its pid, as ECS answers a reused clientToken with the original task. */
  private async existingLaunch(spec: WorkerLaunchSpec, pidPath: string): Promise<{ handle: string }> {
    const deadline = Date.now() + PID_WAIT_MS;
    for (;;) {
      const pid = await this.readPid(pidPath);
      if (pid !== null) {
        await this.adopt({ id: spec.workerId, jobId: spec.jobId, attempt: spec.attempt, launcherHandle: String(pid) });
        return { handle: String(pid) };
      }
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw Object.assign(new Error(`attempt ${spec.attempt} of job ${spec.jobId} was launched before, but its worker never started`), {
      retryable: true,
    });
  }

  private async readPid(path: string): Promise<number | null> {
    try {
      const pid = Number((await readFile(path, 'utf8')).trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  async adopt(worker: AdoptableWorker): Promise<string | null> {
    const handle = worker.launcherHandle ?? (await this.readPid(this.launchPaths(worker.jobId, worker.attempt).pid))?.toString() ?? null;
    if (handle === null || this.children.has(handle) || this.adopted.has(handle)) return handle;
    this.adopted.set(handle, worker.id);
    // Exit events went to the conductor that spawned it; from here on only polling can tell.
    this.pollTimer ??= setInterval(() => void this.pollAdopted(), Math.min(1000, this.config.orphanCheckIntervalMs));
    this.pollTimer.unref();
    return handle;
  }

  private async pollAdopted(): Promise<void> {
    for (const [handle, workerId] of [...this.adopted]) {
      if (await localWorkerAlive(Number(handle), workerId)) continue;
      if (!this.adopted.delete(handle)) continue;
      this.emitExit({ workerId, handle, code: null, signal: null, unknownStatus: true });
    }
    if (this.adopted.size === 0) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  async stop(handle: string, reason: string): Promise<void> {
    const pid = Number(handle);
    if (!Number.isInteger(pid) || pid <= 0) return;
    this.logger.warn(`stopping worker pid ${handle}: ${reason}`);
    this.signal(pid, 'SIGTERM');
    const kill = setTimeout(() => {
      void this.isAlive(handle).then((alive) => {
        if (alive) this.signal(pid, 'SIGKILL');
      });
    }, STOP_GRACE_MS);
    kill.unref();
  }

  /** The whole process group: the worker and the agent it runs. */
  private signal(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  async isAlive(handle: string): Promise<boolean> {
    const child = this.children.get(handle);
    if (child) return child.exitCode === null && child.signalCode === null;
    return localWorkerAlive(Number(handle), this.adopted.get(handle));
  }

  onExit(listener: WorkerExitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Lets the workers run on without this conductor (handoff, or a test of a
   * conductor restart): their exits are no longer reported here and closing
   * the app does not stop them. The next conductor adopts them.
   */
  releaseWorkers(): void {
    for (const child of this.children.values()) {
      child.removeAllListeners('exit');
      child.unref();
    }
    this.children.clear();
    this.adopted.clear();
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /**
   * Only reached when the app closes without the shutdown gate (tests,
   * SIGINT in dev); after the gate no child is left. Runs before the database
   * closes, so the exits are still recorded.
   */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    const exits = [...this.children.entries()].map(
      ([handle, child]) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.signal(Number(handle), 'SIGKILL');
            resolve();
          }, STOP_GRACE_MS);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          this.signal(Number(handle), 'SIGTERM');
        }),
    );
    await Promise.all(exits);
    await Promise.all([...this.pendingListeners]);
  }

  private emitExit(exit: WorkerExit): void {
    for (const listener of this.listeners) {
      const done = Promise.resolve()
        .then(() => listener(exit))
        .catch((error: unknown) => this.logger.error(`exit listener failed for worker ${exit.workerId}: ${String(error)}`))
        .finally(() => this.pendingListeners.delete(done));
      this.pendingListeners.add(done);
    }
  }
}

/**
 * Workers on one host share its uids. A worker run as root starts its agent as AGENT_UID and, before it pushes,
 * kills every process of that uid; with one uid for all, one worker would kill the others' agents. So each gets
 * its own, from its id: 100000 + FNV-1a(workerId) mod 800000 (two of 20 concurrent workers collide once in ~4000
 * runs). In ECS every worker is its own task, with its own process namespace, and keeps the image's 10001.
 */
export function localAgentUid(workerId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(workerId, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return 100_000 + (hash % 800_000);
}
