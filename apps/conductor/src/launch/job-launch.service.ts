import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { renderAgentsFile } from '@agent-conductor/scheduling-domain';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { hashWorkerToken, newWorkerToken } from '../common/worker-token';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { ConductorMetrics } from '../metrics/conductor-metrics.service';
import { AttemptService, type AttemptOutcome } from './attempts.service';
import { TaskArchiveStore } from './task-archive.store';
import { isRetryableLaunchError, WORKER_LAUNCHER, type WorkerExit, type WorkerLauncher } from './worker-launcher';

export type LaunchOutcome =
  | { status: 'launched'; workerId: string; handle: string }
  /** Another call or conductor claimed it first, or it is not pending. */
  | { status: 'not-claimed' }
  /** The conductor is draining for shutdown; the job stays pending for the next one. */
  | { status: 'draining' }
  /** The attempt failed; `next` says whether the job waits for another attempt or failed for good. */
  | { status: 'failed'; workerId?: string; reason: string; next?: AttemptOutcome };

/** Duck-typed: errors from Node's core can come from another realm (jest) and fail `instanceof Error`. */
function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}

/** Turns pending jobs into running workers, and notices workers that die. */
@Injectable()
export class JobLaunchService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobLaunchService.name);
  private readonly inFlight = new Set<Promise<LaunchOutcome>>();
  private draining = false;
  private unsubscribeExit: (() => void) | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    @Inject(WORKER_LAUNCHER) private readonly launcher: WorkerLauncher,
    private readonly jobs: JobRepository,
    private readonly workers: WorkerRepository,
    private readonly archives: TaskArchiveStore,
    private readonly attempts: AttemptService,
    private readonly metrics: ConductorMetrics,
  ) {}

  onModuleInit(): void {
    this.unsubscribeExit = this.launcher.onExit((exit) => this.handleExit(exit));
  }

  onModuleDestroy(): void {
    this.unsubscribeExit?.();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
  }

  /**
   * Relaunches a retried job when its backoff ends, so a retry does not also
   * wait for the next sweep; the sweep stays the backstop after a restart.
   */
  scheduleRetry(jobId: string, at: Date): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (!this.draining) this.launchInBackground(jobId);
    }, Math.max(0, at.getTime() - Date.now()));
    timer.unref();
    this.retryTimers.add(timer);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Launches in the background; the caller (intake, sweep) must not wait on a worker to start. */
  launchInBackground(jobId: string): void {
    void this.launch(jobId);
  }

  launch(jobId: string): Promise<LaunchOutcome> {
    const attempt = this.launchClaimed(jobId).catch((error: unknown): LaunchOutcome => {
      // Only reached when even recording the failure failed (e.g. the database went away).
      this.logger.error(`launch of job ${jobId} failed: ${describe(error)}`);
      return { status: 'failed', reason: describe(error) };
    });
    this.inFlight.add(attempt);
    void attempt.finally(() => this.inFlight.delete(attempt));
    return attempt;
  }

  /** Stops new launches and waits for the ones already under way, for the shutdown gate. */
  async stopLaunching(): Promise<void> {
    this.draining = true;
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private async launchClaimed(jobId: string): Promise<LaunchOutcome> {
    if (this.draining) return { status: 'draining' };
    const job = await this.jobs.claim(jobId);
    if (!job) return { status: 'not-claimed' };

    const token = newWorkerToken();
    let workerId: string;
    try {
      const worker = await this.workers.register({
        jobId,
        attempt: job.attempts,
        launcher: this.launcher.kind,
        tokenHash: hashWorkerToken(token),
      });
      workerId = worker.id;
    } catch (error) {
      const reason = `could not register a worker: ${describe(error)}`;
      const next = await this.attempts.endUnregisteredAttempt(jobId, job.attempts, reason, true);
      await this.afterAttempt(jobId, next);
      return { status: 'failed', reason, next };
    }

    try {
      const archive = await this.archives.build(workerId, {
        taskMarkdown: job.taskMarkdown,
        agentsMarkdown: renderAgentsFile(job.kind),
      });
      await this.workers.appendEvent(workerId, 'task-archive-built', { bytes: archive.bytes, sha256: archive.sha256 });
      const workDir = join(this.config.workerWorkRoot, workerId);
      const { handle } = await this.launcher.launch({
        workerId,
        jobId,
        attempt: job.attempts,
        workDir,
        env: {
          WORKER_ID: workerId,
          WORKER_TOKEN: token,
          CONDUCTOR_GRPC_SERVER_ADDR: this.config.grpcDialAddr,
        },
        ...(job.workerTaskDefinition !== null ? { taskDefinition: job.workerTaskDefinition } : {}),
      });
      await this.workers.markLaunched(workerId, handle);
      this.metrics.launchStarted();
      await this.workers.appendEvent(workerId, 'launched', { launcher: this.launcher.kind, handle });
      this.logger.log(`job ${jobId} (${job.kind} ${job.key}) attempt ${job.attempts}: worker ${workerId} launched as ${handle}`);
      return { status: 'launched', workerId, handle };
    } catch (error) {
      const reason = `launch failed: ${describe(error)}`;
      const next = await this.attempts.endAttempt({ id: workerId, jobId, attempt: job.attempts }, reason, {
        retryable: isRetryableLaunchError(error),
        event: 'launch-failed',
      });
      await this.afterAttempt(jobId, next);
      return { status: 'failed', workerId, reason, next };
    }
  }

  /** After an attempt ended: a job waiting for another attempt is relaunched when its backoff ends. */
  async afterAttempt(jobId: string, next: AttemptOutcome): Promise<void> {
    if (next !== 'retrying') return;
    const job = await this.jobs.findById(jobId);
    if (job?.status === 'pending' && job.nextAttemptAt) this.scheduleRetry(jobId, job.nextAttemptAt);
  }

  /**
   * A worker's process ended. After a Shutdown call the worker is already
   * ended and this only adds to its history; otherwise the worker died
   * mid-job: a crash, so the attempt ends and the job is retried.
   */
  async handleExit(exit: WorkerExit): Promise<void> {
    const reason = exit.unknownStatus
      ? 'exited before shutdown (noticed after a conductor restart)'
      : exit.code !== null
        ? `exited with code ${exit.code} before shutdown`
        : `killed by ${exit.signal ?? 'a signal'} before shutdown`;
    const worker = await this.workers.findById(exit.workerId);
    if (!worker) return;
    const next = await this.attempts.endAttempt(worker, reason, {
      retryable: true,
      event: 'exited',
      detail: { code: exit.code, signal: exit.signal },
    });
    await this.afterAttempt(worker.jobId, next);
  }
}
