import type { LoggerService } from '@nestjs/common';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { workerV1 } from '@agent-conductor/contracts';
import { FakeGitHub, type FakePullRequest } from '@agent-conductor/testing';
import { runWorker } from '../src/bootstrap';
import type { WorkerConfig } from '../src/config/env.validators';
import { FakeConductor, writeTaskFiles } from './support/fake-conductor';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir } from './support/isolation';

jest.setTimeout(90_000);

const DEMO_AGENT = resolve(__dirname, '../../../tools/demo-agent/demo-agent.sh');
const WORKER_TOKEN = 'tok_worker_5e6f7a8b9c0d1e2f3a4b';
const GITHUB_TOKEN = 'ghs_followUpInstallationToken0123456789';
const HTML = 'https://github.com/acme/sample-app';
const PULL = `${HTML}/pull/42`;
// What the first job's worker (w-1) pushed and opened the pull request from.
const BRANCH = 'worker/w-1/agent/abc-12-fix-order-total-rounding';
const FIRST_COMMIT = 'ABC-12: Fix order total rounding';
const MARKER = '<!-- agent-conductor:follow-up job=job-1 -->';
// As the conductor renders it (libs/scheduling-domain render-follow-up-task.ts), cut to what the demo agent reads.
const TASK_MD = [
  '# Follow-up on ABC-12: Fix order total rounding',
  '',
  '## Review comments',
  '',
  '### Comment 1 by `bob`',
  '',
  '```text',
  '@agent also add a test',
  '```',
  '',
  '### Comment 2 by `alice` on `src/orders.ts:42`',
  '',
  '```text',
  '@agent round once per order',
  '```',
  '',
].join('\n');

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.lines.push([message, ...rest].map(String).join(' '));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
}

