import { AdmissionRepository, JobRepository, WorkerRepository, type Job } from '@agent-conductor/db';
import { renderAgentsFile, type AdmissionLimits, type WaitingJob, errorMessage } from '@agent-conductor/scheduling-domain';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { jobRepositories } from '../common/job-repositories';
import { hashWorkerToken, newWorkerToken } from '../common/worker-token';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { FollowUpLaunchService } from '../follow-up/follow-up-launch.service';
import { FollowUpSessionService } from '../follow-up-session/follow-up-session.service';
import { IncidentEvidenceService, type EvidencePack } from '../incident-evidence/incident-evidence.service';
import { ConductorMetrics } from '../metrics/conductor-metrics.service';
import { AttemptService, type AttemptOutcome } from './attempts.service';
import { TaskArchiveStore } from './task-archive.store';
import { isRetryableLaunchError, WORKER_LAUNCHER, type WorkerExit, type WorkerLauncher } from './worker-launcher';

export type LaunchOutcome =
  | { status: 'launched'; workerId: string; handle: string }
  /** Not admitted by the pass: another conductor launched it, or it is no longer pending. */
  | { status: 'not-claimed' }
  /** Still pending: admission keeps it waiting, for `reason`. */
  | { status: 'waiting'; reason: string }
  /** The conductor is draining for shutdown; the job stays pending for the next one. */
  | { status: 'draining' }
  /** An operator cancelled the job while it was being launched: nothing was started, and the job ended `cancelled`. */
  | { status: 'cancelled'; workerId: string }
  /** The attempt failed; `next` says whether the job waits for another attempt or failed for good. */
  | { status: 'failed'; workerId?: string; reason: string; next?: AttemptOutcome };

/** What one admission round (a pass, and the passes asked for while it ran) did. */
export interface AdmissionRound {
  /** The launch of every job admitted, by job id. */
  launches: Map<string, Promise<LaunchOutcome>>;
  /** The jobs left waiting by the round's last pass, with their reasons. */
  waiting: WaitingJob[];
}

/** Duck-typed: errors from Node's core can come from another realm (jest) and fail `instanceof Error`. */

/**
 * Turns pending jobs into running workers, as admission allows, and notices workers that die. Admission runs
 * whenever something may have changed who can start: a decision arrived (intake), an attempt ended (Shutdown, exit,
 * heartbeat loss, a failed launch), a retry backoff ended, and in the periodic sweep as a backstop.
 */
