import { Logger, type LoggerService } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FileSystem } from '../src/fs/file-system';
import { GitCli } from '../src/git/git-cli';
import { GitHubPublisher, issueMarker, resolveGitHubRepository } from '../src/publish/github-publisher';
import type { PublishRequest } from '../src/publish/publisher';
import { FakeGitHub, type FakeAnswer } from '@agent-conductor/testing';
import { createBareRemote, git } from './support/git-fixtures';
import { agentReachableTempDir, testSandbox } from './support/isolation';

jest.setTimeout(30_000);

const TOKEN = 'ghs_fakeInstallationToken0123456789abcdef';
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const WORKER_ID = 'w-9';
const BRANCH = 'agent/abc-12-fix-rounding';
const PUSHED = `worker/${WORKER_ID}/${BRANCH}`;
const TITLE = 'ABC-12: Fix order total rounding';
const REPORT = '# Done\n\nRounded once per order instead of per line.\n';
const HTML = 'https://github.com/acme/sample-app';
const JOB_ID = 'cjob0000000000000000000042';
const FAILED_MARKER = `<!-- agent-conductor:agent-failed job=${JOB_ID} -->`;
const LIST_OPEN_ISSUES = '/repos/acme/sample-app/issues?state=open&sort=created&direction=desc&per_page=100';

const repoAnswer: FakeAnswer = { status: 200, body: { id: 1, full_name: 'acme/sample-app', default_branch: 'main', html_url: HTML } };
const created = (kind: 'pull' | 'issues', number: number): FakeAnswer => ({ status: 201, body: { number, html_url: `${HTML}/${kind}/${number}` } });

/** Every file below dir, .git internals included, as paths relative to dir. */
function allFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return allFiles(dir, path);
    return entry.isFile() ? [path] : [];
  });
}

function filesContaining(dir: string, ...needles: string[]): string[] {
  return allFiles(dir).filter((file) => {
    const content = readFileSync(join(dir, file));
    return needles.some((needle) => content.includes(needle));
  });
}

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