describe('a follow-up job: the worker continues the pull request and replies on it', () => {
  let root: string;
  let remote: string;
  let github: FakeGitHub;
  let pull: FakePullRequest;
  let logs: CapturingLogger;
  const conductors: FakeConductor[] = [];
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    root = await agentReachableTempDir('follow-up-pipeline-spec-');
    remote = createBareRemote(root);
    // The first job's pull request branch: one commit on top of main.
    const first = join(root, 'first-job');
    git(root, ['clone', '--quiet', remote, first]);
    git(first, ['checkout', '--quiet', '-b', BRANCH]);
    git(first, ['-c', 'user.name=Agent', '-c', 'user.email=agent@example.invalid', 'commit', '--quiet', '--allow-empty', '-m', FIRST_COMMIT]);
    git(first, ['push', '--quiet', 'origin', BRANCH]);
    github = await new FakeGitHub({ gitRoot: root, pushToken: GITHUB_TOKEN }).start();
    pull = github.trackPullRequest('acme/sample-app', { number: 42, headRef: BRANCH });
    process.env['GITHUB_TOKEN'] = GITHUB_TOKEN;
    logs = new CapturingLogger();
  });

  afterEach(async () => {
    process.env = { ...savedEnv };
    for (const conductor of conductors.splice(0)) await conductor.stop();
    await github.stop();
    await rm(root, { recursive: true, force: true });
  });

  interface AttemptOptions {
    publisher?: 'github' | 'local';
    headBranch?: string;
    /** null: a first job, not a follow-up. */
    followUp?: workerV1.FollowUp | null;
    task?: string;
  }

  /** One attempt of the follow-up job job-1 (the fake conductor's), by worker `workerId`. */
  async function attempt(workerId: string, agentCommand: string, options: AttemptOptions = {}): Promise<{ conductor: FakeConductor; workDir: string; outcome: Awaited<ReturnType<typeof runWorker>> }> {
    const publisher = options.publisher ?? 'github';
    const headBranch = options.headBranch ?? BRANCH;
    const followUp = options.followUp === undefined ? { headBranch, pullRequest: publisher === 'github' ? PULL : `${remote}#${BRANCH}`, resumeThreadId: '' } : (options.followUp ?? undefined);
    const dir = join(root, workerId);
    await mkdir(dir);
    const { taskDir, scratchDir } = await writeTaskFiles(dir, { task: options.task ?? TASK_MD });
    const cloneUrl = publisher === 'github' ? github.cloneUrl('sample-app') : remote;
    const conductor = await new FakeConductor({
      workerId,
      token: WORKER_TOKEN,
      taskDir,
      scratchDir,
      repository: { cloneUrl, defaultBranch: 'main', sparsePaths: [], name: 'acme/sample-app' },
      heartbeatIntervalMs: 100,
      ...(followUp ? { followUp } : {}),
      // The thread's own pull request comes back as earlier work on the repository: it is not listed as such.
      earlierWork: [{ jobId: 'job-0', jobKey: 'ABC-12', branch: BRANCH, pullRequest: PULL, title: FIRST_COMMIT, summary: '' }],
    }).start();
    conductors.push(conductor);
    const workDir = join(dir, 'work');
    const config: WorkerConfig = {
      workerId,
      token: WORKER_TOKEN,
      conductorAddress: conductor.address,
      workDir,
      agentKind: 'command',
      agentCommand,
      maxAgentAttempts: 2,
      agentTimeoutMs: 30_000,
      publisher,
      ...(publisher === 'github' ? { github: { token: GITHUB_TOKEN, apiUrl: github.apiUrl, repository: 'acme/sample-app' } } : {}),
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 10_000,
      agentIsolation: AGENT_ISOLATION,
    };
    return { conductor, workDir, outcome: await runWorker(config, { logger: logs }) };
  }

  const branchLog = (): string[] => git(remote, ['log', '--format=%s', `refs/heads/${BRANCH}`]).trim().split('\n');
  // The agent copies secrets it should not have into its report: none reaches the pull request.
  const leakyDemo = `sh '${DEMO_AGENT}' && printf '\\nleaked: ${WORKER_TOKEN} ${GITHUB_TOKEN}\\n' >> agent-meta/ending-report.md`;

  it('checks out the pull request branch, pushes a second commit to it and replies once, even when the job publishes twice', async () => {
    // A busy pull request: the reply lands on the second page of its comments, where a retry must still find it.
    for (let n = 1; n <= 120; n++) pull.comments.push({ id: n, body: `review chatter ${n}` });
    const replies = (): string[] => pull.comments.map((comment) => comment.body).filter((body) => body.includes(MARKER));

    const { conductor, workDir, outcome } = await attempt('w-2', leakyDemo);

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(branchLog()).toEqual(['ABC-12: answer 2 review comment(s)', FIRST_COMMIT, 'Initial sample app']);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim().split('\n')).toEqual(['refs/heads/main', `refs/heads/${BRANCH}`]);
    expect(pull.comments).toHaveLength(121);
    expect(replies()).toHaveLength(1);
    const replyId = pull.comments[120]?.id;
    const reply = pull.comments[120]?.body ?? '';
    expect(reply.startsWith(`${MARKER}\nThe demo agent answered 2 review comment(s) with one commit on \`${BRANCH}\`:\n\n- the comment by \`bob\`\n- the comment by \`alice\` on \`src/orders.ts:42\`\n`)).toBe(true);
    expect(reply).toContain(`_Pushed 1 new commit(s) to \`${BRANCH}\`._`);
    expect(reply).not.toContain(WORKER_TOKEN);
    expect(reply).not.toContain(GITHUB_TOKEN);
    expect(conductor.shutdownRequest?.result).toMatchObject({ branch: BRANCH, pullRequest: PULL, report: `${PULL}#issuecomment-${replyId}`, title: 'ABC-12: answer 2 review comment(s)' });
    expect(github.apiCalls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /repos/acme/sample-app/pulls/42',
      'GET /repos/acme/sample-app/issues/42/comments?per_page=100&page=1',
      'GET /repos/acme/sample-app/issues/42/comments?per_page=100&page=2',
      'POST /repos/acme/sample-app/issues/42/comments',
    ]);
    expect(github.apiCalls.every((call) => call.authorization === `token ${GITHUB_TOKEN}`)).toBe(true);
    // The agent saw the comments, and its own pull request was not offered to it as earlier work. With no session to
    // resume, it also saw what the branch already holds, read from the clone before it ran.
    const task = await readFile(join(workDir, 'TASK.md'), 'utf8');
    expect(task.startsWith(`${TASK_MD.trimEnd()}\n\n## The branch so far\n`)).toBe(true);
    expect(task).toMatch(new RegExp(`\\n\`\`\`text\\n[0-9a-f]{7,} ${FIRST_COMMIT}\\n`));
    expect(task).not.toContain('Earlier work on this repository');
    expect(JSON.parse(await readFile(join(workDir, 'publication', 'follow-up-reply.json'), 'utf8'))).toMatchObject({ kind: 'github-follow-up-reply', created: true, branch: BRANCH, pushedCommits: 1 });

    // The conductor lost the first Shutdown and ran the job again: a new commit on top, the same one reply, edited.
    github.apiCalls.length = 0;
    const retry = await attempt('w-3', `sh '${DEMO_AGENT}'`);
    expect(retry.outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(branchLog()).toEqual(['ABC-12: answer 2 review comment(s)', 'ABC-12: answer 2 review comment(s)', FIRST_COMMIT, 'Initial sample app']);
    expect(pull.comments).toHaveLength(121);
    expect(replies()).toHaveLength(1);
    expect(pull.comments[120]?.body.startsWith(MARKER)).toBe(true);
    expect(pull.comments[120]?.body).not.toContain('leaked');
    expect(retry.conductor.shutdownRequest?.result?.report).toBe(`${PULL}#issuecomment-${replyId}`);
    expect(github.apiCalls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /repos/acme/sample-app/pulls/42',
      'GET /repos/acme/sample-app/issues/42/comments?per_page=100&page=1',
      'GET /repos/acme/sample-app/issues/42/comments?per_page=100&page=2',
      `PATCH /repos/acme/sample-app/issues/comments/${replyId}`,
    ]);
  });

  it('the whole loop at the worker: a first job opens the pull request, and its follow-up adds to it and replies there', async () => {
    github.on('GET', '/repos/acme/sample-app', () => ({ status: 200, body: { default_branch: 'main', html_url: HTML } }));
    const pulls = github.trackPullRequests('acme/sample-app');
    const ticket = '# ABC-30: Show order totals\n\n## Description\n\nShow the total under the order list.\n';

    const first = await attempt('w-9', `sh '${DEMO_AGENT}'`, { followUp: null, task: ticket });
    const opened = first.conductor.shutdownRequest?.result;
    expect(opened).toMatchObject({ branch: 'worker/w-9/agent/abc-30-show-order-totals', pullRequest: `${PULL.replace(/42$/, '43')}` });

    const followUp = await attempt('w-10', `sh '${DEMO_AGENT}'`, {
      followUp: { headBranch: opened?.branch ?? '', pullRequest: opened?.pullRequest ?? '', resumeThreadId: '' },
      task: TASK_MD.replace('ABC-12: Fix order total rounding', 'ABC-30: Show order totals'),
    });

    expect(followUp.outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(git(remote, ['log', '--format=%s', 'refs/heads/worker/w-9/agent/abc-30-show-order-totals']).trim().split('\n')).toEqual([
      'ABC-30: answer 2 review comment(s)',
      'ABC-30: Show order totals',
      'Initial sample app',
    ]);
    const opener = pulls.find((pull) => pull.number === 43);
    expect(opener).toMatchObject({ headRef: 'worker/w-9/agent/abc-30-show-order-totals', title: 'ABC-30: Show order totals', state: 'open' });
    expect(opener?.comments.map((comment) => comment.body)).toEqual([expect.stringMatching(/^<!-- agent-conductor:follow-up job=job-1 -->\nThe demo agent answered 2 review comment\(s\)/)]);
    expect(github.apiCalls.filter((call) => call.method === 'POST').map((call) => call.path)).toEqual(['/repos/acme/sample-app/pulls', '/repos/acme/sample-app/issues/43/comments']);
  });

  it('a follow-up that resumes the earlier session gets no summary of the branch in TASK.md: the agent remembers it', async () => {
    const { workDir, outcome } = await attempt('w-resume', leakyDemo, { followUp: { headBranch: BRANCH, pullRequest: PULL, resumeThreadId: 'thread-1' } });
    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED });
    expect(await readFile(join(workDir, 'TASK.md'), 'utf8')).toBe(TASK_MD);
  });

  it('a "report" ending replies without pushing anything', async () => {
    const { conductor, outcome } = await attempt('w-2', `DEMO_AGENT_BEHAVIOUR=report sh '${DEMO_AGENT}'`);

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(branchLog()).toEqual([FIRST_COMMIT, 'Initial sample app']);
    expect(pull.comments.map((comment) => comment.body)).toEqual([expect.stringMatching(/^<!-- agent-conductor:follow-up job=job-1 -->\n# Findings for ABC-12[\s\S]*_No code change was needed: nothing was pushed to/)]);
    expect(conductor.shutdownRequest?.result).toMatchObject({ branch: BRANCH, pullRequest: PULL });
    expect(github.gitCalls.filter((call) => call.path.includes('receive-pack'))).toEqual([]);
  });

  it('an agent that could not address the comments: the job fails, the reply says so, and nothing is pushed', async () => {
    const { conductor, outcome } = await attempt('w-2', `DEMO_AGENT_BEHAVIOUR=fail sh '${DEMO_AGENT}'`);

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor.shutdownRequest?.error).toBe('agent reported the job failed: ABC-12: Fix order total rounding');
    expect(branchLog()).toEqual([FIRST_COMMIT, 'Initial sample app']);
    expect(pull.comments.map((comment) => comment.body)).toEqual([
      expect.stringMatching(/^<!-- agent-conductor:follow-up job=job-1 -->\n# Could not complete ABC-12[\s\S]*_The agent could not address the comments: nothing was pushed to/),
    ]);
    expect(conductor.shutdownRequest?.result).toMatchObject({ branch: BRANCH, pullRequest: PULL, report: `${PULL}#issuecomment-${pull.comments[0]?.id}` });
    expect(github.apiCalls.map((call) => `${call.method} ${call.path}`)).not.toContain('POST /repos/acme/sample-app/issues');
  });

  it('fails validation with a clear error when the agent made no commit on the branch, and publishes nothing', async () => {
    const noCommit = "mkdir -p agent-meta && printf 'true\\n' > agent-meta/WAS_JOB_SUCCESSFUL && printf 'Addressed it\\n' > agent-meta/meta-info.txt && printf 'Done.\\n' > agent-meta/ending-report.md";

    const { conductor, outcome } = await attempt('w-2', noCommit);

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor.shutdownRequest?.error).toMatch(
      new RegExp(`^artifact validation failed after 2 attempts: branch "${BRANCH}" has no new commits on top of the pull request \\([0-9a-f]{12}\\); commit your changes, or write "report" to agent-meta/OUTCOME if no change is needed$`),
    );
    expect(branchLog()).toEqual([FIRST_COMMIT, 'Initial sample app']);
    expect(pull.comments).toEqual([]);
  });

  it('a branch that moved meanwhile is a clear failure: nothing is forced and no reply is posted', async () => {
    const other = join(root, 'someone-else');
    git(root, ['clone', '--quiet', '--branch', BRANCH, remote, other]);
    // Someone pushes to the pull request while the agent works (GitHub is asked about the pull request just before the push).
    github.on('GET', '/repos/acme/sample-app/pulls/42', () => {
      git(other, ['-c', 'user.name=Reviewer', '-c', 'user.email=reviewer@example.invalid', 'commit', '--quiet', '--allow-empty', '-m', 'Reviewer fix']);
      git(other, ['push', '--quiet', 'origin', BRANCH]);
      return { status: 200, body: { number: 42, state: 'open', merged: false, head: { ref: BRANCH }, html_url: PULL } };
    });

    const { conductor, outcome } = await attempt('w-2', `sh '${DEMO_AGENT}'`);

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor.shutdownRequest?.error).toMatch(
      new RegExp(`^publish failed: the pull request's branch ${BRANCH} moved after this follow-up checked out [0-9a-f]{12} \\(someone pushed to it\\); the worker never forces a push, so nothing was pushed: `),
    );
    expect(branchLog()).toEqual(['Reviewer fix', FIRST_COMMIT, 'Initial sample app']);
    expect(pull.comments).toEqual([]);
  });

  it('refuses to check out a head branch no worker pushed, before the agent runs', async () => {
    const { conductor, workDir, outcome } = await attempt('w-2', `sh '${DEMO_AGENT}'`, { headBranch: 'main' });

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor.shutdownRequest?.error).toBe('clone failed: refusing to check out the follow-up\'s head branch "main": not a branch a worker pushed');
    await expect(readFile(join(workDir, 'agent-meta', 'ending-report.md'), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(github.apiCalls).toEqual([]);
  });

  it('fails validation when the agent rewrote the branch instead of adding to it', async () => {
    const rewrite = [
      'cd repo && git reset --quiet --hard origin/main && git commit --quiet --allow-empty -m "Start over" && cd ..',
      "mkdir -p agent-meta && printf 'true\\n' > agent-meta/WAS_JOB_SUCCESSFUL && printf 'Redone\\n' > agent-meta/meta-info.txt && printf 'Done.\\n' > agent-meta/ending-report.md",
    ].join(' && ');

    const { conductor, outcome } = await attempt('w-2', rewrite);

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor.shutdownRequest?.error).toMatch(
      new RegExp(`^artifact validation failed after 2 attempts: branch "${BRANCH}" no longer contains the pull request's commit [0-9a-f]{12}; do not rebase, amend or reset it`),
    );
    expect(branchLog()).toEqual([FIRST_COMMIT, 'Initial sample app']);
    expect(pull.comments).toEqual([]);
  });

  it('a pull request merged while the follow-up ran gets no push and no reply', async () => {
    pull.state = 'closed';
    pull.merged = true;

    const { conductor, outcome } = await attempt('w-2', `sh '${DEMO_AGENT}'`);

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor.shutdownRequest?.error).toBe('publish failed: pull request #42 in acme/sample-app was merged before this follow-up could publish; nothing was pushed');
    expect(branchLog()).toEqual([FIRST_COMMIT, 'Initial sample app']);
    expect(pull.comments).toEqual([]);
  });

  it('with the local publisher: pushes to the same branch of the local remote and records the reply in the result', async () => {
    const { conductor, workDir, outcome } = await attempt('w-2', leakyDemo, { publisher: 'local' });

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(branchLog()).toEqual(['ABC-12: answer 2 review comment(s)', FIRST_COMMIT, 'Initial sample app']);
    const reference = `${remote}#${BRANCH}#follow-up-reply/job-1`;
    expect(conductor.shutdownRequest?.result).toMatchObject({ branch: BRANCH, pullRequest: `${remote}#${BRANCH}`, report: reference });
    const recorded = JSON.parse(await readFile(join(workDir, 'publication', 'follow-up-reply.json'), 'utf8')) as { body: string };
    expect(recorded).toMatchObject({ kind: 'local-follow-up-reply', reference, branch: BRANCH, pushedCommits: 1 });
    expect(recorded.body.startsWith(`${MARKER}\nThe demo agent answered 2 review comment(s)`)).toBe(true);
    expect(recorded.body).not.toContain(WORKER_TOKEN);
    expect(github.apiCalls).toEqual([]);
  });
});
