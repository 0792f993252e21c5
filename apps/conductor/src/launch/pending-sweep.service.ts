import { JobRepository } from '@agent-conductor/db';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { JobLaunchService } from './job-launch.service';

const SWEEP_BATCH = 50;

/**
 * Launches jobs left `pending`: the intake hands decisions over in memory, so
 * a crash between the scheduler's commit and the launch would otherwise
 * strand them. The claim makes a double launch impossible.
 */
@Injectable()
export class PendingSweepService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PendingSweepService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    private readonly jobs: JobRepository,
    private readonly launches: JobLaunchService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.pendingSweepIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; overlapping calls share the pass in progress. Returns how many jobs it launched. */
  sweep(): Promise<number> {
    this.running ??= this.sweepOnce()
      .catch((error: unknown) => {
        this.logger.error(`pending sweep failed: ${error instanceof Error ? error.message : String(error)}`);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async sweepOnce(): Promise<number> {
    if (this.launches.isDraining) return 0;
    const ids = await this.jobs.findPendingIds(SWEEP_BATCH);
    let launched = 0;
    for (const id of ids) {
      const outcome = await this.launches.launch(id);
      if (outcome.status === 'launched') launched += 1;
      if (outcome.status === 'draining') break;
    }
    return launched;
  }
}
