/**
 * The chaos run's processes: Postgres that can be stopped and started again on
 * the same data directory and port, and apps from dist/ that can be `kill -9`ed
 * and restarted with the same environment (so workers find the conductor at the
 * same address).
 */
import { startDevPostgres, type RunningPostgres } from '@agent-conductor/testing';
import { WORKSPACE } from '@agent-conductor/dev-stack';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Log = (line: string) => void;

export class RestartablePostgres {
  private running: RunningPostgres | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly port: number,
  ) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Initialises the cluster on first use; later starts reuse the data directory. */
  async start(): Promise<string> {
    const running = await startDevPostgres({ dataDir: this.dataDir, port: this.port, database: 'agent_conductor', log: () => undefined });
    this.running = running;
    return running.databaseUrl;
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stop();
  }
}

/**
 * One app from dist/ under supervision. A crash that the harness did not cause
 * is restarted after a second, as ECS would, and counted: the harness reports it.
 */
export class SupervisedApp {
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  private intentional = false;
  private shuttingDown = false;
  private restartTimer: NodeJS.Timeout | undefined;
  starts = 0;
  kills = 0;
  crashes = 0;

  constructor(
    readonly name: 'conductor' | 'scheduler',
    private readonly env: Record<string, string>,
    private readonly logFile: string,
    private readonly log: Log,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.shuttingDown) return;
    // Appending keeps every incarnation's output in one file for post-mortems.
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [join(WORKSPACE, 'dist/apps', this.name, 'main.js')], {
        cwd: WORKSPACE,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), NODE_ENV: 'development', ...this.env },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.starts++;
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!this.intentional && !this.shuttingDown) {
          this.crashes++;
          this.log(`${this.name} (pid ${child.pid}) exited on its own (code ${code}, signal ${signal}); restarting in 1 s`);
          this.restartTimer = setTimeout(() => this.start(), 1000);
        }
        resolve();
      }),
    );
  }

  /** `kill -9`, wait for the exit, then start again after `downMs`. */
  async killAndRestart(downMs: number): Promise<number | undefined> {
    const child = this.child;
    if (!child) return undefined;
    this.intentional = true;
    child.kill('SIGKILL');
    await this.exit;
    this.intentional = false;
    this.kills++;
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.start();
    return child.pid;
  }

  /** For the end of the run: SIGTERM, then SIGKILL if it lingers. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exit;
    clearTimeout(timer);
  }

  /** Synchronous, for signal handlers. */
  killNow(): void {
    this.shuttingDown = true;
    clearTimeout(this.restartTimer);
    this.child?.kill('SIGKILL');
  }
}