describe('GitHubPublisher against a fake GitHub (REST + smart HTTP git)', () => {
  let root: string;
  let remote: string;
  let workDir: string;
  let repoDir: string;
  let github: FakeGitHub;
  let logs: CapturingLogger;

  beforeEach(async () => {
    root = await agentReachableTempDir('github-publisher-spec-');
    remote = createBareRemote(root);
    github = await new FakeGitHub({ gitRoot: root, pushToken: TOKEN }).start();
    workDir = join(root, 'work');
    repoDir = join(workDir, 'repo');
    await mkdir(join(workDir, 'agent-meta'), { recursive: true });
    // Not execFileSync: the fake git server answers from this very event loop.
    await promisify(execFile)('git', ['clone', '--quiet', github.cloneUrl('sample-app'), 'repo'], { cwd: workDir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    github.gitCalls.length = 0;
    logs = new CapturingLogger();
    Logger.overrideLogger(logs);
  });

  afterEach(async () => {
    Logger.overrideLogger(false);
    await github.stop();
    await rm(root, { recursive: true, force: true });
  });

  function commitOnBranch(): string {
    git(repoDir, ['checkout', '--quiet', '-b', BRANCH]);
    writeFileSync(join(repoDir, 'src', 'orders.ts'), 'export const orderTotal = (p: number[]) => Math.round(p.reduce((a, b) => a + b, 0));\n');
    git(repoDir, ['-c', 'user.name=Agent', '-c', 'user.email=agent@example.invalid', 'commit', '--quiet', '-am', TITLE]);
    return git(repoDir, ['rev-parse', 'HEAD']).trim();
  }

  function publisher(overrides: { token?: string; bodyLimit?: number; repository?: string | undefined; reportLabel?: string } = {}): GitHubPublisher {
    return new GitHubPublisher(new GitCli(testSandbox()), new FileSystem(), {
      token: overrides.token ?? TOKEN,
      apiUrl: github.apiUrl,
      repository: 'repository' in overrides ? overrides.repository : 'acme/sample-app',
      retryDelayMs: 20,
      ...(overrides.bodyLimit ? { bodyLimit: overrides.bodyLimit } : {}),
      ...(overrides.reportLabel ? { reportLabel: overrides.reportLabel } : {}),
    });
  }

  function request(overrides: Partial<PublishRequest> = {}): PublishRequest {
    return {
      workDir,
      repoDir,
      workerId: WORKER_ID,
      jobId: JOB_ID,
      repository: { cloneUrl: github.cloneUrl('sample-app'), defaultBranch: 'main', name: 'acme/sample-app' },
      outcome: 'change',
      title: TITLE,
      report: REPORT,
      branch: BRANCH,
      commitsAhead: 1,
      ...overrides,
    };
  }

  const remoteBranches = (): string[] => git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim().split('\n');

  function expectTokenNowhere(): void {
    expect(filesContaining(workDir, TOKEN, BASIC)).toEqual([]);
    expect(filesContaining(remote, TOKEN, BASIC)).toEqual([]);
    expect(git(repoDir, ['remote', '-v'])).not.toContain(TOKEN);
    expect(git(repoDir, ['config', '--list', '--show-origin'])).not.toMatch(new RegExp(`${TOKEN}|${BASIC}|extraheader`, 'i'));
    expect(logs.lines.join('\n')).not.toContain(TOKEN);
    expect(logs.lines.join('\n')).not.toContain(BASIC);
  }

  it('leaves a symlinked transcript out of the body instead of publishing what it points at', async () => {
    commitOnBranch();
    const secret = join(root, 'secret.txt');
    await writeFile(secret, 'the-secret-behind-the-link\n', { mode: 0o600 });
    await symlink(secret, join(workDir, 'agent-meta', 'transcript.md'));
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/pulls', () => created('pull', 21));

    const result = await publisher().publish(request());

    expect(result.pullRequest).toBe(`${HTML}/pull/21`);
    const pull = github.apiCalls.find((call) => call.method === 'POST');
    expect(pull?.body).toMatchObject({ body: '# Done\n\nRounded once per order instead of per line.' });
    expect(logs.lines.join('\n')).toContain('Leaving the transcript out of the body: agent-meta/transcript.md is a symbolic link');
  });

  it('pushes worker/<id>/<branch> with the token in a header and opens a PR whose body is the report plus the transcript', async () => {
    const head = commitOnBranch();
    const transcript = '## Turn 1\n\nran `npm test`\n```\nPASS src/orders.spec.ts\n```\n';
    await writeFile(join(workDir, 'agent-meta', 'transcript.md'), transcript);
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/pulls', () => created('pull', 17));

    const result = await publisher().publish(request());

    expect(result).toEqual({ branch: PUSHED, pullRequest: `${HTML}/pull/17`, title: TITLE });
    const body = [
      '# Done\n\nRounded once per order instead of per line.',
      '',
      '<details><summary>Agent transcript</summary>',
      '',
      '````text',
      '## Turn 1\n\nran `npm test`\n```\nPASS src/orders.spec.ts\n```',
      '````',
      '',
      '</details>',
      '',
    ].join('\n');
    expect(github.apiCalls).toEqual([
      { method: 'GET', path: '/repos/acme/sample-app', authorization: `token ${TOKEN}`, body: undefined },
      { method: 'POST', path: '/repos/acme/sample-app/pulls', authorization: `token ${TOKEN}`, body: { title: TITLE, head: PUSHED, base: 'main', body } },
    ]);
    // The remote got exactly the agent's commit, over authenticated smart HTTP.
    expect(git(remote, ['rev-parse', `refs/heads/${PUSHED}`]).trim()).toBe(head);
    const pushCalls = github.gitCalls.filter((call) => call.path.includes('receive-pack'));
    expect(pushCalls.length).toBeGreaterThan(0);
    expect(pushCalls.every((call) => call.authorization === `Basic ${BASIC}`)).toBe(true);

    const record = JSON.parse(await readFile(join(workDir, 'publication', 'pull-request.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({
      kind: 'github-pull-request',
      url: `${HTML}/pull/17`,
      number: 17,
      created: true,
      repository: 'acme/sample-app',
      title: TITLE,
      head: PUSHED,
      base: 'main',
      bodyTruncated: 'nothing',
    });
    expectTokenNowhere();
  });

  it('targets the default branch GitHub reports and sends no transcript block when there is none', async () => {
    commitOnBranch();
    github
      .on('GET', '/repos/acme/sample-app', () => ({ status: 200, body: { default_branch: 'trunk', html_url: HTML } }))
      .on('POST', '/repos/acme/sample-app/pulls', () => created('pull', 3));

    await publisher().publish(request());

    expect(github.apiCalls[1]?.body).toEqual({ title: TITLE, head: PUSHED, base: 'trunk', body: REPORT.trimEnd() });
  });

  it('truncates a huge transcript to the body limit without splitting characters, and still closes the block', async () => {
    commitOnBranch();
    // Astral characters (two UTF-16 units each) at every odd offset make any naive cut split a pair.
    const transcript = `START\n${'a😀'.repeat(60_000)}\nEND\n`;
    await writeFile(join(workDir, 'agent-meta', 'transcript.md'), transcript);
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/pulls', () => created('pull', 18));

    await publisher().publish(request());

    const sent = (github.apiCalls[1]?.body as { body: string }).body;
    expect(sent.length).toBeLessThanOrEqual(65_536);
    expect(sent.length).toBeGreaterThan(60_000);
    expect(Buffer.from(sent, 'utf8').toString('utf8')).toBe(sent);
    expect(sent.startsWith(REPORT.trimEnd())).toBe(true);
    expect(sent).toContain('START\n');
    expect(sent).toContain('\nEND\n```\n\n</details>\n');
    expect(sent).toMatch(/The transcript is cut to fit GitHub's 65536-character limit \(\d+ characters omitted\)/);
    const record = JSON.parse(await readFile(join(workDir, 'publication', 'pull-request.json'), 'utf8')) as Record<string, unknown>;
    expect(record['bodyTruncated']).toBe('transcript');
  });

  it('finds the open PR when one already exists for the head (422), so a retried worker succeeds', async () => {
    commitOnBranch();
    const existingQuery = `/repos/acme/sample-app/pulls?head=${encodeURIComponent(`acme:${PUSHED}`)}&state=open`;
    github
      .on('GET', '/repos/acme/sample-app', () => repoAnswer)
      .on('POST', '/repos/acme/sample-app/pulls', () => ({
        status: 422,
        body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for acme:${PUSHED}.` }] },
      }))
      .on('GET', existingQuery, () => ({ status: 200, body: [{ number: 11, html_url: `${HTML}/pull/11` }] }));

    const result = await publisher().publish(request());

    expect(result.pullRequest).toBe(`${HTML}/pull/11`);
    expect(github.apiCalls.map((call) => `${call.method} ${call.path}`)).toEqual(['GET /repos/acme/sample-app', 'POST /repos/acme/sample-app/pulls', `GET ${existingQuery}`]);
    const record = JSON.parse(await readFile(join(workDir, 'publication', 'pull-request.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ number: 11, created: false });
  });

  it('a 422 without an existing PR is an error naming GitHub\'s reason', async () => {
    commitOnBranch();
    github
      .on('GET', '/repos/acme/sample-app', () => repoAnswer)
      .on('POST', '/repos/acme/sample-app/pulls', () => ({ status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: 'No commits between main and x' }] } }))
      .on('GET', `/repos/acme/sample-app/pulls?head=${encodeURIComponent(`acme:${PUSHED}`)}&state=open`, () => ({ status: 200, body: [] }));

    await expect(publisher().publish(request())).rejects.toThrow(`GitHub answered 422 Validation Failed while opening a pull request from ${PUSHED} in acme/sample-app: No commits between main and x`);
  });

  it('agent failure with commits: pushes the branch and opens an [agent-failed] issue linking it', async () => {
    const head = commitOnBranch();
    await writeFile(join(workDir, 'agent-meta', 'transcript.md'), 'tried things\n');
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/issues', () => created('issues', 5));
    github.trackIssues('acme/sample-app');
    const report = 'Could not reproduce the rounding bug.\n';

    const result = await publisher().publish(request({ outcome: 'failed', report }));

    expect(result).toEqual({ report: `${HTML}/issues/5`, title: TITLE, branch: PUSHED });
    const body = [
      'Could not reproduce the rounding bug.',
      '',
      `Branch with the agent's commits: [\`${PUSHED}\`](${HTML}/tree/worker/${WORKER_ID}/agent/abc-12-fix-rounding)`,
      '',
      '<details><summary>Agent transcript</summary>',
      '',
      '```text',
      'tried things',
      '```',
      '',
      '</details>',
      '',
      '',
      FAILED_MARKER,
      '',
    ].join('\n');
    expect(github.apiCalls).toEqual([
      { method: 'GET', path: '/repos/acme/sample-app', authorization: `token ${TOKEN}`, body: undefined },
      { method: 'GET', path: LIST_OPEN_ISSUES, authorization: `token ${TOKEN}`, body: undefined },
      { method: 'POST', path: '/repos/acme/sample-app/issues', authorization: `token ${TOKEN}`, body: { title: `[agent-failed] ${TITLE}`, body } },
    ]);
    expect(git(remote, ['rev-parse', `refs/heads/${PUSHED}`]).trim()).toBe(head);
    const record = JSON.parse(await readFile(join(workDir, 'publication', 'failure-report.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({ kind: 'github-issue', url: `${HTML}/issues/5`, number: 5, created: true, repository: 'acme/sample-app', title: `[agent-failed] ${TITLE}`, branch: PUSHED, bodyTruncated: 'nothing' });
    expectTokenNowhere();
  });

  it('agent failure without commits: pushes nothing and opens the issue with the report only', async () => {
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/issues', () => created('issues', 6));
    github.trackIssues('acme/sample-app');

    const result = await publisher().publish(request({ outcome: 'failed', branch: undefined, commitsAhead: 0, report: 'Blocked.\n' }));

    expect(result).toEqual({ report: `${HTML}/issues/6`, title: TITLE });
    expect(github.apiCalls[2]?.body).toEqual({ title: `[agent-failed] ${TITLE}`, body: `Blocked.\n\n${FAILED_MARKER}\n` });
    expect(github.gitCalls).toEqual([]);
    expect(remoteBranches()).toEqual(['refs/heads/main']);
  });

  it('a retried failure finds the [agent-failed] issue of its earlier attempt by the marker and comments on it', async () => {
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer);
    const issues = github.trackIssues('acme/sample-app');
    // Other open issues, one of them another job's failure, must not be taken for this job's.
    issues.push(
      { number: 3, title: `[agent-failed] ${TITLE}`, body: `Blocked.\n\n${issueMarker('agent-failed', 'cjob-another-job')}\n`, labels: [], state: 'open', comments: [] },
      { number: 4, title: 'Unrelated', body: 'Mentions agent-conductor but carries no marker.', labels: [], state: 'open', comments: [] },
    );

    const first = await publisher().publish(request({ outcome: 'failed', branch: undefined, commitsAhead: 0, report: 'Blocked on attempt 1.\n' }));
    const second = await publisher().publish(request({ outcome: 'failed', branch: undefined, commitsAhead: 0, report: 'Blocked on attempt 2.\n' }));

    expect(first).toEqual({ report: `https://github.com/acme/sample-app/issues/5`, title: TITLE });
    expect(second).toEqual(first);
    expect(issues.map((issue) => issue.number)).toEqual([3, 4, 5]);
    expect(issues[2]).toMatchObject({ title: `[agent-failed] ${TITLE}`, body: `Blocked on attempt 1.\n\n${FAILED_MARKER}\n`, comments: ['Blocked on attempt 2.'] });
    expect(issues[0]?.comments).toEqual([]);
    const record = JSON.parse(await readFile(join(workDir, 'publication', 'failure-report.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ url: `https://github.com/acme/sample-app/issues/5`, number: 5, created: false });
  });

  it('report outcome: pushes nothing and opens one labelled issue per job, with the ending report', async () => {
    commitOnBranch();
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer);
    const issues = github.trackIssues('acme/sample-app');
    const report = '# No change needed\n\nThe alarm fired during the planned failover; error rates are back to normal.\n';
    const reportPublisher = publisher({ reportLabel: 'ops-report' });

    const result = await reportPublisher.publish(request({ outcome: 'report', report, title: 'Checkout 5xx alarm: failover, no fix needed' }));
    const again = await reportPublisher.publish(request({ outcome: 'report', report: 'Still no change needed.\n', title: 'Checkout 5xx alarm: failover, no fix needed' }));

    expect(result).toEqual({ report: 'https://github.com/acme/sample-app/issues/1', title: 'Checkout 5xx alarm: failover, no fix needed' });
    expect(again).toEqual(result);
    expect(issues).toEqual([
      {
        number: 1,
        title: 'Checkout 5xx alarm: failover, no fix needed',
        body: `${report.trimEnd()}\n\n${issueMarker('incident-report', JOB_ID)}\n`,
        labels: ['ops-report'],
        state: 'open',
        comments: ['Still no change needed.'],
      },
    ]);
    expect(github.apiCalls.filter((call) => call.method === 'GET' && call.path.includes('/issues?')).map((call) => call.path)).toEqual([
      '/repos/acme/sample-app/issues?state=open&sort=created&direction=desc&per_page=100&labels=ops-report',
      '/repos/acme/sample-app/issues?state=open&sort=created&direction=desc&per_page=100&labels=ops-report',
    ]);
    expect(github.gitCalls).toEqual([]);
    expect(remoteBranches()).toEqual(['refs/heads/main']);
    const record = JSON.parse(await readFile(join(workDir, 'publication', 'incident-report.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({
      kind: 'github-incident-report',
      url: 'https://github.com/acme/sample-app/issues/1',
      number: 1,
      created: false,
      repository: 'acme/sample-app',
      title: 'Checkout 5xx alarm: failover, no fix needed',
      label: 'ops-report',
      bodyTruncated: 'nothing',
    });
    expectTokenNowhere();
  });

  it('401: fails before pushing, with an error about the token that does not contain it', async () => {
    commitOnBranch();
    github.on('GET', '/repos/acme/sample-app', () => ({ status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } }));

    const error = await publisher().publish(request()).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );

    expect(error?.message).toBe('GitHub rejected GITHUB_TOKEN while reading repository acme/sample-app (401 Bad credentials): the token is malformed, expired or revoked');
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(String(error?.stack)).not.toContain(TOKEN);
    expect(github.apiCalls).toHaveLength(1);
    expect(github.gitCalls).toEqual([]);
    expect(remoteBranches()).toEqual(['refs/heads/main']);
    expectTokenNowhere();
  });

  it('403 names the permissions the token needs; 404 says the repository is missing or hidden', async () => {
    commitOnBranch();
    github.on('GET', '/repos/acme/sample-app', () => ({ status: 403, body: { message: 'Resource not accessible by integration' } }));
    await expect(publisher().publish(request())).rejects.toThrow(
      'GitHub refused reading repository acme/sample-app (403 Resource not accessible by integration): GITHUB_TOKEN lacks a permission on acme/sample-app; a fine-grained or installation token needs Contents: read and write, Pull requests: read and write, Issues: read and write',
    );
    github.on('GET', '/repos/acme/sample-app', () => ({ status: 404, body: { message: 'Not Found' } }));
    await expect(publisher().publish(request())).rejects.toThrow('GitHub answered 404 while reading repository acme/sample-app: acme/sample-app does not exist, or GITHUB_TOKEN has no access to it');
  });

  it('an answer that echoes the token back does not carry it into the error', async () => {
    commitOnBranch();
    github
      .on('GET', '/repos/acme/sample-app', () => repoAnswer)
      .on('POST', '/repos/acme/sample-app/pulls', (call) => ({ status: 400, body: { message: `Problems parsing request with ${call.authorization ?? ''}` } }));

    await expect(publisher().publish(request())).rejects.toThrow(`GitHub answered 400 Problems parsing request with token [REDACTED] while opening a pull request from ${PUSHED} in acme/sample-app`);
  });

  it('a rate-limited 403 says so, with the reset time, and is not retried', async () => {
    commitOnBranch();
    github.on('GET', '/repos/acme/sample-app', () => ({
      status: 403,
      body: { message: 'API rate limit exceeded for installation ID 1.' },
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1893456000' },
    }));
    await expect(publisher().publish(request())).rejects.toThrow(
      'GitHub rate limit exceeded while reading repository acme/sample-app (403 API rate limit exceeded for installation ID 1.); the limit resets at 2030-01-01T00:00:00.000Z',
    );
    expect(github.apiCalls).toHaveLength(1);
  });

  it('retries a 5xx once, then gives up with the stage-worthy error', async () => {
    commitOnBranch();
    github
      .on('GET', '/repos/acme/sample-app', () => ({ status: 502, body: { message: 'Bad Gateway' } }), () => repoAnswer)
      .on('POST', '/repos/acme/sample-app/pulls', () => ({ status: 503, body: { message: 'Unavailable' } }));

    await expect(publisher().publish(request())).rejects.toThrow(`GitHub failed opening a pull request from ${PUSHED} in acme/sample-app twice (503 Unavailable)`);
    expect(github.apiCalls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /repos/acme/sample-app',
      'GET /repos/acme/sample-app',
      'POST /repos/acme/sample-app/pulls',
      'POST /repos/acme/sample-app/pulls',
    ]);
  });

  it('an unreachable API is a clear error', async () => {
    commitOnBranch();
    await github.stop();
    const deadUrl = github.apiUrl;
    const unreachable = new GitHubPublisher(new GitCli(testSandbox()), new FileSystem(), { token: TOKEN, apiUrl: deadUrl, repository: 'acme/sample-app', retryDelayMs: 10 });
    github = await new FakeGitHub({ gitRoot: root, pushToken: TOKEN }).start();
    // Octokit keeps the reason (ECONNREFUSED) only when fetch's cause is an Error of this realm, which jest's sandbox is not.
    await expect(unreachable.publish(request())).rejects.toThrow(`could not reach the GitHub API at ${deadUrl} while reading repository acme/sample-app: `);
  });

  it('a push the git server refuses fails with a hint about Contents permission, without the token', async () => {
    commitOnBranch();
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer);
    const wrong = 'ghs_wrongTokenThatTheGitServerRejects00';

    const error = await publisher({ token: wrong }).publish(request()).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );

    expect(error?.message).toMatch(new RegExp(`^git push of refs/heads/${PUSHED} to ${github.cloneUrl('sample-app')} failed \\(GITHUB_TOKEN needs Contents: read and write on the repository\\): `));
    expect(error?.message).not.toContain(wrong);
    expect(github.gitCalls.at(-1)?.authorization).toBe(`Basic ${Buffer.from(`x-access-token:${wrong}`).toString('base64')}`);
    expect(remoteBranches()).toEqual(['refs/heads/main']);
    expect(github.apiCalls.map((call) => call.method)).toEqual(['GET']);
  });

  it('pushes from outside the agent-controlled repo: its hooks and url rewrites never see the token', async () => {
    commitOnBranch();
    const hooks = join(root, 'agent-hooks');
    await mkdir(hooks);
    const dump = join(root, 'hook-ran.txt');
    for (const hook of ['pre-push', 'reference-transaction', 'post-update']) {
      await writeFile(join(hooks, hook), `#!/bin/sh\nenv >> '${dump}'\nexit 0\n`);
      await chmod(join(hooks, hook), 0o755);
    }
    git(repoDir, ['config', 'core.hooksPath', hooks]);
    // Were the push run in repoDir, this would send it (and the header) somewhere that does not exist.
    git(repoDir, ['config', `url.${join(root, 'nowhere')}/.insteadOf`, `${github.url}/git/`]);
    github.on('GET', '/repos/acme/sample-app', () => repoAnswer).on('POST', '/repos/acme/sample-app/pulls', () => created('pull', 19));

    await publisher().publish(request());

    expect(existsSync(dump)).toBe(false);
    expect(remoteBranches()).toContain(`refs/heads/${PUSHED}`);
    expectTokenNowhere();
  });

  it('refuses success without a branch ahead of the default branch, before calling GitHub', async () => {
    await expect(publisher().publish(request({ branch: undefined, commitsAhead: 0 }))).rejects.toThrow('nothing to publish');
    expect(github.apiCalls).toEqual([]);
  });
});

describe('resolveGitHubRepository', () => {
  it.each([
    ['https://github.com/acme/orders-api.git', 'acme', 'orders-api'],
    ['https://github.com/acme/orders-api', 'acme', 'orders-api'],
    ['https://github.com/acme/orders.api/', 'acme', 'orders.api'],
    ['https://x-access-token@github.com/Acme-Inc/web_app.git', 'Acme-Inc', 'web_app'],
  ])('reads %s', (url, owner, name) => {
    expect(resolveGitHubRepository(url, undefined)).toEqual({ owner, name });
  });

  it('prefers GITHUB_REPOSITORY', () => {
    expect(resolveGitHubRepository('/srv/git/sample-app.git', 'acme/sample-app')).toEqual({ owner: 'acme', name: 'sample-app' });
  });

  it.each(['git@github.com:acme/orders-api.git', 'https://gitlab.com/acme/orders-api.git', 'https://github.com/acme', '/srv/git/sample-app.git'])('asks for GITHUB_REPOSITORY for %s', (url) => {
    expect(() => resolveGitHubRepository(url, undefined)).toThrow('set GITHUB_REPOSITORY=owner/name');
  });

  it('never repeats credentials from the clone URL', () => {
    expect(() => resolveGitHubRepository('https://user:hunter2@example.com/acme/x.git', undefined)).toThrow(/^cannot tell the GitHub repository from the clone URL https:\/\/example\.com\/acme\/x\.git;/);
  });
});
