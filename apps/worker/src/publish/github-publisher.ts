import { Logger } from '@nestjs/common';
import { redactSecrets } from '@agent-conductor/contracts';
import { AGENT_META_DIR } from '../agent/command-agent-runner';
import { AGENT_TRANSCRIPT_MAX_BYTES, AgentFileError, type FileSystem } from '../fs/file-system';
import { displayUrl, pushFromScratch } from '../git/authenticated-push';
import type { GitCli } from '../git/git-cli';
import { type CreatedItem, fullName, GitHubClient, type GitHubRepositoryRef } from './github-client';
import { followUpPushes, followUpReplyBody, pullRequestNumber, pushFollowUp } from './follow-up-publication';
import { composeBody, GITHUB_BODY_LIMIT } from './pr-body';
import { followUpReplyMarker, PUBLICATION_DIR, type Publisher, type PublishRequest, type PublishResult } from './publisher';
import type { FollowUpCheckout } from '../workspace/repository.service';

export interface GitHubPublisherSettings {
  token: string;
  apiUrl: string;
  /** owner/name; when absent it is read from a https://github.com/<owner>/<name> clone URL. */
  repository: string | undefined;
  retryDelayMs?: number;
  bodyLimit?: number;
  /** The worker's other credentials (worker token, model key), hidden from bodies and titles like the GitHub token. */
  otherSecrets?: readonly string[];
  /** The label of the issue a report-only ending opens (GITHUB_REPORT_LABEL). */
  reportLabel?: string;
}

export const DEFAULT_REPORT_LABEL = 'incident-report';

/** Kept free in an issue body for the marker, so that GitHub's body limit holds with it. */
const MARKER_ROOM = 200;

/**
 * Hidden in the issue's body: how a retried job finds the issue its earlier attempt opened, and comments on it
 * instead of opening a second one. Job ids are cuids, so the marker cannot end the HTML comment early.
 */
export function issueMarker(kind: 'agent-failed' | 'incident-report', jobId: string): string {
  return `<!-- agent-conductor:${kind} job=${jobId} -->`;
}

/** Written by the agent runner when it can render the agent's conversation (the Codex runner does). */
export const TRANSCRIPT_FILE = 'transcript.md';

/** owner/name from the override, else from a github.com HTTPS clone URL. */
export function resolveGitHubRepository(cloneUrl: string, override: string | undefined): GitHubRepositoryRef {
  const source = override ?? /^https:\/\/(?:[^@/]+@)?github\.com\/([^/]+\/[^/]+?)(?:\.git)?\/?$/i.exec(cloneUrl)?.[1];
  const match = source === undefined ? null : /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(source);
  if (!match?.[1] || !match[2]) {
    throw new Error(`cannot tell the GitHub repository from the clone URL ${displayUrl(cloneUrl)}; set GITHUB_REPOSITORY=owner/name`);
  }
  return { owner: match[1], name: match[2] };
}

/**
 * Pushes the agent's branch to the job's repository over HTTPS with GITHUB_TOKEN, then opens a pull request
 * against the repository's default branch, or an "[agent-failed]" issue when the agent reported failure, or an
 * issue labelled GITHUB_REPORT_LABEL when its ending report is the whole result (docs/incident-reports.md).
 * What it opened is also recorded in WORK_DIR/publication/, without the body (GitHub has it) and without the token.
 */
export class GitHubPublisher implements Publisher {
  private readonly logger = new Logger(GitHubPublisher.name);
  private readonly client: GitHubClient;

