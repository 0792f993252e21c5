import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import type { WorkerExit, WorkerExitListener, WorkerLaunchSpec, WorkerLauncher } from './worker-launcher';

/**
 * The parent's variables a worker may see. Everything else (DATABASE_URL, AWS
 * credentials, ...) stays with the conductor: a worker runs an AI agent and
 * should hold no secret but its own token.
 */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'SHELL', 'PROTO_DIR', 'PUBLISHER', 'MAX_AGENT_ATTEMPTS'];
const INHERITED_PREFIXES = ['GIT_'];

function inheritedEnv(parent: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (INHERITED_ENV.includes(name) || INHERITED_PREFIXES.some((prefix) => name.startsWith(prefix))) env[name] = value;
  }
  return env;
}

/** Runs each worker as a child process of the conductor (WORKER_LAUNCHER=local). */
@Injectable()
export class LocalProcessLauncher implements WorkerLauncher, OnModuleDestroy {
  readonly kind = 'local';
  private readonly logger = new Logger(LocalProcessLauncher.name);
  private readonly children = new Map<string, ChildProcess>();
  private readonly listeners = new Set<WorkerExitListener>();
  private readonly pendingListeners = new Set<Promise<void>>();

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig) {}

  /** Where a worker's stdout and stderr go; the conductor's own log stays readable. */
  logPath(workerId: string): string {
    return join(this.config.runDir, 'logs', `worker-${workerId}.log`);
  }

  async launch(spec: WorkerLaunchSpec): Promise<{ handle: string }> {
    mkdirSync(spec.workDir, { recursive: true });
    mkdirSync(join(this.config.runDir, 'logs'), { recursive: true });
    const logFd = openSync(this.logPath(spec.workerId), 'a', 0o600);
    let child: ChildProcess;
    try {
      // `exec` makes the shell become the worker, so the pid we store is the worker's own.
      child = spawn('/bin/sh', ['-c', `exec ${this.config.workerCommand}`], {
        cwd: spec.workDir,
        env: { ...inheritedEnv(process.env), ...spec.env },
        stdio: ['ignore', logFd, logFd],
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
      this.children.delete(handle);
      this.emitExit({ workerId: spec.workerId, handle, code, signal });
    });
    return { handle };
  }

  async stop(handle: string): Promise<void> {
    this.children.get(handle)?.kill('SIGTERM');
  }

  async isAlive(handle: string): Promise<boolean> {
    const child = this.children.get(handle);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  onExit(listener: WorkerExitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Only reached when the app closes without the shutdown gate (tests,
   * SIGINT in dev); after the gate no child is left. Runs before the database
   * closes, so the exits are still recorded.
   */
  async onModuleDestroy(): Promise<void> {
    const exits = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
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
