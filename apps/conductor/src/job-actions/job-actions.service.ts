import { JobActionRepository, type JobActionResult } from '@agent-conductor/db';
import type { JobActionName } from '@agent-conductor/scheduling-domain';
import { Injectable, Logger } from '@nestjs/common';
import { JobLaunchService } from '../launch/job-launch.service';

/** Who acts and why; `actor` is the console caller's name (`token`, a proxy user's email) or `cli:<user>`. */
export interface JobActionCall {
  jobId: string;
  actor: string;
  reason?: string;
}

/**
 * The operator actions as the conductor serves them: the repository applies the transition and records it; this
 * conductor then runs admission, so an approved job or a re-run starts without waiting for the sweep. A stop
 * reaches the worker through its next heartbeat (HeartbeatService), on whichever conductor it talks to.
 */
@Injectable()
export class JobActionsService {
  private readonly logger = new Logger(JobActionsService.name);

  constructor(
    private readonly actions: JobActionRepository,
    private readonly launches: JobLaunchService,
  ) {}

  async apply(action: JobActionName, call: JobActionCall): Promise<JobActionResult> {
    const result = await this.actions.apply(action, {
      jobId: call.jobId,
      actor: call.actor,
      ...(call.reason !== undefined ? { reason: call.reason } : {}),
    });
    if (result.outcome === 'applied') {
      this.logger.log(`job ${call.jobId}: ${action} by ${call.actor}${result.rerun ? ` (re-run as job ${result.rerun.id})` : ''}`);
      if (action === 'approve' || action === 'rerun') this.launches.requestAdmission();
    }
    return result;
  }
}
