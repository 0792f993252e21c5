import { errorMessage } from '@agent-conductor/scheduling-domain';
import { PrismaService } from '@agent-conductor/db';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { INTAKE_CONTROL, type IntakeControl } from '../intake/intake-control';
import { JobLaunchService } from '../launch/job-launch.service';
import { ShutdownFlagFiles } from './shutdown-flag.files';

/** What the gate finished with; main.ts exits differently for each. */
export interface ShutdownOutcome {
  mode: ConductorConfig['shutdownMode'];
  /** Live workers left running for the next conductor (handoff only). */
  handedOver: number;
}

/**
 * The seed's safe shutdown gate: once IS_CONDUCTOR_SHUTTING_DOWN reads
 * "true" (or SIGTERM arrives) the conductor stops taking messages, lets the
 * ones in flight finish, stops launching, and then
 *  - drain: keeps serving its workers until none is active;
 *  - handoff: leaves them running; they reconnect to the next conductor,
 *    which authenticates them from Postgres;
 * and writes CONDUCTOR_READY_FOR_SAFE_SHUTDOWN so the deploy can replace it.
 */
@Injectable()
export class ShutdownGateService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ShutdownGateService.name);
  private pollTimer: NodeJS.Timeout | undefined;
  private draining: Promise<ShutdownOutcome> | undefined;
  private resolveReady!: (outcome: ShutdownOutcome) => void;
  private readonly ready = new Promise<ShutdownOutcome>((resolve) => {
    this.resolveReady = resolve;
  });
  private stopped = false;
  /** Stale workers already reported, so a long drain logs each once. */
  private readonly reportedStale = new Set<string>();

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    private readonly flags: ShutdownFlagFiles,
    private readonly prisma: PrismaService,
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

  get mode(): ConductorConfig['shutdownMode'] {
    return this.config.shutdownMode;
  }

  /** Resolves once the ready file is written; main.ts exits then. */
  whenReady(): Promise<ShutdownOutcome> {
    return this.ready;
  }

  /** Starts the drain (idempotent) and resolves when it is complete. */
  requestShutdown(reason: string): Promise<ShutdownOutcome> {
    if (!this.draining) {
      const then = this.config.shutdownMode === 'handoff' ? 'then handing workers over' : 'waiting for active workers';
      this.logger.log(`shutting down (${reason}, mode ${this.config.shutdownMode}): no new messages or launches; ${then}`);
      this.draining = this.drain();
    }
    return this.draining;
  }

  /**
   * Workers this deployment still has to serve: not ended, and heard from
   * within SHUTDOWN_STALE_WORKER_MS. A row whose process died with a crashed
   * predecessor never speaks again; the orphan checks end it, and until they
   * do it must not hold the deploy forever.
   */
  async countLiveWorkers(now: Date = new Date()): Promise<number> {
    const staleBefore = new Date(now.getTime() - this.config.shutdownStaleWorkerMs);
    const [live, stale] = await Promise.all([
      this.prisma.worker.count({ where: { state: { not: 'ended' }, lastEventAt: { gte: staleBefore } } }),
      this.prisma.worker.findMany({
        where: { state: { not: 'ended' }, lastEventAt: { lt: staleBefore } },
        select: { id: true, jobId: true, lastEventAt: true },
        take: 100,
      }),
    ]);
    for (const worker of stale) {
      if (this.reportedStale.has(worker.id)) continue;
      this.reportedStale.add(worker.id);
      this.logger.warn(
        `not waiting for worker ${worker.id} of job ${worker.jobId}: silent since ${worker.lastEventAt.toISOString()} (over ${this.config.shutdownStaleWorkerMs} ms); the orphan checks end it`,
      );
    }
    return live;
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

  private async drain(): Promise<ShutdownOutcome> {
    // Intake first: a message in flight may still decide a launch, which stopLaunching then refuses
    // and leaves pending for the next conductor.
    await this.intake?.drain();
    await this.launches.stopLaunching();
    let handedOver = 0;
    if (this.config.shutdownMode === 'handoff') {
      handedOver = await this.countLiveWorkers().catch((error: unknown) => {
        this.logger.warn(`cannot count the workers being handed over: ${errorMessage(error)}`);
        return -1;
      });
    } else {
      await this.waitForWorkers();
    }
    const outcome: ShutdownOutcome = { mode: this.config.shutdownMode, handedOver };
    if (this.stopped) return outcome;
    await this.flags.markReady();
    if (outcome.mode === 'handoff') {
      this.logger.log(`handing ${handedOver < 0 ? 'the' : handedOver} running worker(s) over to the next conductor; wrote ${this.flags.readyPath}`);
    } else {
      this.logger.log(`no active workers; wrote ${this.flags.readyPath}`);
    }
    this.resolveReady(outcome);
    return outcome;
  }

  private async waitForWorkers(): Promise<void> {
    let lastCount = -1;
    while (!this.stopped) {
      // While the database is down nobody can tell whether workers are done: keep serving.
      const active = await this.countLiveWorkers().catch((error: unknown) => {
        this.logger.error(`cannot count active workers: ${errorMessage(error)}`);
        return Number.POSITIVE_INFINITY;
      });
      if (active === 0) return;
      if (active !== lastCount) this.logger.log(`waiting for ${active} active worker(s)`);
      lastCount = active;
      await new Promise((resolve) => setTimeout(resolve, this.config.shutdownPollIntervalMs));
    }
  }
}
