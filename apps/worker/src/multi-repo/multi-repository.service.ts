import { Inject, Injectable, Logger } from '@nestjs/common';
import { basename, join } from 'node:path';
import { redactSecrets, workerV1 } from '@agent-conductor/contracts';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type WorkerConfig } from '../config/env.validators';
import { AgentFileError, FileSystem } from '../fs/file-system';
import { GitCli } from '../git/git-cli';
import { withoutControlCharacters, ArtifactValidator, type AgentOutcome, type ArtifactReport } from '../validation/artifact-validator.service';
import { REPO_DIR_NAME, RepositoryService } from '../workspace/repository.service';
import { BRANCHES_FILE, BRANCHES_FILE_MAX_BYTES, parseBranchesFile } from './branches-file';

/** One repository the agent changed, as validated: what gets pushed and gets a pull request. */
export interface PlannedChange {
  repository: workerV1.RepositorySpec;
  /** WORK_DIR/repo/<name>. */
  repoDir: string;
  /** The agent's branch, checked out in repoDir, ahead of origin/<base>. */
  branch: string;
  commitsAhead: number;
}

export interface MultiRepositoryArtifacts extends ArtifactReport {
  /** In the job's order of repositories; empty unless the outcome is `change`. */
  changes: PlannedChange[];
}

const MAX_LISTED_CHANGES = 20;

export const baseBranchOf = (repository: workerV1.RepositorySpec): string => repository.defaultBranch || 'main';

/**
 * The workspace of a job over several repositories (docs/multi-repository.md): each cloned under repo/<name>/,
 * and the artifact rules for one or more changed repositories, named by agent-meta/branches.json.
 */
@Injectable()
export class MultiRepositoryService {
  private readonly logger = new Logger(MultiRepositoryService.name);