  constructor(
    private readonly git: GitCli,
    private readonly fs: FileSystem,
    private readonly settings: GitHubPublisherSettings,
  ) {
    this.client = new GitHubClient({ token: settings.token, apiUrl: settings.apiUrl, retryDelayMs: settings.retryDelayMs ?? 1_000 });
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    if (request.followUp) return this.publishFollowUp(request, request.followUp);
    if (request.outcome === 'change' && (request.branch === undefined || request.commitsAhead < 1)) {
      throw new Error('nothing to publish: the agent reported success without a branch ahead of the default branch');
    }
    const repository = resolveGitHubRepository(request.repository.cloneUrl, this.settings.repository);
    // Asked before pushing, so that a bad token or repository fails before anything is written anywhere.
    const info = await this.client.repository(repository);
    const transcript = await readTranscriptArtifact(this.fs, this.logger, request.workDir);
    const limit = this.settings.bodyLimit ?? GITHUB_BODY_LIMIT;

    if (request.outcome === 'report') {
      // The agent concluded that no change is needed: its report is the deliverable, and no branch is pushed.
      const label = this.settings.reportLabel ?? DEFAULT_REPORT_LABEL;
      const { body, truncated } = composeBody({ report: request.report, transcript }, limit - MARKER_ROOM);
      const issue = await this.openOrComment(repository, 'incident-report', request.jobId, { title: this.redact(request.title), body, label });
      await this.record(request.workDir, 'incident-report.json', {
        kind: 'github-incident-report',
        url: issue.url,
        number: issue.number,
        created: issue.created,
        repository: fullName(repository),
        title: request.title,
        label,
        bodyTruncated: truncated,
      });
      return { report: issue.url, title: request.title };
    }

    const pushed = request.branch !== undefined && request.commitsAhead > 0 ? await this.push(request, request.branch) : undefined;
    if (request.outcome === 'change' && pushed) {
      if (info.defaultBranch !== request.repository.defaultBranch) {
        this.logger.warn(`The job started from ${request.repository.defaultBranch}, but ${fullName(repository)}'s default branch is ${info.defaultBranch}; the pull request targets ${info.defaultBranch}`);
      }
      const { body, truncated } = composeBody({ report: request.report, transcript }, limit);
      const pull = await this.client.openPullRequest(repository, { title: this.redact(request.title), head: pushed, base: info.defaultBranch, body: this.redact(body) });
      await this.record(request.workDir, 'pull-request.json', {
        kind: 'github-pull-request',
        url: pull.url,
        number: pull.number,
        created: pull.created,
        repository: fullName(repository),
        title: request.title,
        head: pushed,
        base: info.defaultBranch,
        bodyTruncated: truncated,
      });
      this.logger.log(`${pull.created ? 'Opened' : 'Found'} pull request ${pull.url}`);
      return { branch: pushed, pullRequest: pull.url, title: request.title };
    }

    const title = this.redact(`[agent-failed] ${request.title}`);
    const extra = pushed ? `Branch with the agent's commits: [\`${pushed}\`](${info.htmlUrl}/tree/${pushed.split('/').map(encodeURIComponent).join('/')})` : undefined;
    const { body, truncated } = composeBody({ report: request.report, extra, transcript }, limit - MARKER_ROOM);
    const issue = await this.openOrComment(repository, 'agent-failed', request.jobId, { title, body, label: undefined });
    await this.record(request.workDir, 'failure-report.json', {
      kind: 'github-issue',
      url: issue.url,
      number: issue.number,
      created: issue.created,
      repository: fullName(repository),
      title,
      ...(pushed ? { branch: pushed } : {}),
      bodyTruncated: truncated,
    });
    return { report: issue.url, title: request.title, ...(pushed ? { branch: pushed } : {}) };
  }

