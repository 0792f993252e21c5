import { ConsoleQueryRepository, JobActionRepository, type ConsoleJobItem, type JobActionResult } from '@agent-conductor/db';
import type { JobActionName } from '@agent-conductor/scheduling-domain';
import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { z } from 'zod';
import { JobLaunchService } from '../launch/job-launch.service';

/** Who acts and why; `actor` is the console caller's name (`token`, a proxy user's email) or `cli:<user>`. */
export interface JobActionCall {
  jobId: string;
  actor: string;
  reason?: string;
}

/** What an action answers over HTTP: the job as the list shows it, and for a re-run the new job too. */
export interface JobActionResponse {
  job: ConsoleJobItem;
  rerun?: ConsoleJobItem;
}

export const MAX_REASON_CHARS = 1000;

// Strict: a misspelt field (`{ "reson": ... }`) is an error, not an action without its reason.
const actionBody = z.strictObject({
  reason: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(MAX_REASON_CHARS, `must be at most ${MAX_REASON_CHARS} characters`).optional(),
});

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
    private readonly query: ConsoleQueryRepository,
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

  /**
   * An action from the console's HTTP API: the body is `{ reason? }` or nothing. 200 with the job (an action that
   * changes nothing, such as a second cancel, answers the same), 404 for an unknown job, 409 when the job's state
   * does not allow it.
   */
  async forConsole(action: JobActionName, jobId: string, body: unknown, actor: string): Promise<JobActionResponse> {
    const parsed = actionBody.safeParse(body ?? {});
    if (!parsed.success) throw new BadRequestException(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`));
    const result = await this.apply(action, { jobId, actor, ...(parsed.data.reason !== undefined ? { reason: parsed.data.reason } : {}) });
    switch (result.outcome) {
      case 'not-found':
        throw new NotFoundException(`job ${jobId} not found`);
      case 'refused':
        throw new ConflictException(result.message);
      case 'unchanged':
      case 'applied': {
        const job = await this.item(jobId);
        if (result.outcome === 'applied' && result.rerun) return { job, rerun: await this.item(result.rerun.id) };
        return { job };
      }
    }
  }

  private async item(jobId: string): Promise<ConsoleJobItem> {
    const item = await this.query.jobItem(jobId);
    if (!item) throw new NotFoundException(`job ${jobId} not found`);
    return item;
  }
}
