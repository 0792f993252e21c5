import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { workerV1 } from '@agent-conductor/contracts';
import { ConductorClient } from '../conductor/conductor-client';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import {
  CONDUCTOR_LOST_EXIT_CODE,
  CONDUCTOR_LOST_HANDLER,
  conductorDisowned,
  conductorLostExitMsFromEnv,
  salvageWorkDir,
  type ConductorLostHandler,
} from './conductor-lost';

/**
 * Tells the conductor, every interval, that the worker is alive and what it is
 * doing, and notices when there is no conductor any more: past
 * CONDUCTOR_LOST_EXIT_MS without an answer, or when the conductor says it
 * ended this worker, the worker saves its work dir and exits rather than run
 * on as an orphan nobody will collect.
 */
@Injectable()
export class HeartbeatService implements OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer: NodeJS.Timeout | undefined;
  private phase = workerV1.WorkerPhase.WORKER_PHASE_PREPARING;
  private inFlight: Promise<void> | undefined;
  private stopWasRequested = false;
  private readonly stopController = new AbortController();
  private lastContact = Date.now();
  private gaveUp = false;
  readonly lostExitMs: number;
  private readonly onLost: ConductorLostHandler;

  constructor(
    private readonly conductor: ConductorClient,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Optional() @Inject(CONDUCTOR_LOST_HANDLER) onLost?: ConductorLostHandler,
  ) {
    this.lostExitMs = conductorLostExitMsFromEnv(process.env);
    this.onLost = onLost ?? ((): void => process.exit(CONDUCTOR_LOST_EXIT_CODE));
  }

  start(intervalMs: number): void {
    this.stop();
    this.lastContact = Date.now();
    const interval = intervalMs > 0 ? intervalMs : 10_000;
    this.timer = setInterval(() => void this.beatOnce(), interval);
    this.timer.unref();
  }

  setPhase(phase: workerV1.WorkerPhase): void {
    this.phase = phase;
  }

  get stopRequested(): boolean {
    return this.stopWasRequested;
  }

  /** Aborted when the conductor asks this worker to stop: what ends a running agent at once. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops beating and waits for a heartbeat already on the wire: nothing may reach the conductor after Shutdown. */
  async stopAndSettle(): Promise<void> {
    this.stop();
    await this.inFlight;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  private beatOnce(): Promise<void> {
    // A slow conductor must not get a queue of overlapping heartbeats.
    if (this.inFlight || this.gaveUp) return Promise.resolve();
    this.inFlight = this.beat().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async beat(): Promise<void> {
    try {
      const response = await this.conductor.heartbeat(this.phase);
      this.lastContact = Date.now();
      if (response.stopRequested && !this.stopWasRequested) {
        this.stopWasRequested = true;
        this.logger.warn('The conductor asked this worker to stop');
        this.stopController.abort();
      }
    } catch (error) {
      this.logger.warn(`Heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
      const silentMs = Date.now() - this.lastContact;
      if (conductorDisowned(error)) await this.giveUp(`the conductor no longer knows this worker (${error instanceof Error ? error.message : String(error)})`);
      else if (silentMs > this.lostExitMs) await this.giveUp(`no answer from the conductor for ${silentMs} ms (CONDUCTOR_LOST_EXIT_MS=${this.lostExitMs})`);
    }
  }

  private async giveUp(reason: string): Promise<void> {
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.stop();
    const saved = await salvageWorkDir(this.config.workDir);
    this.logger.error(`Giving up: ${reason}. ${saved ? `Work dir saved to ${saved}` : 'The work dir could not be saved'}; exiting.`);
    this.onLost(reason);
  }
}