@Injectable()
export class JobLaunchService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobLaunchService.name);
  private readonly inFlight = new Set<Promise<LaunchOutcome>>();
  private draining = false;
  private closed = false;
  private unsubscribeExit: (() => void) | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private round: Promise<AdmissionRound> | undefined;
  /** Set when admission is asked for during a round: the round runs one more pass, since its read may predate the change. */
  private askedAgain = false;
  private readonly limits: AdmissionLimits;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    @Inject(WORKER_LAUNCHER) private readonly launcher: WorkerLauncher,
    private readonly admissions: AdmissionRepository,
    private readonly jobs: JobRepository,
    private readonly workers: WorkerRepository,
    private readonly archives: TaskArchiveStore,
    private readonly attempts: AttemptService,
    private readonly metrics: ConductorMetrics,
    private readonly evidence: IncidentEvidenceService,
    private readonly followUps: FollowUpLaunchService,
    private readonly followUpSessions: FollowUpSessionService,
  ) {
    this.limits = { maxActiveJobs: config.maxActiveJobs, claimMaxActiveJobs: config.repoMaxActiveJobs };
  }

  onModuleInit(): void {
    this.unsubscribeExit = this.launcher.onExit((exit) => this.handleExit(exit));
  }

  /** No pass starts after this, and the one under way finishes before the database goes. */
  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.unsubscribeExit?.();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await this.round;
  }

  /** Admits again when a retried job's backoff ends, so it does not also wait for the next sweep. */
  scheduleRetry(at: Date): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.requestAdmission();
    }, Math.max(0, at.getTime() - Date.now()));
    timer.unref();
    this.retryTimers.add(timer);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Admission in the background; callers (intake, attempt ends) must not wait on a worker to start. */
  requestAdmission(): void {
    void this.admit();
  }

  /**
   * Runs admission and launches what it admits. A call during a round joins it and makes it run one more pass, so
   * every change is seen by a pass that started after it; the round resolves once no more were asked for. Never
   * rejects: a failed pass is logged, and the sweep tries again.
   */
  admit(): Promise<AdmissionRound> {
    if (this.draining || this.closed) return Promise.resolve({ launches: new Map(), waiting: [] });
    if (this.round) {
      this.askedAgain = true;
      return this.round;
    }
    this.askedAgain = true;
    this.round = this.admitWhileAsked();
    return this.round;
  }

  /** Runs an admission round and reports what became of `jobId` (for tests and tools). */
  async launch(jobId: string): Promise<LaunchOutcome> {
    if (this.draining) return { status: 'draining' };
    const round = await this.admit();
    const launched = round.launches.get(jobId);
    if (launched) return launched;
    if (this.draining) return { status: 'draining' };
    const waiting = round.waiting.find((job) => job.id === jobId);
    return waiting ? { status: 'waiting', reason: waiting.reason } : { status: 'not-claimed' };
  }

  /** Stops new launches and waits for the ones already under way, for the shutdown gate. */
  async stopLaunching(): Promise<void> {
    this.draining = true;
    await this.round;
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private async admitWhileAsked(): Promise<AdmissionRound> {
    // admit() stores this round before any of it runs, so the `finally` below always clears the stored round.
    await Promise.resolve();
    const round: AdmissionRound = { launches: new Map(), waiting: [] };
    try {
      while (this.askedAgain && !this.draining && !this.closed) {
        this.askedAgain = false;
        const pass = await this.admissions.admit(this.limits);
        for (const job of pass.admitted) round.launches.set(job.id, this.track(this.launchClaimed(job)));
        round.waiting = pass.waiting;
        if (pass.admitted.length > 0) {
          this.logger.log(`admitted ${pass.admitted.length} job(s); ${pass.waiting.length} waiting`);
        }
      }
    } catch (error) {
      this.logger.error(`admission pass failed: ${errorMessage(error)}`);
    } finally {
      // Synchronous with the last check of askedAgain: a later request starts a new round instead of joining this one.
      this.round = undefined;
    }
    return round;
  }

  private track(launch: Promise<LaunchOutcome>): Promise<LaunchOutcome> {
    const tracked = launch.catch((error: unknown): LaunchOutcome => {
      // Only reached when even recording the failure failed (e.g. the database went away).
      this.logger.error(`launch failed: ${errorMessage(error)}`);
      return { status: 'failed', reason: errorMessage(error) };
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return tracked;
  }

  /** Launches a job admission just claimed (pending → launching, attempt counted). */
  private async launchClaimed(job: Job): Promise<LaunchOutcome> {
    const jobId = job.id;
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
      const reason = `could not register a worker: ${errorMessage(error)}`;
      const next = await this.attempts.endUnregisteredAttempt(jobId, job.attempts, reason, true);
      await this.afterAttempt(jobId, next);
      return { status: 'failed', reason, next };
    }

    try {
      // Context reuse (docs/context-reuse.md): the earlier thread's session, or what the agent would have remembered.
      const session = await this.followUpSessions.prepare(job, workerId);
      // A follow-up continues a pull request: its task is the review comments, rendered now, not the incident.
      const followUp = await this.followUps.taskFiles(job, session?.taskSection ?? '');
      const evidence = job.kind === 'incident' && !followUp ? await this.gatherEvidence(job, workerId) : null;
      const baseTask = followUp?.taskMarkdown ?? job.taskMarkdown;
      const extraFiles = [...(evidence?.files ?? []), ...(session?.files ?? [])];
      const archive = await this.archives.build(workerId, {
        taskMarkdown: evidence ? `${baseTask.trimEnd()}${evidence.taskSection}` : baseTask,
        agentsMarkdown: followUp?.agentsMarkdown ?? renderAgentsFile(job.kind, jobRepositories(job).map((repository) => repository.name)),
        ...(extraFiles.length > 0 ? { extraFiles } : {}),
      });
      await this.workers.appendEvent(workerId, 'task-archive-built', { bytes: archive.bytes, sha256: archive.sha256 });
      if (await this.jobs.stopRequested(jobId)) {
        // Cancelled between admission and launch: starting a worker only to stop it would waste a slot for the grace period.
        const next = await this.attempts.endAttempt({ id: workerId, jobId, attempt: job.attempts }, 'cancelled by an operator before its worker was launched', {
          retryable: false,
          event: 'cancelled-before-launch',
        });
        await this.afterAttempt(jobId, next);
        return { status: 'cancelled', workerId };
      }
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
      const reason = `launch failed: ${errorMessage(error)}`;
      const next = await this.attempts.endAttempt({ id: workerId, jobId, attempt: job.attempts }, reason, {
        retryable: isRetryableLaunchError(error),
        event: 'launch-failed',
      });
      await this.afterAttempt(jobId, next);
      return { status: 'failed', workerId, reason, next };
    }
  }

  /**
   * Each attempt gathers afresh, so a retry sees the metric up to its own start. A failure is recorded on the
   * attempt and the agent starts without the pack: the evidence helps, it is not what the job is for.
   */
  private async gatherEvidence(job: Job, workerId: string): Promise<EvidencePack | null> {
    if (!this.evidence.enabled) return null;
    try {
      const pack = await this.evidence.gather(job.id);
      if (pack) await this.workers.appendEvent(workerId, 'incident-evidence-gathered', { files: pack.files.length });
      for (const failure of pack?.failures ?? []) {
        const missing = failure.account === undefined ? `its ${failure.part}` : `account ${failure.account}'s ${failure.part === 'account' ? 'evidence' : failure.part}`;
        this.logger.warn(`job ${job.id}: incident evidence without ${missing}: ${failure.reason}`);
        const account = failure.account === undefined ? {} : { account: failure.account };
        await this.workers.appendEvent(workerId, 'incident-evidence-failed', { part: failure.part, ...account, reason: failure.reason });
      }
      return pack;
    } catch (error) {
      const reason = errorMessage(error);
      this.logger.warn(`job ${job.id}: incident evidence not gathered, the agent starts without it: ${reason}`);
      await this.workers.appendEvent(workerId, 'incident-evidence-failed', { reason });
      return null;
    }
  }

  /**
   * After an attempt ended: its slot and claim are free now, so admission runs; a job waiting for another attempt
   * is admitted again when its backoff ends.
   */
  async afterAttempt(jobId: string, next: AttemptOutcome): Promise<void> {
    this.requestAdmission();
    if (next !== 'retrying') return;
    const job = await this.jobs.findById(jobId);
    if (job?.status === 'pending' && job.nextAttemptAt) this.scheduleRetry(job.nextAttemptAt);
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
