import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { redactSecrets, workerV1 } from '@agent-conductor/contracts';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type WorkerConfig } from '../config/env.validators';
import { FileSystem } from '../fs/file-system';
import { displayUrl, pushFromScratch } from '../git/authenticated-push';
import { GitCli } from '../git/git-cli';
import { fullName, GitHubClient, type GitHubRepositoryRef } from '../publish/github-client';
import { readTranscriptArtifact } from '../publish/github-publisher';
import { composeBody, GITHUB_BODY_LIMIT } from '../publish/pr-body';
import { PUBLICATION_DIR, PUBLISHER, type Publisher, type PublishedChange, type PublishResult } from '../publish/publisher';
import type { AgentOutcome } from '../validation/artifact-validator.service';
import { REPO_DIR_NAME } from '../workspace/repository.service';
import { baseBranchOf, MultiRepositoryService, type PlannedChange } from './multi-repository.service';

export interface MultiRepositoryPublishRequest {
  workDir: string;
  jobId: string;
  repositories: readonly workerV1.RepositorySpec[];
  outcome: AgentOutcome;
  title: string;
  report: string;
}

/** Kept free in each pull request body for the list of the others: ten repositories with their URLs. */
const RELATED_ROOM = 4_000;

/** Where each changed repository's pull request is recorded: publication/pull-requests/<name>.json. */
export const PULL_REQUESTS_DIR = `${PUBLICATION_DIR}/pull-requests`;

interface OpenedPullRequest {
  change: PlannedChange;
  pushed: string;
  url: string;
  /** GitHub's number, for editing the body; undefined for the local publisher's references. */
  number?: number;
  ref?: GitHubRepositoryRef;
}

/**
 * owner/name of one of several repositories, from its clone URL's last two path segments (github.com, GitHub
 * Enterprise and the like). GITHUB_REPOSITORY names one repository, so it applies to the primary one only.
 */
