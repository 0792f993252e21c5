import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { workerV1 } from '@agent-conductor/contracts';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import { httpAuthEnv } from '../git/authenticated-push';
import { GitCli } from '../git/git-cli';

export const REPO_DIR_NAME = 'repo';

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
}
