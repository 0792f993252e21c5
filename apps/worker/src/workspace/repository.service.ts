import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { workerV1 } from '@agent-conductor/contracts';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import { isWorkerBranch, remoteTrackingRef } from '../earlier-work/earlier-work-section';
import { httpAuthEnv } from '../git/authenticated-push';
import { fenceFor, sliceHead } from '../publish/pr-body';
import { GitCli } from '../git/git-cli';

export const REPO_DIR_NAME = 'repo';

/** A follow-up job's pull request, checked out in repo/ (docs/follow-up-runs.md). */
export interface FollowUpCheckout {
  headBranch: string;
  pullRequest: string;
  /**
   * The branch's commit when the worker fetched it, before the agent ran: what "new commits" are counted from and
   * what the push must fast-forward. Kept by the worker, since the agent can move any ref in repo/.git.
   */
  baseCommit: string;
}

/** Clones the job's repository into WORK_DIR/repo (or `into`, relative to it), checked out on its default branch. */
@Injectable()
export class RepositoryService {
  private readonly logger = new Logger(RepositoryService.name);

  constructor(
    private readonly git: GitCli,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  async clone(workDir: string, repository: workerV1.RepositorySpec, into: string = REPO_DIR_NAME): Promise<string> {
    if (repository.cloneUrl.includes(this.config.token)) {
      // A credential in the URL would end up in repo/.git/config, where the agent can read it.
      throw new Error('refusing to clone: the clone URL contains the worker token');
    }
    const branch = repository.defaultBranch || 'main';
    const sparse = repository.sparsePaths.filter((path) => path.trim() !== '');
    const args = ['clone', '--branch', branch, '--no-tags'];
    if (sparse.length > 0) args.push('--sparse');
    args.push('--', repository.cloneUrl, into);
    // Private repositories: the GitHub token rides in this one git process's environment, never in the URL or
    // repo/.git/config, where the agent could read it. Public and local remotes ignore the header.
    const auth = this.config.github ? httpAuthEnv(repository.cloneUrl, this.config.github.token) : {};
    await (Object.keys(auth).length > 0 ? this.git.runWithCredential(workDir, args, auth) : this.git.run(workDir, args));
    const repoDir = join(workDir, into);
    if (sparse.length > 0) {
      await this.git.run(repoDir, ['sparse-checkout', 'set', '--', ...sparse]);
    }
    await this.git.run(repoDir, ['config', 'user.name', this.config.gitAuthorName]);
    await this.git.run(repoDir, ['config', 'user.email', this.config.gitAuthorEmail]);
    this.logger.log(`Cloned ${repository.name || repository.cloneUrl} (${branch})${sparse.length > 0 ? ` sparse: ${sparse.join(', ')}` : ''}`);
    return repoDir;
  }

  /**
   * A follow-up continues its pull request: the clone fetches the head branch as origin/<branch> and checks it out
   * under the same name, so the agent's commits go on top of the earlier agent's. Before the agent runs, as the worker.
   */
  async checkOutFollowUp(repoDir: string, cloneUrl: string, followUp: workerV1.FollowUp): Promise<FollowUpCheckout> {
    const branch = followUp.headBranch;
    // The name reaches git's command line and TASK.md: only what workers push (worker/<id>/<branch>) is taken as is.
    if (!isWorkerBranch(branch)) throw new Error(`refusing to check out the follow-up's head branch ${JSON.stringify(branch.slice(0, 200))}: not a branch a worker pushed`);
    if (followUp.pullRequest.trim() === '') throw new Error('the handshake names a follow-up without its pull request');
    const auth = this.config.github ? httpAuthEnv(cloneUrl, this.config.github.token) : {};
    const fetch = ['fetch', '--quiet', '--no-tags', '--', cloneUrl, `+refs/heads/${branch}:${remoteTrackingRef(branch)}`];
    try {
      await (Object.keys(auth).length > 0 ? this.git.runWithCredential(repoDir, fetch, auth) : this.git.run(repoDir, fetch));
    } catch (error) {
      throw new Error(`could not fetch the pull request's branch ${branch} (deleted, or the pull request was merged?): ${error instanceof Error ? error.message : String(error)}`);
    }
    await this.git.run(repoDir, ['checkout', '--quiet', '-B', branch, remoteTrackingRef(branch)]);
    const baseCommit = (await this.git.run(repoDir, ['rev-parse', '--verify', `${remoteTrackingRef(branch)}^{commit}`])).trim();
    this.logger.log(`Checked out ${branch} at ${baseCommit.slice(0, 12)} for a follow-up on ${followUp.pullRequest}`);
    return { headBranch: branch, pullRequest: followUp.pullRequest, baseCommit };
  }

  /**
   * What a follow-up's branch already holds against its base (commits, then files changed), as a TASK.md section: an
   * agent that could not resume the earlier session starts without its memory, so it gets the diff summary instead.
   * Read by the worker in its own clone before the agent runs; commit subjects and paths are the repository's, so
   * they are fenced and bounded.
   */
  async branchSoFarSection(repoDir: string, baseBranch: string): Promise<string> {
    const base = remoteTrackingRef(baseBranch);
    const commits = (await this.git.run(repoDir, ['log', '--no-decorate', '--format=%h %s', `--max-count=${BRANCH_SO_FAR_MAX_COMMITS}`, `${base}..HEAD`])).trimEnd();
    const files = (await this.git.run(repoDir, ['diff', '--stat=120', `${base}...HEAD`])).trimEnd();
    const text = sliceHead([commits === '' ? '(no commits on top of the base)' : commits, '', files === '' ? '(no files changed)' : files].join('\n'), BRANCH_SO_FAR_MAX_CHARS);
    const fence = fenceFor(text);
    return [
      '## The branch so far',
      '',
      `The earlier agent's commits on this branch, newest first, and the files they change against \`${baseBranch}\` (from the clone, before you started):`,
      '',
      `${fence}text`,
      text,
      fence,
      '',
    ].join('\n');
  }
}

const BRANCH_SO_FAR_MAX_COMMITS = 50;
const BRANCH_SO_FAR_MAX_CHARS = 8_000;
