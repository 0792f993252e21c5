import { boundedExcerpt, boundedLine, EARLIER_WORK_LIMITS, workerV1 } from '@agent-conductor/contracts';
import type { Job } from '@agent-conductor/db';
import { EarlierWorkRepository } from '@agent-conductor/db';
import { Inject, Injectable } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

/**
 * What earlier agents left on a job's repository: their pull requests, for the worker to check (merged or not)
 * and show the next agent. The conductor cannot tell what is merged; it offers the newest candidates.
 */
@Injectable()
export class EarlierWorkService {
  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'defaultRepositoryBranch'>,
    private readonly earlierWork: EarlierWorkRepository,
  ) {}

  async candidatesFor(job: Pick<Job, 'id' | 'repository' | 'branch'>): Promise<workerV1.EarlierWork[]> {
    const records = await this.earlierWork.pullRequestsBefore({
      jobId: job.id,
      repository: job.repository,
      baseBranch: job.branch ?? this.config.defaultRepositoryBranch,
      defaultBranch: this.config.defaultRepositoryBranch,
      limit: EARLIER_WORK_LIMITS.entries,
    });
    // Stored by earlier workers, from what their agents wrote: bounded again here, whatever a worker sent.
    return records
      .filter((record) => record.branch.length <= EARLIER_WORK_LIMITS.branchChars && record.pullRequest.length <= EARLIER_WORK_LIMITS.pullRequestChars)
      .map((record) => ({
        jobId: record.jobId,
        jobKey: boundedLine(record.jobKey, EARLIER_WORK_LIMITS.titleChars),
        branch: record.branch,
        pullRequest: record.pullRequest,
        title: boundedLine(record.title, EARLIER_WORK_LIMITS.titleChars),
        summary: boundedExcerpt(record.summary, EARLIER_WORK_LIMITS.summaryChars),
      }));
  }
}
