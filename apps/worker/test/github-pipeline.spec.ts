import type { LoggerService } from '@nestjs/common';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { extractArchiveSafely, workerV1 } from '@agent-conductor/contracts';
import { runWorker } from '../src/bootstrap';
import type { WorkerConfig } from '../src/config/env.validators';
import { FakeConductor, writeTaskFiles } from './support/fake-conductor';
import { FakeGitHub, type FakeAnswer } from '@agent-conductor/testing';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir } from './support/isolation';

jest.setTimeout(60_000);

const DEMO_AGENT = resolve(__dirname, '../../../tools/demo-agent/demo-agent.sh');
const WORKER_ID = 'w-21';
const WORKER_TOKEN = 'tok_worker_0c1d2e3f4a5b6c7d8e9f';
const GITHUB_TOKEN = 'ghs_pipelineInstallationToken9876543210';
const BASIC = Buffer.from(`x-access-token:${GITHUB_TOKEN}`).toString('base64');
const HTML = 'https://github.com/acme/sample-app';
const TITLE = 'ABC-12: Fix order total rounding';
const BRANCH = `worker/${WORKER_ID}/agent/abc-12-fix-order-total-rounding`;
const TASK_MD = '# ABC-12: Fix order total rounding\n\n- **Type:** Bug\n\n## Description\n\nOrder totals are rounded per line instead of once.\n';

const repoAnswer: FakeAnswer = { status: 200, body: { default_branch: 'main', html_url: HTML } };

function allFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return allFiles(dir, path);
    return entry.isFile() ? [path] : [];
  });
}

const filesContaining = (dir: string, ...needles: string[]): string[] =>
  allFiles(dir).filter((file) => {
    const content = readFileSync(join(dir, file));
    return needles.some((needle) => content.includes(needle));
  });

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

