import { JobActionRepository, JobRepository, type OverdueCancel } from '@agent-conductor/db';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { AttemptService } from '../launch/attempts.service';
import { JobLaunchService } from '../launch/job-launch.service';
import { WORKER_LAUNCHER, type WorkerLauncher } from '../launch/worker-launcher';

export type CancelEnforcerConfig = Pick<ConductorConfig, 'cancelGraceMs' | 'orphanCheckIntervalMs'>;

function describe(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
}

/**
 * The backstop of a cancel: a worker asked to stop normally stops its agent, uploads what it has and shuts down, and
 * its job ends `cancelled`. One still there after CANCEL_GRACE_SECONDS has its attempt ended as cancelled and is
 * killed by the launcher (process group kill, or ECS StopTask); a cancelled job with no worker left (it never got
 * one, or it ended in a race with the cancel) is ended here too. Each conductor handles the workers of its own
 * launcher kind; the guarded UPDATEs make a second conductor's pass a no-op.
 */
@Injectable()
export class CancelEnforcerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CancelEnforcerService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: CancelEnforcerConfig,
    @Inject(WORKER_LAUNCHER) private readonly launcher: WorkerLauncher,
    private readonly actions: JobActionRepository,
    private readonly jobs: JobRepository,
    private readonly attempts: AttemptService,
    private readonly launches: JobLaunchService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.enforce(), Math.min(this.config.orphanCheckIntervalMs, Math.max(this.config.cancelGraceMs, 250)));
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; overlapping calls share the pass in progress. Returns how many jobs it ended. */
  enforce(now: Date = new Date()): Promise<number> {
    this.running ??= this.enforceOnce(now)
      .catch((error: unknown) => {
        this.logger.error(`cancel enforcement failed: ${describe(error)}`);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async enforceOnce(now: Date): Promise<number> {
    const overdue = await this.actions.overdueCancels(new Date(now.getTime() - this.config.cancelGraceMs));
    let ended = 0;
    for (const cancel of overdue) {
      if (await this.end(cancel)) ended += 1;
    }
    if (ended > 0) this.launches.requestAdmission();
    return ended;
  }

  private async end(cancel: OverdueCancel): Promise<boolean> {
    const grace = `${this.config.cancelGraceMs / 1000} s`;
    const { worker } = cancel;
    if (worker === null) {
      return this.jobs.endCancelled(cancel.jobId, 'cancelled by an operator; no worker was running for it');
    }
    // Another conductor's launcher (another kind) owns that worker; it enforces the cancel itself.
    if (worker.launcher !== this.launcher.kind) return false;
    const reason = `cancelled by an operator; the worker had not stopped after the ${grace} grace period and was killed`;
    // Ended first: the exit the kill causes then finds the attempt already decided, with this reason.
    const next = await this.attempts.endAttempt(worker, reason, {
      retryable: false,
      event: 'cancel-grace-expired',
      detail: { handle: worker.launcherHandle, cancelRequestedAt: cancel.cancelRequestedAt.toISOString() },
    });
    if (worker.launcherHandle !== null) {
      try {
        await this.launcher.stop(worker.launcherHandle, reason);
      } catch (error) {
        // An ended worker is refused by the worker API, so it can do no more work even if the kill did not land.
        this.logger.error(`could not stop worker ${worker.id} (${worker.launcherHandle}) of cancelled job ${cancel.jobId}: ${describe(error)}`);
      }
    }
    this.logger.warn(`job ${cancel.jobId}: worker ${worker.id} killed ${grace} after the cancel (${next})`);
    return next === 'cancelled';
  }
}
