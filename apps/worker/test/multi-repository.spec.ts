import { NestFactory } from '@nestjs/core';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { workerV1 } from '@agent-conductor/contracts';
import { FakeGitHub, type FakePullRequest } from '@agent-conductor/testing';
import { ENDING_REPORT_PROMPT } from '../src/agent/codex-prompts';
import { runWorker } from '../src/bootstrap';
import type { WorkerConfig } from '../src/config/env.validators';
import { MultiRepositoryPublisher, relatedSection } from '../src/multi-repo/multi-repository-publisher';
import { WorkerModule } from '../src/worker.module';
import { FakeConductor, writeTaskFiles } from './support/fake-conductor';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir } from './support/isolation';

jest.setTimeout(90_000);

const WORKER_ID = 'w-31';
const WORKER_TOKEN = 'tok_worker_31a2b3c4d5e6f708192a';
const GITHUB_TOKEN = 'ghs_multiRepositoryToken0123456789';
const TITLE = 'Fix the checkout incident';
const PUSHED = `worker/${WORKER_ID}/fix/incident`;
const DEMO_AGENT = resolve(__dirname, '../../../tools/demo-agent/demo-agent.sh');

/**
 * A stand-in agent over several repositories: commits on fix/incident in each repository named in MULTI_CHANGE and
 * names them in agent-meta/branches.json (or writes MULTI_BRANCHES_JSON there instead).
 */
const AGENT = `set -eu
mkdir -p agent-meta
printf '%s\\n' '${TITLE}' > agent-meta/meta-info.txt
json='{'; sep=''
for name in \${MULTI_CHANGE:-}; do
  (cd "repo/$name" && git checkout -q -b fix/incident && printf 'fixed %s\\n' "$name" > FIX.md && git add FIX.md && git commit -qm "Fix $name")
  json="$json$sep\\"$name\\": \\"fix/incident\\""; sep=', '
done
json="$json}"
printf '%s\\n' "\${MULTI_BRANCHES_JSON:-$json}" > agent-meta/branches.json
printf 'true\\n' > agent-meta/WAS_JOB_SUCCESSFUL
printf '# Fixed the checkout incident\\n\\nChanged: %s\\n' "\${MULTI_CHANGE:-}" > agent-meta/ending-report.md
`;

describe('the Codex ending-report prompt', () => {
  it('asks for the branches file of a job over several repositories, which it otherwise forbids', () => {
    expect(ENDING_REPORT_PROMPT).toContain('write agent-meta/branches.json as AGENTS.md describes');
    expect(ENDING_REPORT_PROMPT).toContain('(agent-meta/branches.json aside, when AGENTS.md asks for it)');
  });
});