describe('worker pipeline with PUBLISHER=github', () => {
  let root: string;
  let remote: string;
  let workDir: string;
  let github: FakeGitHub;
  let conductor: FakeConductor;
  let logs: CapturingLogger;
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    root = await agentReachableTempDir('github-pipeline-spec-');
    remote = createBareRemote(root);
    workDir = join(root, 'work');
    github = await new FakeGitHub({ gitRoot: root, pushToken: GITHUB_TOKEN }).start();
    const { taskDir, scratchDir } = await writeTaskFiles(root, { task: TASK_MD });
    conductor = await new FakeConductor({
      workerId: WORKER_ID,
      token: WORKER_TOKEN,
      taskDir,
      scratchDir,
      // The job's repository is served over HTTP, as GitHub would serve it: fetches are anonymous, pushes need the token.
      repository: { cloneUrl: github.cloneUrl('sample-app'), defaultBranch: 'main', sparsePaths: [], name: 'acme/sample-app' },
      heartbeatIntervalMs: 100,
    }).start();
    // As in a real worker before main() clears it: the agent is spawned from this process and must not inherit it.
    process.env['GITHUB_TOKEN'] = GITHUB_TOKEN;
    logs = new CapturingLogger();
  });

  afterEach(async () => {
    process.env = { ...savedEnv };
    await conductor.stop();
    await github.stop();
    await rm(root, { recursive: true, force: true });
  });

  function config(agentCommand: string): WorkerConfig {
    return {
      workerId: WORKER_ID,
      token: WORKER_TOKEN,
      conductorAddress: conductor.address,
      workDir,
      agentKind: 'command',
      agentCommand,
      maxAgentAttempts: 2,
      agentTimeoutMs: 30_000,
      publisher: 'github',
      github: { token: GITHUB_TOKEN, apiUrl: github.apiUrl, repository: 'acme/sample-app' },
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 10_000,
      agentIsolation: AGENT_ISOLATION,
    };
  }

  const demo = (behaviour: string): string => `DEMO_AGENT_BEHAVIOUR=${behaviour} sh '${DEMO_AGENT}'`;

  async function uploaded(): Promise<string> {
    if (!conductor.uploadPath) throw new Error('no upload was received');
    const dest = join(root, 'uploaded');
    await extractArchiveSafely(conductor.uploadPath, dest);
    return dest;
  }

  it('succeeds: pushes the branch over authenticated HTTP, opens the PR, and reports its URL; the token is nowhere', async () => {
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/pulls', () => ({ status: 201, body: { number: 42, html_url: `${HTML}/pull/42` } }));
    const agent = `env > agent-env.txt; ${demo('succeed')} && printf 'turn 1: wrote docs/tasks/ABC-12.md\\n' > agent-meta/transcript.md`;

    const outcome = await runWorker(config(agent), { logger: logs });

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    const report = await readFile(join(workDir, 'agent-meta', 'ending-report.md'), 'utf8');
    expect(conductor.shutdownRequest?.result).toEqual({ branch: BRANCH, pullRequest: `${HTML}/pull/42`, report: '', title: TITLE, summary: report.trim(), agentThreadId: '', changes: [] });
    const body = `${report.trimEnd()}\n\n<details><summary>Agent transcript</summary>\n\n\`\`\`text\nturn 1: wrote docs/tasks/ABC-12.md\n\`\`\`\n\n</details>\n`;
    expect(github.apiCalls).toEqual([
      { method: 'GET', path: '/repos/acme/sample-app', authorization: `token ${GITHUB_TOKEN}`, body: undefined },
      { method: 'POST', path: '/repos/acme/sample-app/pulls', authorization: `token ${GITHUB_TOKEN}`, body: { title: TITLE, head: BRANCH, base: 'main', body } },
    ]);
    expect(git(remote, ['log', '--format=%s', `refs/heads/${BRANCH}`]).trim().split('\n')).toEqual([TITLE, 'Initial sample app']);
    // Clone and push both sent the token, as a header on those git processes only (private repositories clone too).
    expect(github.gitCalls.some((call) => call.path.includes('upload-pack') && call.authorization === `Basic ${BASIC}`)).toBe(true);
    expect(github.gitCalls.some((call) => call.path.includes('receive-pack') && call.authorization === `Basic ${BASIC}`)).toBe(true);

    const agentEnv = await readFile(join(workDir, 'agent-env.txt'), 'utf8');
    expect(agentEnv).toContain('AGENT_PROMPT_FILE=');
    expect(agentEnv).not.toMatch(/GITHUB_TOKEN|GIT_CONFIG_|WORKER_TOKEN/);
    const results = await uploaded();
    expect(allFiles(results)).toEqual(expect.arrayContaining(['publication/pull-request.json', 'agent-meta/transcript.md']));
    expect(filesContaining(results, GITHUB_TOKEN, BASIC)).toEqual([]);
    expect(filesContaining(workDir, GITHUB_TOKEN, BASIC)).toEqual([]);
    expect(git(join(workDir, 'repo'), ['remote', '-v'])).toBe(`origin\t${github.cloneUrl('sample-app')} (fetch)\norigin\t${github.cloneUrl('sample-app')} (push)\n`);
    expect(logs.lines.some((line) => line.includes(`Opened pull request ${HTML}/pull/42`))).toBe(true);
    expect(logs.lines.join('\n')).not.toContain(GITHUB_TOKEN);
  });

  it('clones a private repository with the token, which stays out of the clone', async () => {
    github.privateRepositories = true;
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/pulls', () => ({ status: 201, body: { number: 43, html_url: `${HTML}/pull/43` } }));

    const outcome = await runWorker(config(demo('succeed')), { logger: logs });

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(git(remote, ['log', '--format=%s', `refs/heads/${BRANCH}`]).trim().split('\n')).toEqual([TITLE, 'Initial sample app']);
    expect(await readFile(join(workDir, 'repo', '.git', 'config'), 'utf8')).not.toMatch(new RegExp(`${GITHUB_TOKEN}|${BASIC}|extraHeader`, 'i'));
    expect(filesContaining(workDir, GITHUB_TOKEN, BASIC)).toEqual([]);
  });

  it('agent reports failure: opens an [agent-failed] issue and reports its URL', async () => {
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer);
    const issues = github.trackIssues('acme/sample-app');

    const outcome = await runWorker(config(demo('fail')), { logger: logs });

    expect(outcome.reported).toBe(true);
    expect(conductor.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor.shutdownRequest?.result).toMatchObject({ branch: '', pullRequest: '', report: `${HTML}/issues/1`, title: TITLE });
    expect(conductor.shutdownRequest?.result?.summary).toContain('DEMO_AGENT_BEHAVIOUR=fail');
    expect(github.apiCalls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /repos/acme/sample-app',
      'GET /repos/acme/sample-app/issues?state=open&sort=created&direction=desc&per_page=100',
      'POST /repos/acme/sample-app/issues',
    ]);
    expect(issues).toEqual([
      expect.objectContaining({ title: `[agent-failed] ${TITLE}`, body: expect.stringMatching(/DEMO_AGENT_BEHAVIOUR=fail[\s\S]*<!-- agent-conductor:agent-failed job=job-1 -->\n$/), labels: [] }),
    ]);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim()).toBe('refs/heads/main');
  });

  it('a retried job (a new worker for the same job) comments on the [agent-failed] issue of the first instead of opening a second', async () => {
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer);
    const issues = github.trackIssues('acme/sample-app');
    await runWorker(config(demo('fail')), { logger: logs });
    expect(issues).toHaveLength(1);

    const retryId = 'w-22';
    await mkdir(join(root, 'retry'));
    const { taskDir, scratchDir } = await writeTaskFiles(join(root, 'retry'), { task: TASK_MD });
    const retryConductor = await new FakeConductor({
      workerId: retryId,
      token: WORKER_TOKEN,
      taskDir,
      scratchDir,
      repository: { cloneUrl: github.cloneUrl('sample-app'), defaultBranch: 'main', sparsePaths: [], name: 'acme/sample-app' },
      heartbeatIntervalMs: 100,
    }).start();
    try {
      await runWorker({ ...config(demo('fail')), workerId: retryId, conductorAddress: retryConductor.address, workDir: join(root, 'retry-work') }, { logger: logs });
      expect(retryConductor.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(retryConductor.shutdownRequest?.result?.report).toBe(`${HTML}/issues/1`);
    } finally {
      await retryConductor.stop();
    }
    expect(issues).toHaveLength(1);
    expect(issues[0]?.comments).toEqual([expect.stringContaining('DEMO_AGENT_BEHAVIOUR=fail')]);
  });

  it('agent concludes with a report: no branch, one issue labelled incident-report, and the job succeeds with result.report', async () => {
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer);
    const issues = github.trackIssues('acme/sample-app');

    const outcome = await runWorker({ ...config(demo('report')), github: { token: GITHUB_TOKEN, apiUrl: github.apiUrl, repository: 'acme/sample-app', reportLabel: 'incident-report' } }, { logger: logs });

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(conductor.shutdownRequest).toMatchObject({ outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(conductor.shutdownRequest?.result).toMatchObject({ branch: '', pullRequest: '', report: `${HTML}/issues/1`, title: TITLE });
    expect(conductor.shutdownRequest?.result?.summary).toContain('DEMO_AGENT_BEHAVIOUR=report');
    expect(issues).toEqual([
      {
        number: 1,
        title: TITLE,
        body: expect.stringMatching(/^# Findings for ABC-12[\s\S]*<!-- agent-conductor:incident-report job=job-1 -->\n$/),
        labels: ['incident-report'],
        state: 'open',
        comments: [],
      },
    ]);
    expect(github.apiCalls.map((call) => `${call.method} ${call.path}`)).not.toContain('POST /repos/acme/sample-app/pulls');
    expect(github.gitCalls.filter((call) => call.path.includes('receive-pack'))).toEqual([]);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim()).toBe('refs/heads/main');
    const uploadedDir = await uploaded();
    expect(JSON.parse(await readFile(join(uploadedDir, 'publication', 'incident-report.json'), 'utf8'))).toMatchObject({ kind: 'github-incident-report', number: 1, label: 'incident-report' });
    expect(filesContaining(uploadedDir, GITHUB_TOKEN, BASIC)).toEqual([]);
  });

  it('a rejected token fails the job at stage "publish" with an error that names the token but does not contain it', async () => {
    github.on('GET', '/repos/acme/sample-app', () => ({ status: 401, body: { message: 'Bad credentials' } }));

    const outcome = await runWorker(config(demo('succeed')), { logger: logs });

    expect(outcome.reported).toBe(true);
    const error = 'publish failed: GitHub rejected GITHUB_TOKEN while reading repository acme/sample-app (401 Bad credentials): the token is malformed, expired or revoked';
    expect(conductor.shutdownRequest).toMatchObject({ outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, error });
    expect(conductor.agentErrors).toEqual([expect.objectContaining({ stage: 'publish', message: error })]);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim()).toBe('refs/heads/main');
    expect(logs.lines.join('\n')).not.toContain(GITHUB_TOKEN);
  });
});
