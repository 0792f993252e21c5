import { boundedExcerpt, EARLIER_WORK_LIMITS, redactSecrets, workerV1 } from '@agent-conductor/contracts';
import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { status } from '@grpc/grpc-js';
import { Injectable, Logger } from '@nestjs/common';
import { MAX_ROUTE_REPOSITORIES } from '@agent-conductor/scheduling-domain';
import { JiraReportRecorder } from '../jira/jira-report.recorder';
import { JobLaunchService } from '../launch/job-launch.service';
import { rpcError, WorkerAuthService } from './worker-auth.service';

/** Shutdown: the worker's final report becomes the job's outcome, result and usage, in one transaction. */
@Injectable()
export class WorkerShutdownService {
  private readonly logger = new Logger(WorkerShutdownService.name);

  constructor(
    private readonly auth: WorkerAuthService,
    private readonly workers: WorkerRepository,
    private readonly jobs: JobRepository,
    private readonly launches: JobLaunchService,
    private readonly jiraReports: JiraReportRecorder,
  ) {}

  async shutdown(request: workerV1.ShutdownRequest): Promise<workerV1.ShutdownResponse> {
    const worker = await this.auth.authenticate(request.credentials, 'session');
    const succeeded = request.outcome === workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED;
    const error = succeeded ? null : request.error || 'the worker reported a failure without a reason';
    const reported = request.result;
    const archive = await this.workers.latestEventDetail(worker.id, 'results-uploaded');
    const resultArchive = typeof archive?.['archive'] === 'string' ? archive['archive'] : undefined;
    const result = reported
      ? {
          ...(resultArchive ? { resultArchive } : {}),
          branch: reported.branch,
          ...(reported.pullRequest ? { pullRequest: reported.pullRequest } : {}),
          ...(reported.report ? { report: reported.report } : {}),
          title: reported.title,
          // What the next agent on the repository reads of this one's ending report (EarlierWork.summary).
          ...(reported.summary ? { summary: boundedExcerpt(reported.summary, EARLIER_WORK_LIMITS.summaryChars) } : {}),
          // Its session is in the result archive: a follow-up resumes it (docs/context-reuse.md).
          ...(reported.agentThreadId ? { agentThreadId: reported.agentThreadId.slice(0, 64) } : {}),
          ...(reported.changes.length > 0 ? { changes: boundedChanges(reported.changes) } : {}),
        }
      : null;
    const usage = request.usage
      ? {
          inputTokens: request.usage.inputTokens,
          cachedInputTokens: request.usage.cachedInputTokens,
          outputTokens: request.usage.outputTokens,
          turns: request.usage.turns,
          durationMs: request.usage.durationMs,
          model: request.usage.model || null,
          contextReused: request.usage.contextReused,
        }
      : null;
    // jobs.context_reused is a follow-up's (null for other jobs); a follow-up whose worker sent no usage did not reuse.
    const job = await this.jobs.findById(worker.jobId);
    const followUp = job !== null && job.followUpOfId !== null;
    const contextReused = request.usage?.contextReused ?? false;
    const ended = await this.workers.transaction(async (tx) => {
      const workerEnded = await this.workers.end(worker.id, `shutdown: ${succeeded ? 'succeeded' : 'failed'}`, tx);
      if (!workerEnded) throw rpcError(status.FAILED_PRECONDITION, `worker ${worker.id} has ended`);
      await this.workers.appendEvent(
        worker.id,
        'shutdown',
        { outcome: workerV1.JobOutcome[request.outcome] ?? String(request.outcome), error, result, usage },
        tx,
      );
      const jobEnded = await this.jobs.finish(worker.jobId, { status: succeeded ? 'succeeded' : 'failed', error, result, usage, ...(followUp ? { contextReused } : {}) }, tx);
      if (jobEnded !== null) await this.jiraReports.jobEnded(worker.jobId, worker.attempt, tx);
      return jobEnded;
    });
    const outcome = ended === 'cancelled' ? 'cancelled as an operator asked' : succeeded ? 'succeeded' : `failed: ${redactSecrets(error ?? '')}`;
    this.logger.log(`job ${worker.jobId}: worker ${worker.id} shut down, ${outcome}`);
    // The job's slot and claim are free: the next job in line may start.
    this.launches.requestAdmission();
    return {};
  }
}

/** What a job's result keeps of each changed repository: a worker cannot grow the row past a few KiB. */
const CHANGE_FIELD_CHARS = { name: 100, branch: 255, pullRequest: 1_000 } as const;

/** A job over several repositories changes at most as many as it has (docs/multi-repository.md). */
export function boundedChanges(changes: readonly workerV1.ChangedRepository[]): { name: string; branch: string; pullRequest: string }[] {
  return changes.slice(0, MAX_ROUTE_REPOSITORIES).map((change) => ({
    name: change.name.slice(0, CHANGE_FIELD_CHARS.name),
    branch: change.branch.slice(0, CHANGE_FIELD_CHARS.branch),
    pullRequest: change.pullRequest.slice(0, CHANGE_FIELD_CHARS.pullRequest),
  }));
}
