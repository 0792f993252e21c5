import type { FileSystem } from '../fs/file-system';
import { pushFromScratch } from '../git/authenticated-push';
import type { GitCli } from '../git/git-cli';
import type { FollowUpCheckout } from '../workspace/repository.service';
import { composeBody } from './pr-body';
import { followUpReplyMarker, type PublishRequest } from './publisher';

/** Kept free in a reply for the marker, so that GitHub's body limit holds with it. */
const MARKER_ROOM = 200;

/** The number of the pull request a follow-up replies on, from its html URL (…/pull/42). */
export function pullRequestNumber(pullRequest: string): number {
  const match = /\/pull\/(\d{1,9})(?:[/?#].*)?$/.exec(pullRequest);
  if (!match?.[1]) throw new Error(`cannot tell the pull request number from ${JSON.stringify(pullRequest.slice(0, 200))}; expected a URL ending in /pull/<number>`);
  return Number.parseInt(match[1], 10);
}

/** What the follow-up publishes: its commits, or none when the agent answered with a report or failed. */
export function followUpPushes(request: PublishRequest, followUp: FollowUpCheckout): boolean {
  if (request.outcome !== 'change') return false;
  if (request.branch !== followUp.headBranch || request.commitsAhead < 1) {
    throw new Error(`nothing to publish: the agent reported a change without new commits on the pull request's branch ${followUp.headBranch}`);
  }
  return true;
}

/**
 * Pushes the agent's commits to the pull request's own branch: a plain push, so the remote takes it only as a
 * fast-forward. A branch that moved meanwhile (someone pushed to the pull request) is a clear failure, never a force.
 */
export async function pushFollowUp(git: GitCli, fs: FileSystem, request: PublishRequest, followUp: FollowUpCheckout, token: string | undefined): Promise<void> {
  const ref = `refs/heads/${followUp.headBranch}`;
  try {
    await pushFromScratch(git, fs, { repoDir: request.repoDir, url: request.repository.cloneUrl, ref, token });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!/\[rejected\]|non-fast-forward|fetch first|stale info/i.test(message)) throw error;
    throw new Error(
      `the pull request's branch ${followUp.headBranch} moved after this follow-up checked out ${followUp.baseCommit.slice(0, 12)} (someone pushed to it); the worker never forces a push, so nothing was pushed: ${message}`,
    );
  }
}

/** The reply: marker first (the scheduler ignores comments carrying it), then the ending report and what was pushed. */
export function followUpReplyBody(request: PublishRequest, followUp: FollowUpCheckout, pushed: boolean, limit: number): { body: string; truncated: string } {
  const branch = `\`${followUp.headBranch}\``;
  const extra = pushed
    ? `_Pushed ${request.commitsAhead} new commit(s) to ${branch}._`
    : request.outcome === 'report'
      ? `_No code change was needed: nothing was pushed to ${branch}._`
      : `_The agent could not address the comments: nothing was pushed to ${branch}._`;
  const { body, truncated } = composeBody({ report: request.report, extra }, limit - MARKER_ROOM);
  return { body: `${followUpReplyMarker(request.jobId)}\n${body}`, truncated };
}
