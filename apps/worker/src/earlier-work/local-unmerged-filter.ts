import { Injectable } from '@nestjs/common';
import type { workerV1 } from '@agent-conductor/contracts';
import { GitCli, GitCommandError } from '../git/git-cli';
import { remoteTrackingRef } from './earlier-work-section';
import type { EarlierWorkContext, UnmergedFilter } from './unmerged-filter';

/** Unmerged = the branch is not an ancestor of the base branch (both as fetched from the remote). */
@Injectable()
export class LocalUnmergedFilter implements UnmergedFilter {
  constructor(private readonly git: GitCli) {}

  async unmerged(context: EarlierWorkContext, candidates: workerV1.EarlierWork[]): Promise<workerV1.EarlierWork[]> {
    const kept: workerV1.EarlierWork[] = [];
    for (const candidate of candidates) {
      if (!(await this.isAncestor(context.repoDir, remoteTrackingRef(candidate.branch), remoteTrackingRef(context.baseBranch)))) kept.push(candidate);
    }
    return kept;
  }

  /** The clone is still the worker's (the agent has not had it yet), so this is the worker's own git. */
  private async isAncestor(repoDir: string, ref: string, of: string): Promise<boolean> {
    try {
      await this.git.run(repoDir, ['merge-base', '--is-ancestor', ref, of]);
      return true;
    } catch (error) {
      if (error instanceof GitCommandError) return false;
      throw error;
    }
  }
}
