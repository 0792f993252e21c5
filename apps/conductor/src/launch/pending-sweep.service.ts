import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { JobLaunchService } from './job-launch.service';

/**
 * Admission's backstop: the intake hands decisions over in memory and attempt
 * ends trigger admission in the process that saw them, so a crash in between
 * would otherwise strand pending jobs. Admission's lock makes a double launch
 * (or a cap exceeded) impossible.
 */
@Injectable()
export class PendingSweepService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PendingSweepService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
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
    const round = await this.launches.admit();
    const outcomes = await Promise.all(round.launches.values());
    return outcomes.filter((outcome) => outcome.status === 'launched').length;
  }
}
