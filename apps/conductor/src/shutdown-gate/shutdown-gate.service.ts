import { WorkerRepository } from '@agent-conductor/db';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { INTAKE_CONTROL, type IntakeControl } from '../intake/intake-control';
import { JobLaunchService } from '../launch/job-launch.service';
import { ShutdownFlagFiles } from './shutdown-flag.files';

/**
 * The seed's safe shutdown gate: once IS_CONDUCTOR_SHUTTING_DOWN reads
 * "true" (or SIGTERM arrives) the conductor stops taking messages and
 * launching jobs, keeps serving its workers until none is active, then writes
 * CONDUCTOR_READY_FOR_SAFE_SHUTDOWN so the deploy can replace it.
 */
@Injectable()
export class ShutdownGateService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ShutdownGateService.name);
  private pollTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private resolveReady!: () => void;
  private readonly ready = new Promise<void>((resolve) => {
    this.resolveReady = resolve;
  });
  private stopped = false;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    private readonly flags: ShutdownFlagFiles,
    private readonly workers: WorkerRepository,
    private readonly launches: JobLaunchService,
    // Absent when a test runs the gate without a queue.
    @Optional() @Inject(INTAKE_CONTROL) private readonly intake?: IntakeControl,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.flags.reset();
    this.schedulePoll();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
  }

  get isDraining(): boolean {
    return this.draining !== undefined;
  }

  /** Resolves once the ready file is written; main.ts exits then. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Starts the drain (idempotent) and resolves when it is complete. */
  requestShutdown(reason: string): Promise<void> {
    if (!this.draining) {
      this.logger.log(`shutting down (${reason}): no new messages or launches; waiting for active workers`);
      this.draining = this.drain();
    }
    return this.draining;
  }

  private schedulePoll(): void {
    if (this.stopped || this.draining) return;
    this.pollTimer = setTimeout(() => {
      void this.flags.isShuttingDown().then((shuttingDown) => {
        if (shuttingDown) void this.requestShutdown(`${this.flags.shuttingDownPath} is true`);
        else this.schedulePoll();
      });
    }, this.config.shutdownPollIntervalMs);
  }

  private async drain(): Promise<void> {
    await this.intake?.drain();
    await this.launches.stopLaunching();
    let lastCount = -1;
    while (!this.stopped) {
      const active = await this.workers.countActive().catch((error: unknown) => {
        this.logger.error(`cannot count active workers: ${error instanceof Error ? error.message : String(error)}`);
        return Number.POSITIVE_INFINITY;
      });
      if (active === 0) break;
      if (active !== lastCount) this.logger.log(`waiting for ${active} active worker(s)`);
      lastCount = active;
      await new Promise((resolve) => setTimeout(resolve, this.config.shutdownPollIntervalMs));
    }
    if (this.stopped) return;
    await this.flags.markReady();
    this.logger.log(`no active workers; wrote ${this.flags.readyPath}`);
    this.resolveReady();
  }
}
