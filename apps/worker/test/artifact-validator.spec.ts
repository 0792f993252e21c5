import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSystem } from '../src/fs/file-system';
import { GitCli } from '../src/git/git-cli';
import type { AgentSandbox } from '../src/process/agent-sandbox';
import { type ArtifactReport, ArtifactValidator } from '../src/validation/artifact-validator.service';
import { learnSecrets } from '../src/config/learned-secrets';
import { createBareRemote, git } from './support/git-fixtures';
import { agentReachableTempDir, testSandbox } from './support/isolation';

jest.setTimeout(60_000);

const BRANCH = 'agent/fix-total';

function commitAll(repoDir: string, message: string): void {
  git(repoDir, ['add', '--all']);
  git(repoDir, ['-c', 'user.name=Agent', '-c', 'user.email=agent@example.invalid', 'commit', '--quiet', '-m', message]);
}

/** What an agent that did its job leaves: a feature branch one commit ahead of origin/main, nothing uncommitted. */
async function finishedWork(repoDir: string): Promise<void> {
  git(repoDir, ['checkout', '--quiet', '-b', BRANCH]);
  await appendFile(join(repoDir, 'src', 'orders.ts'), '// rounded to cents by the caller\n');
  commitAll(repoDir, 'Document rounding');
}

interface WorkDirSpec {
  /** undefined: the file is not written. */
  verdict?: string | undefined;
  /** agent-meta/OUTCOME; undefined: not written, as by every agent before it existed. */
  declaredOutcome?: string | undefined;
  metaInfo?: string | undefined;
  endingReport?: string | undefined;
  /** Shapes repo/ after the clone; finishedWork by default. */
  repo?: (repoDir: string) => Promise<void> | void;
}

const GOOD: WorkDirSpec = { verdict: 'true\n', metaInfo: 'Document rounding of order totals\nMore detail.\n', endingReport: 'Added a comment.\n' };