  constructor(
    private readonly repository: RepositoryService,
    private readonly validator: ArtifactValidator,
    private readonly git: GitCli,
    private readonly fs: FileSystem,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  /** Returns WORK_DIR/repo, the directory holding them. */
  async clone(workDir: string, repositories: readonly workerV1.RepositorySpec[]): Promise<string> {
    const seen = new Set<string>();
    for (const repository of repositories) {
      // The conductor checked the names; a name that is not one plain directory would clone outside repo/.
      const name = repository.name;
      if (name === '' || name === '.' || name === '..' || basename(name) !== name || name.includes('\\') || seen.has(name)) {
        throw new Error(`refusing to clone: repository name ${JSON.stringify(name)} is not a unique plain directory name`);
      }
      seen.add(name);
    }
    for (const repository of repositories) {
      try {
        await this.repository.clone(workDir, repository, `${REPO_DIR_NAME}/${repository.name}`);
      } catch (error) {
        throw new Error(`cloning ${REPO_DIR_NAME}/${repository.name}/ failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.logger.log(`Cloned ${repositories.length} repositories under ${REPO_DIR_NAME}/: ${repositories.map((repository) => repository.name).join(', ')}`);
    return join(workDir, REPO_DIR_NAME);
  }

  async validate(workDir: string, repositories: readonly workerV1.RepositorySpec[]): Promise<MultiRepositoryArtifacts> {
    const primary = repositories[0];
    if (!primary) throw new Error('a job over several repositories needs at least one');
    const meta = await this.validator.validate(workDir, baseBranchOf(primary), undefined, { repositoryChecks: false });
    if (meta.outcome !== 'change') return { ...meta, branch: undefined, changes: [] };
    const { errors, changes } = await this.plan(workDir, repositories, meta.outcome);
    return { ...meta, errors: [...meta.errors, ...errors], branch: undefined, changes };
  }

  private async plan(workDir: string, repositories: readonly workerV1.RepositorySpec[], outcome: AgentOutcome): Promise<{ errors: string[]; changes: PlannedChange[] }> {
    const names = repositories.map((repository) => repository.name);
    const errors: string[] = [];
    const listed = await this.branchesFile(workDir, names, errors);
    const changes: PlannedChange[] = [];
    for (const repository of repositories) {
      const label = `${REPO_DIR_NAME}/${repository.name}`;
      const repoDir = join(workDir, REPO_DIR_NAME, repository.name);
      const base = baseBranchOf(repository);
      // lstat of repo/ and repo/<name> themselves: a symlink there would have the worker read and push another
      // repository's objects with its own rights (lstat of repo/<name>/.git alone follows it).
      if (!(await this.fs.isDirectory(join(workDir, REPO_DIR_NAME))) || !(await this.fs.isDirectory(repoDir))) {
        errors.push(`${label}/ must be the directory the worker cloned, not a symlink or a file`);
        continue;
      }
      if (!(await this.fs.isDirectory(join(repoDir, '.git')))) {
        errors.push(`${label}/ is not a git repository (${label}/.git is missing); leave each repository where it was cloned`);
        continue;
      }
      const current = await this.validator.currentBranch(repoDir);
      const branch = listed.get(repository.name);
      if (branch !== undefined) {
        if (current !== branch) {
          errors.push(`${label}/ is on ${current === undefined ? 'a detached HEAD' : `"${current}"`}, but ${BRANCHES_FILE} names "${branch}" for it; check out "${branch}" in ${label}/`);
          continue;
        }
        const problems = await this.validator.repositoryErrors(repoDir, label, base, current);
        // Every problem names the repository it is about.
        errors.push(...problems.map((problem) => (problem.startsWith(`${label}/`) ? problem : `${label}/: ${problem}`)));
        if (problems.length === 0) changes.push({ repository, repoDir, branch, commitsAhead: await this.validator.commitsAhead(repoDir, base) });
        continue;
      }
      // Not listed: work left here would be lost without a word, so it is an error rather than ignored.
      const ahead = await this.validator.commitsAhead(repoDir, base);
      if (ahead > 0) {
        errors.push(
          `${label}/ has ${ahead} commit(s) ahead of origin/${base}${current === undefined ? '' : ` on "${current}"`}, but ${BRANCHES_FILE} does not list "${repository.name}"; list it with its branch, or drop those commits`,
        );
      }
      const status = await this.git.runInAgentRepo(repoDir, ['status', '--porcelain', '--untracked-files=all', '--ignore-submodules=all']);
      const dirty = status.split('\n').filter((line) => line.trim() !== '');
      if (dirty.length > 0) {
        const more = dirty.length > MAX_LISTED_CHANGES ? ` (and ${dirty.length - MAX_LISTED_CHANGES} more)` : '';
        errors.push(`${label}/ has uncommitted changes (git status --porcelain): ${dirty.slice(0, MAX_LISTED_CHANGES).join('; ')}${more}; commit them on a branch listed in ${BRANCHES_FILE}, or discard them`);
      }
    }
    if (outcome === 'change' && changes.length === 0 && errors.length === 0) {
      errors.push(`${BRANCHES_FILE} lists no changed repository; a change needs at least one (or write "report" to agent-meta/OUTCOME when no change is needed)`);
    }
    return { errors, changes };
  }

  /** The file's valid entries; its problems go to `errors`. Read as untrusted, bounded and redacted like every artifact. */
  private async branchesFile(workDir: string, names: readonly string[], errors: string[]): Promise<Map<string, string>> {
    let text: string | undefined;
    try {
      text = await this.fs.readAgentText(workDir, BRANCHES_FILE, BRANCHES_FILE_MAX_BYTES);
    } catch (error) {
      if (!(error instanceof AgentFileError)) throw error;
      errors.push(error.message);
      return new Map();
    }
    if (text === undefined) {
      errors.push(`${BRANCHES_FILE} is missing; name the branch of each repository you changed, e.g. {"${names[0] ?? 'name'}": "fix/short-description"}`);
      return new Map();
    }
    const parsed = parseBranchesFile(redactSecrets(withoutControlCharacters(text), workerSecrets(this.config)), names);
    errors.push(...parsed.errors);
    return parsed.branches;
  }

  /** The validated plan again, right before publishing: the agent is gone, so it is what was validated. */
  async changesToPublish(workDir: string, repositories: readonly workerV1.RepositorySpec[]): Promise<PlannedChange[]> {
    const { errors, changes } = await this.plan(workDir, repositories, 'change');
    if (errors.length > 0) throw new Error(`the repositories changed after validation: ${errors.join('; ')}`);
    return changes;
  }
}
