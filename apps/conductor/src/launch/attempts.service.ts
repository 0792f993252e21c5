import type { Prisma, Worker } from '@agent-conductor/db';
import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { JiraReportRecorder } from '../jira/jira-report.recorder';
import { ConductorMetrics } from '../metrics/conductor-metrics.service';
import { retryDelayMs } from './retry-policy';

/** `cancelled`: an operator had asked the job to stop, so the attempt's end is the job's end, never a retry. */
export type AttemptOutcome = 'retrying' | 'failed' | 'cancelled' | 'unchanged';

export interface EndAttemptOptions {
  /** False for failures that would repeat (bad configuration); those fail the job at once. */
  retryable: boolean;
  /** The worker event that records why (e.g. `exited`, `handshake-deadline`, `heartbeat-lost`). */
  event: string;
  detail?: Prisma.InputJsonObject;
}

/**
 * Ends one attempt of a job after an infrastructure failure and decides what
 * comes next: the job goes back to `pending` with a backoff (the sweep
 * relaunches it once `next_attempt_at` has passed) until MAX_JOB_ATTEMPTS,
 * then `failed` with the last reason. An agent that reported an error of its
 * own was not let down by the infrastructure, so its job is not retried.
 */
@Injectable()
export class AttemptService {
  private readonly logger = new Logger(AttemptService.name);

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    private readonly jobs: JobRepository,
    private readonly workers: WorkerRepository,
    private readonly metrics: ConductorMetrics,
    private readonly jiraReports: JiraReportRecorder,
  ) {}

  /** When the next attempt after `attempt` may start. */
  nextAttemptAt(attempt: number, now: Date = new Date()): Date {
    return new Date(now.getTime() + retryDelayMs(attempt, this.config));
  }

  async endAttempt(worker: Pick<Worker, 'id' | 'jobId' | 'attempt'>, reason: string, options: EndAttemptOptions): Promise<AttemptOutcome> {
    const agentReported = await this.workers.hasEvent(worker.id, 'agent-error');
    const retryable = options.retryable && !agentReported;
    const retryAt = this.nextAttemptAt(worker.attempt);
    const outcome = await this.workers.transaction(async (tx): Promise<AttemptOutcome> => {
      const ended = await this.workers.end(worker.id, reason, tx);
      await this.workers.appendEvent(worker.id, options.event, { ...options.detail, reason, beforeShutdown: ended }, tx);
      if (!ended) return 'unchanged';
      const next = await this.jobs.retryOrFail(worker.jobId, worker.attempt, reason, { maxAttempts: retryable ? this.config.maxJobAttempts : 0, retryAt }, tx);
      if (next === 'failed') await this.jiraReports.jobEnded(worker.jobId, worker.attempt, tx);
      if (next !== 'unchanged') {
        await this.workers.appendEvent(
          worker.id,
          'attempt-ended',
          next === 'retrying' ? { next, nextAttemptAt: retryAt.toISOString() } : { next, agentReported, retryable: options.retryable },
          tx,
        );
      }
      return next;
    });
    if (outcome === 'retrying' || outcome === 'failed') this.metrics.attemptFailed(options.event);
    this.log(worker.jobId, worker.attempt, reason, outcome, retryAt);
    return outcome;
  }

  /** For a failure before any worker row existed for the attempt. */
  async endUnregisteredAttempt(jobId: string, attempt: number, reason: string, retryable: boolean): Promise<AttemptOutcome> {
    const retryAt = this.nextAttemptAt(attempt);
    const outcome = await this.workers.transaction(async (tx) => {
      const next = await this.jobs.retryOrFail(jobId, attempt, reason, { maxAttempts: retryable ? this.config.maxJobAttempts : 0, retryAt }, tx);
      if (next === 'failed') await this.jiraReports.jobEnded(jobId, attempt, tx);
      return next;
    });
    if (outcome === 'retrying' || outcome === 'failed') this.metrics.attemptFailed('register_failed');
    this.log(jobId, attempt, reason, outcome, retryAt);
    return outcome;
  }

  private log(jobId: string, attempt: number, reason: string, outcome: AttemptOutcome, retryAt: Date): void {
    if (outcome === 'retrying') this.metrics.jobRetried();
    if (outcome === 'retrying') this.logger.warn(`job ${jobId} attempt ${attempt}: ${reason}; retrying at ${retryAt.toISOString()}`);
    else if (outcome === 'failed') this.logger.error(`job ${jobId} attempt ${attempt}: ${reason}; job failed`);
    else if (outcome === 'cancelled') this.logger.log(`job ${jobId} attempt ${attempt}: ${reason}; job cancelled as an operator asked`);
  }
}