describe('ArtifactValidator (real git repositories, git run as the agent)', () => {
  let root: string;
  let remote: string;
  let sandbox: AgentSandbox;

  beforeEach(async () => {
    root = await agentReachableTempDir('artifact-validator-spec-');
    remote = createBareRemote(root);
    sandbox = testSandbox();
  });

  afterEach(async () => {
    await sandbox.onModuleDestroy();
    await rm(root, { recursive: true, force: true });
  });

  /** Builds the work dir as the agent would have left it, hands it to the agent's uid as WorkerRunner does, and validates it. */
  async function validate(spec: WorkDirSpec): Promise<ArtifactReport> {
    const workDir = join(root, 'work');
    await mkdir(join(workDir, 'agent-meta'), { recursive: true });
    const artifacts: [string, string | undefined][] = [
      ['WAS_JOB_SUCCESSFUL', spec.verdict],
      ['OUTCOME', spec.declaredOutcome],
      ['meta-info.txt', spec.metaInfo],
      ['ending-report.md', spec.endingReport],
    ];
    for (const [name, content] of artifacts) if (content !== undefined) await writeFile(join(workDir, 'agent-meta', name), content);
    git(workDir, ['clone', '--quiet', remote, 'repo']);
    await (spec.repo ?? finishedWork)(join(workDir, 'repo'));
    await sandbox.handOver(workDir);
    return new ArtifactValidator(new FileSystem(), new GitCli(sandbox), { token: 'worker-token-value' }).validate(workDir, 'main');
  }

  it('accepts finished work and reports its verdict, title, report and branch', async () => {
    expect(await validate(GOOD)).toEqual({
      errors: [],
      successful: true,
      outcome: 'change',
      title: 'Document rounding of order totals',
      report: 'Added a comment.\n',
      branch: BRANCH,
    });
  });

  it('does not hold a repository to the rules when the agent says it failed', async () => {
    const report = await validate({
      ...GOOD,
      verdict: 'false',
      repo: (repoDir) => writeFile(join(repoDir, 'notes.txt'), 'half done\n'),
    });
    expect(report.errors).toEqual([]);
    expect(report.successful).toBe(false);
    expect(report.outcome).toBe('failed');
    expect(report.branch).toBe('main');
  });

  describe('agent-meta/OUTCOME', () => {
    const untouched = (): void => undefined;

    it('"report" with true: a success that needs no commit, whatever repo/ holds', async () => {
      const report = await validate({ ...GOOD, declaredOutcome: 'report\n', repo: (repoDir) => writeFile(join(repoDir, 'notes.txt'), 'scratch\n') });
      expect(report).toEqual({ errors: [], successful: true, outcome: 'report', title: 'Document rounding of order totals', report: 'Added a comment.\n', branch: 'main' });
    });

    it('"change" is the default spelled out: repo/ is held to the rules', async () => {
      const report = await validate({ ...GOOD, declaredOutcome: 'change', repo: untouched });
      expect(report.outcome).toBe('change');
      expect(report.errors).toEqual(['repo/ is on the default branch "main"; commit your work on a feature branch', 'branch "main" has no commits ahead of origin/main; commit your changes']);
    });

    it('refuses anything but "change" or "report"', async () => {
      const report = await validate({ ...GOOD, declaredOutcome: 'Report\n' });
      expect(report.errors).toEqual(['agent-meta/OUTCOME must contain exactly "change" or "report", found "Report\\n"']);
    });

    it('refuses "report" from an agent that says it failed', async () => {
      const report = await validate({ ...GOOD, verdict: 'false\n', declaredOutcome: 'report', repo: untouched });
      expect(report.errors).toEqual([
        'agent-meta/OUTCOME says "report" but WAS_JOB_SUCCESSFUL says "false"; a report-only ending is a success: write "true", or delete OUTCOME if the job failed',
      ]);
    });
  });

  describe('agent-meta', () => {
    it('requires WAS_JOB_SUCCESSFUL', async () => {
      const report = await validate({ ...GOOD, verdict: undefined });
      expect(report.errors).toEqual(['agent-meta/WAS_JOB_SUCCESSFUL is missing; write exactly "true" or "false" to it']);
      expect(report.successful).toBeUndefined();
    });

    it('requires WAS_JOB_SUCCESSFUL to hold exactly "true" or "false"', async () => {
      const report = await validate({ ...GOOD, verdict: 'True\n' });
      expect(report.errors).toEqual(['agent-meta/WAS_JOB_SUCCESSFUL must contain exactly "true" or "false", found "True\\n"']);
      expect(report.successful).toBeUndefined();
    });

    it('requires meta-info.txt', async () => {
      expect((await validate({ ...GOOD, metaInfo: undefined })).errors).toEqual(['agent-meta/meta-info.txt is missing; its first line must be the title']);
    });

    it('requires a title on the first line of meta-info.txt', async () => {
      const report = await validate({ ...GOOD, metaInfo: '   \nThe title came second.\n' });
      expect(report.errors).toEqual(['agent-meta/meta-info.txt line 1 (the title) is empty']);
      expect(report.title).toBe('');
    });

    it('requires ending-report.md', async () => {
      expect((await validate({ ...GOOD, endingReport: undefined })).errors).toEqual(['agent-meta/ending-report.md is missing']);
    });

    it('refuses an ending report of nothing but whitespace', async () => {
      expect((await validate({ ...GOOD, endingReport: ' \n\n\t\n' })).errors).toEqual(['agent-meta/ending-report.md is empty']);
    });
  });

  describe('repo/ of a successful job', () => {
    it('must be a git repository', async () => {
      const report = await validate({ ...GOOD, repo: (repoDir) => rm(join(repoDir, '.git'), { recursive: true, force: true }) });
      expect(report.errors).toEqual(['repo/ is not a git repository (repo/.git is missing)']);
      expect(report.branch).toBeUndefined();
    });

    it('must hold no nested repository', async () => {
      const report = await validate({
        ...GOOD,
        repo: async (repoDir) => {
          await finishedWork(repoDir);
          git(repoDir, ['init', '--quiet', join(repoDir, 'vendor', 'lib')]);
        },
      });
      expect(report.errors).toContain('repo/ must hold exactly one git repository; remove the nested ones: repo/vendor/lib/.git');
    });

    it('must not be in detached HEAD state', async () => {
      const report = await validate({
        ...GOOD,
        repo: async (repoDir) => {
          await finishedWork(repoDir);
          git(repoDir, ['checkout', '--quiet', '--detach']);
        },
      });
      expect(report.errors).toEqual(['repo/ is in detached HEAD state; check out a feature branch']);
      expect(report.branch).toBeUndefined();
    });

    it('must not leave the work on the default branch', async () => {
      const report = await validate({
        ...GOOD,
        repo: async (repoDir) => {
          await appendFile(join(repoDir, 'README.md'), 'More.\n');
          commitAll(repoDir, 'Committed on main');
        },
      });
      expect(report.errors).toEqual(['repo/ is on the default branch "main"; commit your work on a feature branch']);
    });

    it('must have commits ahead of origin/<default branch>', async () => {
      const report = await validate({
        ...GOOD,
        repo: (repoDir) => {
          git(repoDir, ['checkout', '--quiet', '-b', BRANCH]);
        },
      });
      expect(report.errors).toEqual([`branch "${BRANCH}" has no commits ahead of origin/main; commit your changes`]);
    });

    it('must have nothing uncommitted', async () => {
      const report = await validate({
        ...GOOD,
        repo: async (repoDir) => {
          await finishedWork(repoDir);
          await appendFile(join(repoDir, 'README.md'), 'Forgotten.\n');
        },
      });
      expect(report.errors).toEqual(['repo/ has uncommitted changes (git status --porcelain):  M README.md']);
    });

    it('lists the first 20 uncommitted changes and counts the rest', async () => {
      const names = Array.from({ length: 23 }, (_, i) => `scratch-${String(i).padStart(2, '0')}.txt`);
      const report = await validate({
        ...GOOD,
        repo: async (repoDir) => {
          await finishedWork(repoDir);
          for (const name of names) await writeFile(join(repoDir, name), `${name}\n`);
        },
      });
      const listed = names
        .slice(0, 20)
        .map((name) => `?? ${name}`)
        .join('; ');
      expect(report.errors).toEqual([`repo/ has uncommitted changes (git status --porcelain): ${listed} (and 3 more)`]);
    });
  });

  describe("the agent's AWS session (read-only incident jobs)", () => {
    // Shape-less values, as STS's secret key and token are: only the learned list can find them.
    const secretKey = 'sessionsecretvalue7f3c9a1b2d4e';
    const sessionToken = 'sessiontokenvalue5e8d2c0a9b7f';
    const refused =
      'the commits to push hold the AWS session you were given (in a file, a path, a message or the branch name); it is never pushed: rewrite the branch so that no commit holds it';
    beforeAll(() => learnSecrets([secretKey, sessionToken]));

    it('accepts commits that hold none of it', async () => {
      expect((await validate(GOOD)).errors).toEqual([]);
    });

    it('refuses a push whose commits held it in a file, even one deleted again on the branch', async () => {
      const report = await validate({
        ...GOOD,
        repo: async (repoDir) => {
          await finishedWork(repoDir);
          await writeFile(join(repoDir, 'notes.txt'), `aws_secret_access_key = ${secretKey}\n`);
          commitAll(repoDir, 'Notes');
          git(repoDir, ['rm', '--quiet', 'notes.txt']);
          commitAll(repoDir, 'Remove the notes');
        },
      });
      expect(report.errors).toEqual([refused]);
    });

    it('refuses a push whose commit message holds it', async () => {
      const report = await validate({
        ...GOOD,
        repo: async (repoDir) => {
          await finishedWork(repoDir);
          await appendFile(join(repoDir, 'src', 'orders.ts'), '// and more\n');
          commitAll(repoDir, `More\n\ntoken ${sessionToken}`);
        },
      });
      expect(report.errors).toEqual([refused]);
    });
  });
});
