import { Inject, Injectable } from '@nestjs/common';
import { redactSecrets } from '@agent-conductor/contracts';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets } from '../config/env.validators';
import { learnedSecrets } from '../config/learned-secrets';
import { join } from 'node:path';
import { AGENT_META_DIR } from '../agent/command-agent-runner';
import { AGENT_REPORT_MAX_BYTES, AgentFileError, FileSystem } from '../fs/file-system';
import { GitCli, GitCommandError } from '../git/git-cli';
import { REPO_DIR_NAME, type FollowUpCheckout } from '../workspace/repository.service';

export interface ArtifactReport {
  /** Every problem found, worded for the agent: these are fed back to it verbatim. */
  errors: string[];
  /** The agent's verdict, when WAS_JOB_SUCCESSFUL is well-formed. */
  successful: boolean | undefined;
  /**
   * What a successful job delivers: commits for a pull request, or (agent-meta/OUTCOME `report`) only its ending
   * report, for an incident that needs no code change. Undefined while the verdict is.
   */
  outcome: AgentOutcome | undefined;
  title: string;
  report: string;
  /** The repo's current branch, when it is on one. */
  branch: string | undefined;
}

/** What a follow-up's change is checked against: its pull request's branch as the worker checked it out. */
export type FollowUpBase = Pick<FollowUpCheckout, 'headBranch' | 'baseCommit'>;

/** `change` and `report` are successes; `failed` is the agent saying it could not do the job. */
export type AgentOutcome = 'change' | 'report' | 'failed';

const MAX_LISTED_CHANGES = 20;
const VERDICT_MAX_BYTES = 64;

/** Checks the artifact protocol of docs/design.md ("Worker work directory"). */
@Injectable()
export class ArtifactValidator {
  constructor(
    private readonly fs: FileSystem,
    private readonly git: GitCli,
    @Inject(WORKER_CONFIG) private readonly config: Parameters<typeof workerSecrets>[0],
  ) {}

  private redact(text: string): string {
    return redactSecrets(text, workerSecrets(this.config));
  }

  /**
   * With `followUp`, a change is new commits on the pull request's branch instead of a feature branch (docs/follow-up-runs.md).
   * `repositoryChecks: false`: the caller checks the repositories itself (a job over several, docs/multi-repository.md).
   */
  async validate(workDir: string, defaultBranch: string, followUp?: FollowUpBase, options: { repositoryChecks: boolean } = { repositoryChecks: true }): Promise<ArtifactReport> {
    const errors: string[] = [];
    // Every artifact is read as untrusted (no symlinks, bounded) and redacted before it can reach a PR, the
    // conductor's database or a log line; a refused file is one more problem for the agent to fix.
    const meta = async (name: string, maxBytes: number): Promise<string | undefined> => {
      try {
        const text = await this.fs.readAgentText(workDir, `${AGENT_META_DIR}/${name}`, maxBytes);
        return text === undefined ? undefined : this.redact(withoutControlCharacters(text));
      } catch (error) {
        if (!(error instanceof AgentFileError)) throw error;
        errors.push(error.message);
        return undefined;
      }
    };

    const verdict = await meta('WAS_JOB_SUCCESSFUL', VERDICT_MAX_BYTES);
    let successful: boolean | undefined;
    if (verdict === undefined) {
      errors.push(`${AGENT_META_DIR}/WAS_JOB_SUCCESSFUL is missing; write exactly "true" or "false" to it`);
    } else {
      const match = /^(true|false)\n?$/.exec(verdict);
      if (match) {
        successful = match[1] === 'true';
      } else {
        errors.push(`${AGENT_META_DIR}/WAS_JOB_SUCCESSFUL must contain exactly "true" or "false", found ${JSON.stringify(verdict.slice(0, 40))}`);
      }
    }

    // Optional, so that every agent written before it keeps meaning "a change" when it says true.
    const declared = await meta('OUTCOME', VERDICT_MAX_BYTES);
    let outcome: AgentOutcome | undefined = successful === undefined ? undefined : successful ? 'change' : 'failed';
    if (declared !== undefined) {
      const match = /^(change|report)\n?$/.exec(declared);
      if (!match) {
        errors.push(`${AGENT_META_DIR}/OUTCOME must contain exactly "change" or "report", found ${JSON.stringify(declared.slice(0, 40))}`);
      } else if (match[1] === 'report' && successful === false) {
        errors.push(`${AGENT_META_DIR}/OUTCOME says "report" but WAS_JOB_SUCCESSFUL says "false"; a report-only ending is a success: write "true", or delete OUTCOME if the job failed`);
      } else if (successful === true) {
        outcome = match[1] === 'report' ? 'report' : 'change';
      }
    }

    const metaInfo = await meta('meta-info.txt', AGENT_REPORT_MAX_BYTES);
    const title = (metaInfo ?? '').split('\n')[0]?.trim() ?? '';
    if (metaInfo === undefined) {
      errors.push(`${AGENT_META_DIR}/meta-info.txt is missing; its first line must be the title`);
    } else if (title === '') {
      errors.push(`${AGENT_META_DIR}/meta-info.txt line 1 (the title) is empty`);
    }

    const endingReport = await meta('ending-report.md', AGENT_REPORT_MAX_BYTES);
    if (endingReport === undefined) {
      errors.push(`${AGENT_META_DIR}/ending-report.md is missing`);
    } else if (endingReport.trim() === '') {
      errors.push(`${AGENT_META_DIR}/ending-report.md is empty`);
    }

    const repoDir = join(workDir, REPO_DIR_NAME);
    const branch = await this.currentBranch(repoDir);
    // A report-only ending publishes no branch, so whatever the agent left in repo/ is not held to the rules.
    if (outcome === 'change' && options.repositoryChecks) {
      errors.push(...(await this.repositoryErrors(repoDir, REPO_DIR_NAME, defaultBranch, branch, followUp)));
    }
    return { errors, successful, outcome, title, report: endingReport ?? '', branch };
  }

