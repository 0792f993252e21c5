import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { workerV1 } from '@agent-conductor/contracts';
import { ConductorClient } from '../conductor/conductor-client';

/** Tells the conductor, every interval, that the worker is alive and what it is doing. */
@Injectable()
export class HeartbeatService implements OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer: NodeJS.Timeout | undefined;
  private phase = workerV1.WorkerPhase.WORKER_PHASE_PREPARING;
  private inFlight = false;
  private stopWasRequested = false;

  constructor(private readonly conductor: ConductorClient) {}

  start(intervalMs: number): void {
    this.stop();
    const interval = intervalMs > 0 ? intervalMs : 10_000;
    this.timer = setInterval(() => void this.beat(), interval);
    this.timer.unref();
  }

  setPhase(phase: workerV1.WorkerPhase): void {
    this.phase = phase;
  }

  get stopRequested(): boolean {
    return this.stopWasRequested;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  private async beat(): Promise<void> {
    // A slow conductor must not get a queue of overlapping heartbeats.
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const response = await this.conductor.heartbeat(this.phase);
      if (response.stopRequested && !this.stopWasRequested) {
        this.stopWasRequested = true;
        this.logger.warn('The conductor asked this worker to stop');
      }
    } catch (error) {
      this.logger.warn(`Heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.inFlight = false;
    }
  }
}
