import { launchClientToken } from '@agent-conductor/aws';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { access, link, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import type { AdoptableWorker, WorkerExitListener, WorkerLaunchSpec, WorkerLauncher } from './worker-launcher';

/** What a spool file holds: everything a worker process would have been started with. */
export interface SpooledLaunch {
  workerId: string;
  jobId: string;
  attempt: number;
  env: Record<string, string>;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * WORKER_LAUNCHER=spool: hands each launch to an outside supervisor instead of
 * starting anything. The spec goes into one file per attempt under
 * WORKER_SPOOL_DIR; the supervisor (the conductor bench, which runs hundreds of
 * simulated workers in one process) reads it, runs the worker, and removes the
 * file when that worker is gone. So the file is the worker, as a pid is for the
 * local launcher: it exists while the worker lives, and stopping removes it.
 *
 * The file holds the launch token, as a local worker's environment does: the
 * directory and files are the conductor user's alone, and production refuses
 * this launcher (env.validators.ts).
 */
@Injectable()
export class SpoolLauncher implements WorkerLauncher {
  readonly kind = 'spool';
  private readonly logger = new Logger(SpoolLauncher.name);

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'workerSpoolDir'>) {}

  private pathOf(handle: string): string {
    return join(this.config.workerSpoolDir, handle);
  }

  async launch(spec: WorkerLaunchSpec): Promise<{ handle: string }> {
    await mkdir(this.config.workerSpoolDir, { recursive: true, mode: 0o700 });
    // Named by the attempt, so a repeated launch finds the first one's file instead of handing out a second worker.
    const handle = `${launchClientToken(spec.jobId, spec.attempt)}.json`;
    const launch: SpooledLaunch = { workerId: spec.workerId, jobId: spec.jobId, attempt: spec.attempt, env: spec.env };
    // Written aside and linked into place: the supervisor never reads a half-written spec, and the link, which
    // fails on an existing name, keeps the first launch of the attempt.
    const staging = this.pathOf(`.${handle}.${randomUUID()}`);
    await writeFile(staging, JSON.stringify(launch), { flag: 'wx', mode: 0o600 });
    try {
      await link(staging, this.pathOf(handle));
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    } finally {
      await rm(staging, { force: true });
    }
    return { handle };
  }

  async stop(handle: string, reason: string): Promise<void> {
    this.logger.warn(`withdrawing spooled worker ${handle}: ${reason}`);
    await rm(this.pathOf(handle), { force: true });
  }

  async isAlive(handle: string): Promise<boolean> {
    try {
      await access(this.pathOf(handle));
      return true;
    } catch {
      return false;
    }
  }

  /** The supervisor reports no exits: its removed file is found by `isAlive` polling, as ECS tasks are. */
  onExit(listener: WorkerExitListener): () => void {
    void listener;
    return () => undefined;
  }

  async adopt(worker: AdoptableWorker): Promise<string | null> {
    const handle = worker.launcherHandle ?? `${launchClientToken(worker.jobId, worker.attempt)}.json`;
    return (await this.isAlive(handle)) ? handle : null;
  }
}
