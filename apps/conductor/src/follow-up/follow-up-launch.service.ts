import { redactSecrets, type workerV1 } from '@agent-conductor/contracts';
import { FollowUpTaskRepository, type FollowUpThreadRecord, type Job } from '@agent-conductor/db';
import { renderFollowUpAgentsFile, renderFollowUpTask } from '@agent-conductor/scheduling-domain';
import { Injectable } from '@nestjs/common';

/** A follow-up whose thread cannot be continued: another attempt would meet the same rows, so it is not retried. */
export class FollowUpThreadError extends Error {
  readonly retryable = false;

  constructor(message: string) {
    super(message);
    this.name = 'FollowUpThreadError';
  }
}

export interface FollowUpTaskFiles {
  taskMarkdown: string;
  agentsMarkdown: string;
}

/**
 * What makes a follow-up job's attempt different from a first job's (docs/follow-up-runs.md): TASK.md rendered at
 * launch from the comments batched into it, the follow-up AGENTS.md, and the branch and pull request the handshake
 * hands the worker.
 */
@Injectable()
export class FollowUpLaunchService {
  constructor(private readonly followUps: FollowUpTaskRepository) {}

  /**
   * The task files of the attempt being launched, rendered now (comments batched in until the job was claimed are
   * all in), and stored on the job so the console shows what the agent got. Null for a job that is no follow-up.
   */
  async taskFiles(job: Pick<Job, 'id' | 'followUpOfId'>, appendix = ''): Promise<FollowUpTaskFiles | null> {
    if (job.followUpOfId === null) return null;
    const record = await this.followUps.forJob(job.id);
    if (!record) return null;
    const thread = continuable(job.id, record.thread);
    const taskMarkdown = renderFollowUpTask({
      key: record.thread.key,
      title: record.thread.title,
      pullRequest: thread.pullRequest,
      headBranch: thread.headBranch,
      // A reviewer who pasted a credential into a comment does not hand it to the agent.
      comments: record.requests.map((request) => ({ ...request, author: redactSecrets(request.author), body: redactSecrets(request.body) })),
    });
    const task = appendix === '' ? taskMarkdown : `${taskMarkdown.trimEnd()}${appendix}`;
    // Stored whole, as the agent reads it, so the console shows what this follow-up was asked.
    await this.followUps.storeTaskMarkdown(job.id, task);
    return { taskMarkdown: task, agentsMarkdown: renderFollowUpAgentsFile() };
  }

  /** HandshakeResponse.follow_up: undefined for a job that is no follow-up. */
  async handshake(job: Pick<Job, 'id' | 'followUpOfId'>): Promise<workerV1.FollowUp | undefined> {
    if (job.followUpOfId === null) return undefined;
    const record = await this.followUps.forJob(job.id);
    if (!record) return undefined;
    const thread = continuable(job.id, record.thread);
    // resumeThreadId: filled by context reuse (docs/context-reuse.md); '' starts the agent fresh.
    return { headBranch: thread.headBranch, pullRequest: thread.pullRequest, resumeThreadId: '' };
  }
}

function continuable(jobId: string, thread: FollowUpThreadRecord): { headBranch: string; pullRequest: string } {
  if (thread.headBranch === null || thread.pullRequest === null) {
    const missing = [thread.headBranch === null ? 'branch' : '', thread.pullRequest === null ? 'pull request' : ''].filter((part) => part !== '').join(' and ');
    throw new FollowUpThreadError(`follow-up job ${jobId} continues job ${thread.jobId}, which recorded no ${missing} to continue`);
  }
  return { headBranch: thread.headBranch, pullRequest: thread.pullRequest };
}