  /**
   * A follow-up (docs/follow-up-runs.md): new commits to the pull request's own branch, then one reply on the pull
   * request per job, found again by its marker and edited when a retried job publishes a second time.
   */
  private async publishFollowUp(request: PublishRequest, followUp: FollowUpCheckout): Promise<PublishResult> {
    const repository = resolveGitHubRepository(request.repository.cloneUrl, this.settings.repository);
    const number = pullRequestNumber(followUp.pullRequest);
    // Asked before pushing: a bad token fails before anything is written, and a closed or foreign pull request is not pushed to.
    const pull = await this.client.pullRequest(repository, number);
    if (pull.state !== 'open') {
      throw new Error(`pull request #${number} in ${fullName(repository)} was ${pull.merged ? 'merged' : 'closed'} before this follow-up could publish; nothing was pushed`);
    }
    if (pull.headRef !== followUp.headBranch) {
      throw new Error(`pull request #${number} in ${fullName(repository)} is from ${pull.headRef}, not ${followUp.headBranch}; nothing was pushed`);
    }
    const pushed = followUpPushes(request, followUp);
    if (pushed) {
      await pushFollowUp(this.git, this.fs, request, followUp, this.settings.token);
      this.logger.log(`Pushed ${request.commitsAhead} commit(s) to ${followUp.headBranch}`);
    }
    const { body, truncated } = followUpReplyBody(request, followUp, pushed, this.settings.bodyLimit ?? GITHUB_BODY_LIMIT);
    const redacted = this.redact(body);
    const existing = await this.client.findComment(repository, number, followUpReplyMarker(request.jobId));
    const reply = existing ? await this.client.updateComment(repository, existing.id, redacted) : await this.client.comment(repository, number, redacted);
    this.logger.log(`${existing ? 'Updated the reply an earlier attempt posted' : 'Replied'} on ${followUp.pullRequest}: ${reply.url}`);
    await this.record(request.workDir, 'follow-up-reply.json', {
      kind: 'github-follow-up-reply',
      url: reply.url,
      commentId: reply.id,
      created: !existing,
      repository: fullName(repository),
      pullRequest: followUp.pullRequest,
      branch: followUp.headBranch,
      pushedCommits: pushed ? request.commitsAhead : 0,
      title: request.title,
      bodyTruncated: truncated,
    });
    return { branch: followUp.headBranch, pullRequest: followUp.pullRequest, report: reply.url, title: request.title };
  }

  /** One issue per job and kind: a retried job's attempt comments on the issue an earlier attempt opened. */
  private async openOrComment(
    repository: GitHubRepositoryRef,
    kind: 'agent-failed' | 'incident-report',
    jobId: string,
    issue: { title: string; body: string; label: string | undefined },
  ): Promise<CreatedItem> {
    const marker = issueMarker(kind, jobId);
    const existing = await this.client.findOpenIssue(repository, marker, issue.label);
    if (existing) {
      await this.client.comment(repository, existing.number, this.redact(issue.body));
      this.logger.log(`Commented on issue ${existing.url}, opened by an earlier attempt of this job`);
      return { ...existing, created: false };
    }
    // The marker goes after the body, which composeBody has already bounded: it is never cut off.
    const opened = await this.client.openIssue(repository, {
      title: issue.title,
      body: `${this.redact(issue.body)}\n\n${marker}\n`,
      ...(issue.label === undefined ? {} : { labels: [issue.label] }),
    });
    this.logger.log(`Opened issue ${opened.url}`);
    return opened;
  }

  private async push(request: PublishRequest, branch: string): Promise<string> {
    const target = `worker/${request.workerId}/${branch}`;
    await pushFromScratch(this.git, this.fs, { repoDir: request.repoDir, url: request.repository.cloneUrl, ref: `refs/heads/${target}`, token: this.settings.token });
    this.logger.log(`Pushed ${target} to ${displayUrl(request.repository.cloneUrl)}`);
    return target;
  }



  private async record(workDir: string, name: string, value: Record<string, unknown>): Promise<void> {
    await this.fs.writeAgentText(workDir, `${PUBLICATION_DIR}/${name}`, `${this.redact(JSON.stringify(value, null, 2))}\n`);
  }

  /** The agent never sees the token, but nothing it wrote gets to carry it out either. */
  private redact(text: string): string {
    return redactSecrets(text, [this.settings.token, ...(this.settings.otherSecrets ?? [])]);
  }
}

/** The agent can write the transcript too: read like every other artifact, and left out of the bodies when refused. */
export async function readTranscriptArtifact(fs: FileSystem, logger: Pick<Logger, 'warn'>, workDir: string): Promise<string | undefined> {
  try {
    return await fs.readAgentText(workDir, `${AGENT_META_DIR}/${TRANSCRIPT_FILE}`, AGENT_TRANSCRIPT_MAX_BYTES);
  } catch (error) {
    if (!(error instanceof AgentFileError)) throw error;
    logger.warn(`Leaving the transcript out of the body: ${error.message}`);
    return undefined;
  }
}