describe('a job over several repositories', () => {
  let root: string;
  let workDir: string;
  let conductor: FakeConductor | undefined;
  let github: FakeGitHub | undefined;
  let agentScript: string;

  beforeEach(async () => {
    root = await agentReachableTempDir('multi-repository-spec-');
    workDir = join(root, 'work');
    agentScript = join(root, 'agent.sh');
    await writeFile(agentScript, AGENT, { mode: 0o755 });
  });

  afterEach(async () => {
    await conductor?.stop();
    await github?.stop();
    conductor = undefined;
    github = undefined;
    await rm(root, { recursive: true, force: true });
  });

  async function startConductor(repositories: workerV1.RepositorySpec[], followUp?: workerV1.FollowUp): Promise<FakeConductor> {
    const { taskDir, scratchDir } = await writeTaskFiles(root, { task: '# Checkout errors\n' });
    const [primary] = repositories;
    if (!primary) throw new Error('no repositories');
    conductor = await new FakeConductor({ workerId: WORKER_ID, token: WORKER_TOKEN, taskDir, scratchDir, repository: primary, repositories, heartbeatIntervalMs: 100, followUp }).start();
    return conductor;
  }

  function config(running: FakeConductor, agentEnv: string, publisher: 'local' | 'github' = 'local'): WorkerConfig {
    return {
      workerId: WORKER_ID,
      token: WORKER_TOKEN,
      conductorAddress: running.address,
      workDir,
      agentKind: 'command',
      agentCommand: `${agentEnv} sh '${agentScript}'`,
      maxAgentAttempts: 1,
      agentTimeoutMs: 30_000,
      publisher,
      ...(publisher === 'github' && github ? { github: { token: GITHUB_TOKEN, apiUrl: github.apiUrl, repository: undefined } } : {}),
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 10_000,
      agentIsolation: AGENT_ISOLATION,
    };
  }

  const log = (remote: string, ref: string): string[] => git(remote, ['log', '--format=%s', ref]).trim().split('\n');
  const branches = (remote: string): string[] => git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim().split('\n');

  describe('with the local publisher', () => {
    let orders: string;
    let billing: string;
    let repositories: workerV1.RepositorySpec[];

    beforeEach(() => {
      orders = createBareRemote(join(root, 'remotes'), 'orders');
      billing = createBareRemote(join(root, 'remotes'), 'billing');
      repositories = [
        { cloneUrl: orders, defaultBranch: 'main', sparsePaths: [], name: 'orders' },
        { cloneUrl: billing, defaultBranch: 'main', sparsePaths: ['src'], name: 'billing' },
      ];
    });

    it('clones each under repo/<name>/, pushes both changes and records two pull requests that link each other', async () => {
      const running = await startConductor(repositories);
      const outcome = await runWorker(config(running, "MULTI_CHANGE='orders billing'"), { logger: false });

      expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
      // Each repository is its own clone of its own remote; the sparse one checked out only its paths.
      expect(git(join(workDir, 'repo', 'orders'), ['remote', 'get-url', 'origin']).trim()).toBe(orders);
      expect(git(join(workDir, 'repo', 'billing'), ['sparse-checkout', 'list']).trim()).toBe('src');
      expect(log(orders, `refs/heads/${PUSHED}`)).toEqual(['Fix orders', 'Initial sample app']);
      expect(log(billing, `refs/heads/${PUSHED}`)).toEqual(['Fix billing', 'Initial sample app']);

      const ordersPull = `${orders}#${PUSHED}`;
      const billingPull = `${billing}#${PUSHED}`;
      expect(running.shutdownRequest?.result).toMatchObject({
        branch: PUSHED,
        pullRequest: ordersPull,
        title: TITLE,
        changes: [
          { name: 'orders', branch: PUSHED, pullRequest: ordersPull },
          { name: 'billing', branch: PUSHED, pullRequest: billingPull },
        ],
      });
      const record = JSON.parse(await readFile(join(workDir, 'publication', 'pull-requests', 'billing.json'), 'utf8')) as { body: string; related: unknown };
      expect(record.related).toEqual([{ name: 'orders', url: ordersPull }]);
      expect(record.body).toContain(relatedSection([{ name: 'orders', url: ordersPull }]));
    });

    it('the demo agent (npm run dev) changes every repository of the job', async () => {
      const running = await startConductor(repositories);
      const outcome = await runWorker({ ...config(running, ''), agentCommand: `sh '${DEMO_AGENT}'` }, { logger: false });

      expect(outcome).toMatchObject({ outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
      const demoBranch = `worker/${WORKER_ID}/agent/checkout-errors`;
      expect(running.shutdownRequest?.result?.changes?.map((change) => [change.name, change.branch])).toEqual([
        ['orders', demoBranch],
        ['billing', demoBranch],
      ]);
      expect(log(billing, `refs/heads/${demoBranch}`)).toHaveLength(2);
    });

    it('publishes only the repository the agent changed', async () => {
      const running = await startConductor(repositories);
      const outcome = await runWorker(config(running, "MULTI_CHANGE='billing'"), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
      expect(running.shutdownRequest?.result?.changes).toEqual([{ name: 'billing', branch: PUSHED, pullRequest: `${billing}#${PUSHED}` }]);
      expect(running.shutdownRequest?.result?.branch).toBe(PUSHED);
      expect(branches(orders)).toEqual(['refs/heads/main']);
    });

    it('fails validation naming the repository when agent-meta/branches.json names the wrong branch, and pushes nothing', async () => {
      const running = await startConductor(repositories);
      const badFile = `MULTI_CHANGE='orders billing' MULTI_BRANCHES_JSON='{"orders": "fix/incident", "billing": "fix/other", "payments": "x"}'`;
      const outcome = await runWorker(config(running, badFile), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(outcome.error).toContain('agent-meta/branches.json names "payments", which is not one of this job\'s repositories (orders, billing)');
      expect(outcome.error).toContain('repo/billing/ is on "fix/incident", but agent-meta/branches.json names "fix/other" for it');
      expect(branches(orders)).toEqual(['refs/heads/main']);
      expect(branches(billing)).toEqual(['refs/heads/main']);
    });

    it('refuses a repository directory the agent replaced with a symlink to another repository', async () => {
      const running = await startConductor(repositories);
      // The agent swaps repo/billing for a link to a clone it made elsewhere, which the worker must not push from.
      const swap = `MULTI_CHANGE='orders billing'; export MULTI_CHANGE; sh '${agentScript}' && mv repo/billing billing-elsewhere && ln -s ../billing-elsewhere repo/billing`;
      const outcome = await runWorker({ ...config(running, ''), agentCommand: swap }, { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(outcome.error).toContain('repo/billing/ must be the directory the worker cloned, not a symlink or a file');
      expect(branches(billing)).toEqual(['refs/heads/main']);
    });

    it('refuses a follow-up over several repositories before cloning: a follow-up continues one pull request', async () => {
      const running = await startConductor(repositories, { headBranch: 'worker/w-1/fix/incident', pullRequest: `${orders}#worker/w-1/fix/incident`, resumeThreadId: '' });
      const outcome = await runWorker(config(running, "MULTI_CHANGE='orders'"), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(outcome.error).toBe('clone failed: a follow-up job over several repositories is not supported: a follow-up continues one pull request');
      expect(branches(orders)).toEqual(['refs/heads/main']);
    });

    it('refuses a change with commits left in a repository the branches file leaves out', async () => {
      const running = await startConductor(repositories);
      const outcome = await runWorker(config(running, `MULTI_CHANGE='orders billing' MULTI_BRANCHES_JSON='{"orders": "fix/incident"}'`), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(outcome.error).toContain('repo/billing/ has 1 commit(s) ahead of origin/main on "fix/incident", but agent-meta/branches.json does not list "billing"');
      expect(branches(orders)).toEqual(['refs/heads/main']);
    });
  });

  describe('with the GitHub publisher', () => {
    let pulls: Record<'orders' | 'billing', FakePullRequest[]>;
    let repositories: workerV1.RepositorySpec[];

    beforeEach(async () => {
      const gitRoot = join(root, 'github');
      createBareRemote(join(gitRoot, 'acme'), 'orders');
      createBareRemote(join(gitRoot, 'acme'), 'billing');
      github = await new FakeGitHub({ gitRoot, pushToken: GITHUB_TOKEN }).start();
      for (const name of ['orders', 'billing']) github.on('GET', `/repos/acme/${name}`, () => ({ status: 200, body: { default_branch: 'main', html_url: `https://github.com/acme/${name}` } }));
      pulls = { orders: github.trackPullRequests('acme/orders'), billing: github.trackPullRequests('acme/billing') };
      repositories = ['orders', 'billing'].map((name) => ({ cloneUrl: github?.cloneUrl(`acme/${name}`) ?? '', defaultBranch: 'main', sparsePaths: [], name }));
    });

    it('opens one pull request per changed repository, each body listing the other, and reports both', async () => {
      const running = await startConductor(repositories);
      const outcome = await runWorker(config(running, "MULTI_CHANGE='orders billing'", 'github'), { logger: false });

      expect(outcome).toMatchObject({ outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
      const ordersUrl = 'https://github.com/acme/orders/pull/1';
      const billingUrl = 'https://github.com/acme/billing/pull/1';
      expect(pulls.orders).toEqual([expect.objectContaining({ number: 1, title: TITLE, headRef: PUSHED, state: 'open' })]);
      expect(pulls.billing).toEqual([expect.objectContaining({ number: 1, title: TITLE, headRef: PUSHED, state: 'open' })]);
      expect(pulls.orders[0]?.body).toContain(`# Fixed the checkout incident`);
      expect(pulls.orders[0]?.body).toContain(relatedSection([{ name: 'billing', url: billingUrl }]));
      expect(pulls.billing[0]?.body).toContain(relatedSection([{ name: 'orders', url: ordersUrl }]));
      expect(running.shutdownRequest?.result).toMatchObject({
        branch: PUSHED,
        pullRequest: ordersUrl,
        changes: [
          { name: 'orders', branch: PUSHED, pullRequest: ordersUrl },
          { name: 'billing', branch: PUSHED, pullRequest: billingUrl },
        ],
      });
      // The bodies were edited once all pull requests were open.
      expect(github?.apiCalls.filter((call) => call.method === 'PATCH').map((call) => call.path)).toEqual(['/repos/acme/orders/pulls/1', '/repos/acme/billing/pulls/1']);
      expect(JSON.stringify(pulls)).not.toContain(GITHUB_TOKEN);
    });

    it('asks GitHub for every changed repository before pushing any: a missing one fails the publish with nothing pushed', async () => {
      github?.on('GET', '/repos/acme/billing', () => ({ status: 404, body: { message: 'Not Found' } }));
      const running = await startConductor(repositories);
      const outcome = await runWorker(config(running, "MULTI_CHANGE='orders billing'", 'github'), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(outcome.error).toMatch(/^publish failed: GitHub answered 404 while reading repository acme\/billing/);
      expect(github?.gitCalls.some((call) => call.path.includes('receive-pack'))).toBe(false);
      expect([...pulls.orders, ...pulls.billing]).toEqual([]);
    });

    it('names the repository whose clone failed', async () => {
      const broken = [...repositories, { cloneUrl: github?.cloneUrl('acme/missing') ?? '', defaultBranch: 'main', sparsePaths: [], name: 'missing' }];
      const running = await startConductor(broken);
      const outcome = await runWorker(config(running, "MULTI_CHANGE='orders'", 'github'), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(outcome.error).toMatch(/^clone failed: cloning repo\/missing\/ failed: /);
    });

    it('opens one pull request, unlinked, when the agent changed one repository', async () => {
      const running = await startConductor(repositories);
      const outcome = await runWorker(config(running, "MULTI_CHANGE='orders'", 'github'), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
      expect(pulls.orders).toHaveLength(1);
      expect(pulls.billing).toEqual([]);
      expect(pulls.orders[0]?.body).not.toContain('other pull requests');
      expect(running.shutdownRequest?.result?.changes).toEqual([{ name: 'orders', branch: PUSHED, pullRequest: 'https://github.com/acme/orders/pull/1' }]);
    });

    it('a retried publish finds the pull requests it opened: no duplicate, the same links', async () => {
      const running = await startConductor(repositories);
      const workerConfig = config(running, "MULTI_CHANGE='orders billing'", 'github');
      await runWorker(workerConfig, { logger: false });
      const bodies = [pulls.orders[0]?.body, pulls.billing[0]?.body];
      const opened = github?.apiCalls.filter((call) => call.method === 'POST').length;

      const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(workerConfig), { logger: false });
      try {
        const result = await app
          .get(MultiRepositoryPublisher)
          .publish({ workDir, jobId: 'job-1', repositories, outcome: 'change', title: TITLE, report: await readFile(join(workDir, 'agent-meta', 'ending-report.md'), 'utf8') });
        expect(result.changes?.map((change) => change.pullRequest)).toEqual(['https://github.com/acme/orders/pull/1', 'https://github.com/acme/billing/pull/1']);
      } finally {
        await app.close();
      }
      expect(pulls.orders).toHaveLength(1);
      expect(pulls.billing).toHaveLength(1);
      expect(github?.apiCalls.filter((call) => call.method === 'POST').length).toBe(opened);
      expect([pulls.orders[0]?.body, pulls.billing[0]?.body]).toEqual(bodies);
    });
  });
});
