import type { workerV1 } from '@agent-conductor/contracts';

export interface EarlierWorkContext {
  /** The fresh clone, before the agent has touched it; every candidate branch is fetched as origin/<branch>. */
  repoDir: string;
  cloneUrl: string;
  /** The branch this job starts from and its pull request targets. */
  baseBranch: string;
}

/**
 * Decides which earlier pull requests are still unmerged. Locally that is git's answer (the branch is not an
 * ancestor of the base); with GitHub it is the pull request's state.
 */
export interface UnmergedFilter {
  /** The candidates still unmerged, in the given order; may refresh a pull request's link and title from its host. */
  unmerged(context: EarlierWorkContext, candidates: workerV1.EarlierWork[]): Promise<workerV1.EarlierWork[]>;
}

export const UNMERGED_FILTER = Symbol('UNMERGED_FILTER');