  /** Commits on HEAD that the default branch of origin does not have. */
  async commitsAhead(repoDir: string, defaultBranch: string): Promise<number> {
    const counted = await this.git.tryRunInAgentRepo(repoDir, ['rev-list', '--count', `refs/remotes/origin/${defaultBranch}..HEAD`]);
    return counted.ok ? Number.parseInt(counted.stdout.trim(), 10) : 0;
  }

  /** New commits on HEAD since the follow-up's branch was checked out; 0 when HEAD does not build on it. */
  async commitsOnTop(repoDir: string, baseCommit: string): Promise<number> {
    if (!(await this.git.tryRunInAgentRepo(repoDir, ['merge-base', '--is-ancestor', baseCommit, 'HEAD'])).ok) return 0;
    const counted = await this.git.tryRunInAgentRepo(repoDir, ['rev-list', '--count', `${baseCommit}..HEAD`]);
    return counted.ok ? Number.parseInt(counted.stdout.trim(), 10) : 0;
  }

  async currentBranch(repoDir: string): Promise<string | undefined> {
    if (!(await this.fs.isDirectory(join(repoDir, '.git')))) return undefined;
    const head = await this.git.tryRunInAgentRepo(repoDir, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    return head.ok ? head.stdout.trim() : undefined;
  }

  /** The rules for a repository that carries the change; `label` is its path in the work dir, as the agent knows it. */
  async repositoryErrors(repoDir: string, label: string, defaultBranch: string, branch: string | undefined, followUp?: FollowUpBase): Promise<string[]> {
    if (!(await this.fs.isDirectory(join(repoDir, '.git')))) {
      return [`${label}/ is not a git repository (${label}/.git is missing)`];
    }
    const errors: string[] = [];
    const nested = await this.fs.findNamed(repoDir, '.git', ['.git']);
    if (nested.length > 0) {
      errors.push(`${label}/ must hold exactly one git repository; remove the nested ones: ${nested.map((path) => `${label}/${path}`).join(', ')}`);
    }
    if (followUp) {
      errors.push(...(await this.followUpBranchErrors(repoDir, followUp, branch)));
    } else if (branch === undefined) {
      errors.push(`${label}/ is in detached HEAD state; check out a feature branch`);
    } else if (branch === defaultBranch) {
      errors.push(`${label}/ is on the default branch "${defaultBranch}"; commit your work on a feature branch`);
    }
    if (!followUp && branch !== undefined && (await this.commitsAhead(repoDir, defaultBranch)) < 1) {
      errors.push(`branch "${branch}" has no commits ahead of origin/${defaultBranch}; commit your changes`);
    }
    const range = followUp ? `${followUp.baseCommit}..HEAD` : `refs/remotes/origin/${defaultBranch}..HEAD`;
    if (await this.holdsLearnedSecret(repoDir, range, branch)) {
      errors.push(
        `the commits to push hold the AWS session you were given (in a file, a path, a message or the branch name); it is never pushed: rewrite the branch so that no commit holds it`,
      );
    }
    const status = await this.git.runInAgentRepo(repoDir, ['status', '--porcelain', '--untracked-files=all', '--ignore-submodules=all']);
    const changes = status.split('\n').filter((line) => line.trim() !== '');
    if (changes.length > 0) {
      const listed = changes.slice(0, MAX_LISTED_CHANGES).join('; ');
      const more = changes.length > MAX_LISTED_CHANGES ? ` (and ${changes.length - MAX_LISTED_CHANGES} more)` : '';
      errors.push(`${label}/ has uncommitted changes (git status --porcelain): ${listed}${more}`);
    }
    return errors;
  }

  /**
   * Whether a commit the push would publish holds one of the agent's AWS session values. The upload redaction rewrites
   * files, but a commit cannot be rewritten behind the agent's back: the push is refused instead. Every commit's whole
   * tree is searched, so a value added and deleted again on the branch is found too. A search that cannot finish
   * counts as a find: unchecked commits are not published.
   */
  private async holdsLearnedSecret(repoDir: string, range: string, branch: string | undefined): Promise<boolean> {
    const secrets = learnedSecrets();
    if (secrets.length === 0) return false;
    const [commits, listed] = await Promise.all([
      this.git.tryRunInAgentRepo(repoDir, ['rev-list', range]),
      this.git.tryRunInAgentRepo(repoDir, ['log', '--format=%an%n%ae%n%cn%n%ce%n%B', '--name-only', '--no-renames', range]),
    ]);
    if (!commits.ok || !listed.ok) return true;
    const text = `${branch ?? ''}\n${listed.stdout}`;
    if (secrets.some((secret) => text.includes(secret))) return true;
    const patterns = secrets.flatMap((secret) => ['-e', secret]);
    for (const commit of commits.stdout.split('\n').filter(Boolean)) {
      try {
        // -q: exit 0 on a find and print nothing, so no value reaches an error message.
        await this.git.runInAgentRepo(repoDir, ['grep', '-q', '-F', '--text', ...patterns, commit]);
        return true;
      } catch (error) {
        if (!(error instanceof GitCommandError) || error.exitCode !== 1) return true;
      }
    }
    return false;
  }

  /** A follow-up's change: new commits on top of the pull request's branch, which stays checked out and unrewritten. */
  private async followUpBranchErrors(repoDir: string, followUp: FollowUpBase, branch: string | undefined): Promise<string[]> {
    const short = followUp.baseCommit.slice(0, 12);
    if (branch !== followUp.headBranch) {
      const where = branch === undefined ? 'it is in detached HEAD state' : `it is on "${branch}"`;
      return [`${REPO_DIR_NAME}/ must stay on the pull request's branch "${followUp.headBranch}" (${where}); check it out and commit there`];
    }
    if (!(await this.git.tryRunInAgentRepo(repoDir, ['merge-base', '--is-ancestor', followUp.baseCommit, 'HEAD'])).ok) {
      return [`branch "${branch}" no longer contains the pull request's commit ${short}; do not rebase, amend or reset it: add new commits on top of ${short}`];
    }
    if ((await this.commitsOnTop(repoDir, followUp.baseCommit)) < 1) {
      return [`branch "${branch}" has no new commits on top of the pull request (${short}); commit your changes, or write "report" to ${AGENT_META_DIR}/OUTCOME if no change is needed`];
    }
    return [];
  }
}

/**
 * NUL and the other C0 controls (tab and line breaks aside) out of text an agent wrote: Postgres refuses a NUL in
 * text and JSON (the conductor's Shutdown then fails and the job's result is lost), and escape sequences would
 * reach terminals reading logs and the status CLI.
 */
export function withoutControlCharacters(text: string): string {
  const kept = (code: number): boolean => code === 0x09 || code === 0x0a || code === 0x0d || (code >= 0x20 && code !== 0x7f);
  let result = '';
  for (let i = 0; i < text.length; i++) if (kept(text.charCodeAt(i))) result += text[i];
  return result;
}
