import { Injectable } from '@nestjs/common';
import type { workerV1 } from '@agent-conductor/contracts';
import { GitCli } from '../git/git-cli';
import { remoteTrackingRef } from './earlier-work-section';
import type { EarlierWorkContext, UnmergedFilter } from './unmerged-filter';

/** Unmerged = the branch is not an ancestor of the base branch (both as fetched from the remote). */
@Injectable()
export class LocalUnmergedFilter implements UnmergedFilter {
  constructor(private readonly git: GitCli) {}

  async unmerged(context: EarlierWorkContext, candidates: workerV1.EarlierWork[]): Promise<workerV1.EarlierWork[]> {
    const kept: workerV1.EarlierWork[] = [];
    for (const candidate of candidates) {
      const merged = await this.git.tryRun(context.repoDir, ['merge-base', '--is-ancestor', remoteTrackingRef(candidate.branch), remoteTrackingRef(context.baseBranch)]);
      if (!merged.ok) kept.push(candidate);
    }
    return kept;
  }
}