export function gitHubRepositoryOf(repository: workerV1.RepositorySpec, override: string | undefined, primary: boolean): GitHubRepositoryRef {
  const fromUrl = (): string | undefined => {
    try {
      const url = new URL(repository.cloneUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
      const segments = url.pathname.replace(/\/+$/, '').replace(/\.git$/, '').split('/').filter((segment) => segment !== '');
      return segments.length >= 2 ? segments.slice(-2).join('/') : undefined;
    } catch {
      return undefined;
    }
  };
  const source = (primary ? override : undefined) ?? fromUrl();
  const match = source === undefined ? null : /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(source);
  if (!match?.[1] || !match[2]) {
    throw new Error(`cannot tell the GitHub repository of repo/${repository.name}/ from its clone URL ${displayUrl(repository.cloneUrl)}`);
  }
  return { owner: match[1], name: match[2] };
}

/** The part of each body that links the job's other pull requests; the same on every retry, so edits are idempotent. */
export function relatedSection(others: readonly { name: string; url: string }[]): string {
  return ['---', '', 'This change spans several repositories. Its other pull requests:', '', ...others.map((other) => `- \`${other.name}\`: ${other.url}`)].join('\n');
}

/**
 * Publishes a job over several repositories: each changed repository gets its own branch push and pull request,
 * and once all are open each body lists the others. A report or a failure goes through the job's publisher,
 * against the primary repository, as for one repository.
 */
@Injectable()
export class MultiRepositoryPublisher {
  private readonly logger = new Logger(MultiRepositoryPublisher.name);

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(PUBLISHER) private readonly single: Publisher,
    private readonly workspace: MultiRepositoryService,
    private readonly git: GitCli,
    private readonly fs: FileSystem,
  ) {}

  async publish(request: MultiRepositoryPublishRequest): Promise<PublishResult> {
    const primary = request.repositories[0];
    if (!primary) throw new Error('a job over several repositories needs at least one');
    if (request.outcome !== 'change') {
      return this.single.publish({
        workDir: request.workDir,
        repoDir: join(request.workDir, REPO_DIR_NAME, primary.name),
        workerId: this.config.workerId,
        jobId: request.jobId,
        repository: { cloneUrl: primary.cloneUrl, defaultBranch: baseBranchOf(primary), name: primary.name },
        outcome: request.outcome,
        title: request.title,
        report: request.report,
        branch: undefined,
        commitsAhead: 0,
      });
    }
    const changes = await this.workspace.changesToPublish(request.workDir, request.repositories);
    const opened = this.config.publisher === 'github' ? await this.openOnGitHub(request, changes) : await this.recordLocally(request, changes);
    const published: PublishedChange[] = opened.map((pull) => ({ name: pull.change.repository.name, branch: pull.pushed, pullRequest: pull.url }));
    const first = published[0];
    if (!first) throw new Error('nothing to publish: no repository has a change');
    return { branch: first.branch, pullRequest: first.pullRequest, title: request.title, changes: published };
  }

  private async openOnGitHub(request: MultiRepositoryPublishRequest, changes: readonly PlannedChange[]): Promise<OpenedPullRequest[]> {
    const github = this.config.github;
    if (!github) throw new Error('PUBLISHER=github needs GITHUB_TOKEN');
    const client = new GitHubClient({ token: github.token, apiUrl: github.apiUrl, retryDelayMs: 1_000 });
    const primaryName = request.repositories[0]?.name;
    // Every repository is asked for before anything is pushed: a bad token or name fails with nothing written.
    const targets: { change: PlannedChange; ref: GitHubRepositoryRef; base: string }[] = [];
    for (const change of changes) {
      const ref = gitHubRepositoryOf(change.repository, github.repository, change.repository.name === primaryName);
      const info = await client.repository(ref);
      targets.push({ change, ref, base: info.defaultBranch });
    }
    const { body } = composeBody({ report: request.report, transcript: await readTranscriptArtifact(this.fs, this.logger, request.workDir) }, GITHUB_BODY_LIMIT - RELATED_ROOM);
    const title = this.redact(request.title);
    const opened: OpenedPullRequest[] = [];
    for (const { change, ref, base } of targets) {
      const pushed = await this.push(change, github.token);
      // A retried publish finds the pull request it opened before instead of asking GitHub to refuse a second one.
      const existing = await client.openPullRequestFrom(ref, pushed);
      const pull = existing ?? (await client.openPullRequest(ref, { title, head: pushed, base, body: this.redact(body) }));
      this.logger.log(`${existing ? 'Found' : 'Opened'} pull request ${pull.url} for repo/${change.repository.name}/`);
      opened.push({ change, pushed, url: pull.url, number: pull.number, ref });
    }
    for (const pull of opened) {
      const others = opened.filter((other) => other !== pull).map((other) => ({ name: other.change.repository.name, url: other.url }));
      const linked = others.length > 0 ? `${body}\n\n${relatedSection(others)}\n` : body;
      if (others.length > 0 && pull.ref && pull.number !== undefined) await client.updatePullRequestBody(pull.ref, pull.number, this.redact(linked));
      await this.record(request.workDir, pull.change.repository.name, {
        kind: 'github-pull-request',
        url: pull.url,
        number: pull.number,
        repository: pull.ref ? fullName(pull.ref) : pull.change.repository.name,
        title: request.title,
        head: pull.pushed,
        related: others,
      });
    }
    return opened;
  }

  private async recordLocally(request: MultiRepositoryPublishRequest, changes: readonly PlannedChange[]): Promise<OpenedPullRequest[]> {
    const opened: OpenedPullRequest[] = [];
    for (const change of changes) {
      const pushed = await this.push(change, undefined);
      opened.push({ change, pushed, url: `${change.repository.cloneUrl}#${pushed}` });
    }
    for (const pull of opened) {
      const others = opened.filter((other) => other !== pull).map((other) => ({ name: other.change.repository.name, url: other.url }));
      await this.record(request.workDir, pull.change.repository.name, {
        kind: 'local-pull-request',
        reference: pull.url,
        repository: pull.change.repository.name,
        title: request.title,
        body: others.length > 0 ? `${request.report.trimEnd()}\n\n${relatedSection(others)}\n` : request.report,
        head: pull.pushed,
        base: baseBranchOf(pull.change.repository),
        related: others,
      });
      this.logger.log(`Recorded pull request ${pull.url} for repo/${pull.change.repository.name}/`);
    }
    return opened;
  }

  private async push(change: PlannedChange, token: string | undefined): Promise<string> {
    const target = `worker/${this.config.workerId}/${change.branch}`;
    // To the clone URL the conductor gave, never the agent's "origin", and never with the agent's hooks or config.
    await pushFromScratch(this.git, this.fs, { repoDir: change.repoDir, url: change.repository.cloneUrl, ref: `refs/heads/${target}`, token });
    this.logger.log(`Pushed ${target} of repo/${change.repository.name}/ to ${displayUrl(change.repository.cloneUrl)}`);
    return target;
  }



  private async record(workDir: string, name: string, value: Record<string, unknown>): Promise<void> {
    await this.fs.writeAgentText(workDir, `${PULL_REQUESTS_DIR}/${name}.json`, `${this.redact(JSON.stringify(value, null, 2))}\n`);
  }

  private redact(text: string): string {
    return redactSecrets(text, workerSecrets(this.config));
  }
}
