import type { AgentOutcome } from '../validation/artifact-validator.service';
import type { FollowUpCheckout } from '../workspace/repository.service';

export interface PublishRequest {
  workDir: string;
  repoDir: string;
  workerId: string;
  /** The job, not the attempt: what makes a retried job find the issue its earlier attempt opened. */
  jobId: string;
  repository: { cloneUrl: string; defaultBranch: string; name: string };
  /** The agent's verdict (WAS_JOB_SUCCESSFUL, refined by OUTCOME). */
  outcome: AgentOutcome;
  title: string;
  report: string;
  /** The repo's current branch, if it is on one. */
  branch: string | undefined;
  /** Commits on that branch ahead of origin's default branch (a follow-up: ahead of followUp.baseCommit). */
  commitsAhead: number;
  /**
   * A follow-up job (docs/follow-up-runs.md): new commits go to the pull request's own branch as a fast-forward, and
   * the ending report becomes a reply on the pull request; no new pull request or issue.
   */
  followUp?: FollowUpCheckout;
}

/** Hidden at the start of a follow-up's reply: how a retried job finds it, and how the scheduler knows it is ours. */
export function followUpReplyMarker(jobId: string): string {
  return `<!-- agent-conductor:follow-up job=${jobId} -->`;
}

export interface PublishResult {
  /** The pushed branch, e.g. worker/<workerId>/<branch>. */
  branch?: string;
  /** The pull request (URL, or the local publisher's reference). */
  pullRequest?: string;
  /**
   * The failure report or, for a report-only ending, the incident report; for a follow-up, its reply on the pull
   * request (URL, or the local publisher's reference).
   */
  report?: string;
  title: string;
  /** A job over several repositories: each changed one's pushed branch and pull request (docs/multi-repository.md). */
  changes?: PublishedChange[];
}

export interface PublishedChange {
  /** The repository's directory name under repo/. */
  name: string;
  branch: string;
  pullRequest: string;
}

/** Where a finished job goes: a local remote today, GitHub pull requests / issues later. */
export interface Publisher {
  publish(request: PublishRequest): Promise<PublishResult>;
}

export const PUBLISHER = Symbol('PUBLISHER');
export const PUBLICATION_DIR = 'publication';
