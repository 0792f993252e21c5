import { workerV1 } from '@agent-conductor/contracts';
import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { Injectable } from '@nestjs/common';
import { WorkerAuthService } from './worker-auth.service';

/** Phases remembered at most; past it the oldest are forgotten, which only costs them one more event. */
const REMEMBERED_PHASES = 10_000;

/**
 * Heartbeats: the worker's sign of life (workers.last_event_at, what the orphan
 * checks read) on every beat, and a `heartbeat` event only when its phase
 * changed. An event per beat was a row every interval per worker (180,000 an
 * hour at 500 workers) saying nothing new, and one more round trip per beat.
 * The answer carries stop_requested once an operator cancelled the job
 * (jobs.cancel_requested_at), whichever conductor took the cancel.
 */
@Injectable()
export class HeartbeatService {
  /** Worker id → the phase its last recorded heartbeat event named, oldest first. In memory: after a restart, one more event. */
  private readonly phases = new Map<string, string>();

  constructor(
    private readonly auth: WorkerAuthService,
    private readonly workers: WorkerRepository,
    private readonly jobs: JobRepository,
  ) {}

  async beat(request: workerV1.HeartbeatRequest): Promise<workerV1.HeartbeatResponse> {
    const worker = await this.auth.authenticateAndTouch(request.credentials);
    const phase = workerV1.WorkerPhase[request.phase] ?? String(request.phase);
    if (this.phases.get(worker.id) !== phase) {
      await this.workers.appendEvent(worker.id, 'heartbeat', { phase });
      this.remember(worker.id, phase);
    }
    return { stopRequested: await this.jobs.stopRequested(worker.jobId) };
  }

  private remember(workerId: string, phase: string): void {
    this.phases.delete(workerId);
    this.phases.set(workerId, phase);
    if (this.phases.size > REMEMBERED_PHASES) {
      const oldest = this.phases.keys().next();
      if (!oldest.done) this.phases.delete(oldest.value);
    }
  }
}
