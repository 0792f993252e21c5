import { Logger } from '@nestjs/common';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { FileSystem } from '../src/fs/file-system';
import { pushFromScratch } from '../src/git/authenticated-push';
import { GitCli } from '../src/git/git-cli';
import { AgentSandbox, processesOf } from '../src/process/agent-sandbox';
import { ProcessRunner, type ProcessRunResult } from '../src/process/process-runner';
import { GitHubPublisher } from '../src/publish/github-publisher';
import { ArtifactValidator } from '../src/validation/artifact-validator.service';
import { FakeGitHub } from '@agent-conductor/testing';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir, isRoot } from './support/isolation';

jest.setTimeout(60_000);

const AGENT_UID = AGENT_ISOLATION.uid;
const TOKEN = 'ghs_isolationCanaryToken0123456789abcdefXYZ';
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const WORKER_ID = 'w-iso';
const BRANCH = 'agent/hostile';

/** Runs a shell script the way CommandAgentRunner runs the agent: through the sandbox, as the agent. */
function runAsAgent(sandbox: AgentSandbox, cwd: string, script: string, extraEnv: Record<string, string> = {}): Promise<ProcessRunResult> {
  return sandbox.env(extraEnv).then((env) => {
    const { file, args } = sandbox.command(['/bin/sh', '-c', script]);
    return new ProcessRunner().run(file, args, { cwd, env, timeoutMs: 30_000, outputTailBytes: 64 * 1024 });
  });
}

function allFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return allFiles(dir, path);
    return entry.isFile() ? [path] : [];
  });
}

function filesContaining(dir: string, ...needles: string[]): string[] {
  return allFiles(dir).filter((file) => needles.some((needle) => readFileSync(join(dir, file)).includes(needle)));
}

// uid separation needs root; CI and the container run as root. Elsewhere the worker warns instead (tested below).
const describeAsRoot = isRoot ? describe : describe.skip;

describeAsRoot('agent isolation (real processes as the agent uid)', () => {
  let root: string;
  let workDir: string;
  let sandbox: AgentSandbox;

  beforeEach(async () => {
    root = await agentReachableTempDir('agent-isolation-spec-');
    workDir = join(root, 'work');
    await mkdir(workDir);
    sandbox = new AgentSandbox({ agentIsolation: AGENT_ISOLATION });
    await sandbox.handOver(workDir);
  });

  afterEach(async () => {
    await sandbox.onModuleDestroy();
    await rm(root, { recursive: true, force: true });
  });

  it('runs the agent as its own uid and gid, no groups, in a fresh 0700 HOME of its own, with no secret in its environment', async () => {
    process.env['GITHUB_TOKEN'] = TOKEN;
    try {
      const result = await runAsAgent(sandbox, workDir, 'echo "ids=$(id -u):$(id -g):$(id -G)"; echo "home=$(stat -c %u:%a "$HOME")"; ls -A "$HOME" | wc -l; env; git config --global --list 2>&1 | head -1; touch mine && stat -c owner=%u mine');
      expect(result.exitCode).toBe(0);
      expect(result.output).toContain(`ids=${AGENT_UID}:${AGENT_UID}:${AGENT_UID}\n`);
      expect(result.output).toContain(`home=${AGENT_UID}:700\n0\n`);
      expect(result.output).toContain(`owner=${AGENT_UID}`);
      expect(result.output).not.toContain(TOKEN);
      expect(result.output).not.toMatch(/^(GITHUB_TOKEN|WORKER_TOKEN|OPENAI_API_KEY|XDG_CONFIG_HOME)=/m);
      expect((await stat(workDir)).uid).toBe(AGENT_UID);
    } finally {
      delete process.env['GITHUB_TOKEN'];
    }
  });

  it("cannot read the worker's /proc environ or mem, nor its private dir", async () => {
    const privateDir = await sandbox.workerPrivateDir();
    await writeFile(join(privateDir, 'secret'), TOKEN, { mode: 0o600 });
    const result = await runAsAgent(
      sandbox,
      workDir,
      [
        'cat /proc/$WORKER_PID/environ > /dev/null 2>&1 && echo environ=read || echo environ=denied',
        'dd if=/proc/$WORKER_PID/mem bs=1 count=1 skip=4096 > /dev/null 2>&1 && echo mem=read || echo mem=denied',
        'ls /proc/$WORKER_PID/fd > /dev/null 2>&1 && echo fd=read || echo fd=denied',
        'cat "$PRIVATE/secret" 2>/dev/null || echo private=denied',
        'ls "$PRIVATE" > /dev/null 2>&1 && echo list=read || echo list=denied',
      ].join('\n'),
      { WORKER_PID: String(process.pid), PRIVATE: privateDir },
    );
    expect(result.output).toBe('environ=denied\nmem=denied\nfd=denied\nprivate=denied\nlist=denied\n');
    expect(result.output).not.toContain(TOKEN);
  });

  it('refuses a work dir whose parents the agent cannot pass, saying which and how to fix it', async () => {
    const closed = await mkdtemp(join(tmpdir(), 'agent-isolation-closed-'));
    try {
      await mkdir(join(closed, 'work'));
      await expect(sandbox.handOver(join(closed, 'work'))).rejects.toThrow(`${closed} has mode 0700; make it traversable but not listable (chmod 0711)`);
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });

  it('kills everything the agent left running, also what detached and forked on, and nothing else', async () => {
    const bystander = spawn('sleep', ['30']);
    try {
      const result = await runAsAgent(
        sandbox,
        workDir,
        // A detached loop in a new session that forks a child every tick: what setsid + nohup + a fork loop leaves behind.
        'setsid sh -c \'while :; do echo tick >> alive; (sleep 30 &) ; sleep 0.02; done\' > /dev/null 2>&1 < /dev/null &\nsleep 0.3; echo started',
      );
      expect(result.output).toContain('started');
      expect((await processesOf(AGENT_UID)).length).toBeGreaterThan(0);

      await sandbox.killAll();

      expect(await processesOf(AGENT_UID)).toEqual([]);
      const size = statSync(join(workDir, 'alive')).size;
      await new Promise((done) => setTimeout(done, 300));
      expect(statSync(join(workDir, 'alive')).size).toBe(size);
      // The worker's own children are not the agent's.
      expect(bystander.exitCode).toBeNull();
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  describe('the authenticated push against hostile git config and a process racing it', () => {
    let github: FakeGitHub;
    let remote: string;
    let proxy: Server;
    const proxied: string[] = [];

    beforeEach(async () => {
      remote = createBareRemote(root);
      github = await new FakeGitHub({ gitRoot: root, pushToken: TOKEN }).start();
      github.on('GET', '/repos/acme/sample-app', () => ({ status: 200, body: { default_branch: 'main', html_url: 'https://github.com/acme/sample-app' } }));
      github.on('POST', '/repos/acme/sample-app/pulls', () => ({ status: 201, body: { number: 5, html_url: 'https://github.com/acme/sample-app/pull/5' } }));
      // Where the agent's http.proxy points: any request here would carry the Authorization header.
      proxy = createServer((request, response) => {
        proxied.push(`${request.method} ${request.url} ${request.headers['authorization'] ?? ''}`);
        response.writeHead(502).end();
      });
      await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
      // The worker clones as root, then hands the work dir over, as WorkerRunner does.
      await promisify(execFile)('git', ['clone', '--quiet', github.cloneUrl('sample-app'), 'repo'], { cwd: workDir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
      await sandbox.handOver(workDir);
    });

    afterEach(async () => {
      await github.stop();
      await new Promise<void>((done) => proxy.close(() => done()));
    });

    it('pushes with the token only after the agent is gone; no hook, trace, proxy or fsmonitor of the agent sees it', async () => {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const hostileConfig = [
        '[core]',
        '\thooksPath = $PWD/hooks',
        '\tfsmonitor = $PWD/hooks/fsmonitor',
        '\tsshCommand = $PWD/hooks/leak',
        '[trace2]',
        '\teventTarget = $PWD/trace2-event.json',
        '\tnormalTarget = $PWD/trace2-normal.log',
        '\tenvVars = GIT_CONFIG_VALUE_0,GIT_CONFIG_KEY_0,HOME',
        '\tconfigParams = http.*',
        '[http]',
        `\tproxy = ${proxyUrl}`,
        '\tsslVerify = false',
        '[filter "leak"]',
        '\tclean = $PWD/hooks/leak',
        '\tsmudge = $PWD/hooks/leak',
        '[diff "leak"]',
        '\ttextconv = $PWD/hooks/leak',
        '[credential]',
        '\thelper = !$PWD/hooks/leak',
      ].join('\n');
      const includer = ['[includeIf "gitdir:/"]', '\tpath = $PWD/included.gitconfig'].join('\n');
      const agent = [
        'set -e',
        'mkdir -p hooks',
        // Every hook and helper the agent can name writes its environment and arguments where the results would carry them.
        'printf "#!/bin/sh\\nid -u >> $PWD/hook-uids.txt\\nenv >> $PWD/leaked-env.txt\\necho \\"\\$@\\" >> $PWD/leaked-env.txt\\ncat >> $PWD/leaked-env.txt\\n" > hooks/leak',
        'chmod +x hooks/leak',
        'for hook in pre-push post-checkout reference-transaction push-to-checkout fsmonitor; do cp hooks/leak hooks/$hook; done',
        `cat > included.gitconfig <<EOF\n${hostileConfig}\nEOF`,
        `cat > hostile.gitconfig <<EOF\n${hostileConfig}\n${includer}\nEOF`,
        'cat hostile.gitconfig >> repo/.git/config',
        'cp hostile.gitconfig "$HOME/.gitconfig"',
        'mkdir -p "$HOME/.config/git" && cp hostile.gitconfig "$HOME/.config/git/config"',
        'cd repo',
        `git checkout --quiet -b ${BRANCH}`,
        'echo "changed" >> README.md',
        // Attributes that put every file through the agent's filter and diff drivers.
        'printf "* filter=leak diff=leak\\n" > .gitattributes && git add .gitattributes',
        'git -c user.name=Agent -c user.email=agent@example.invalid commit --quiet -am "Hostile change"',
        'cd ..',
        'mkdir -p agent-meta && echo true > agent-meta/WAS_JOB_SUCCESSFUL && echo "Hostile change" > agent-meta/meta-info.txt && echo "Done." > agent-meta/ending-report.md',
        // Left running to race the push: rewrites the repository's and the global config, and reads every environ it can.
        `nohup sh -c 'while :; do cat hostile.gitconfig >> repo/.git/config; cp hostile.gitconfig "$HOME/.gitconfig"; cat /proc/[0-9]*/environ >> proc-environ.txt 2>/dev/null; echo tick >> racer-alive; sleep 0.01; done' > /dev/null 2>&1 &`,
        'sleep 0.2',
      ].join('\n');
      // The worker's own environment may carry git tracing (an operator's debugging): none of it reaches its git.
      const traces = await mkdtemp(join(tmpdir(), 'agent-isolation-traces-'));
      const tracing = { GIT_TRACE: join(traces, 'trace'), GIT_TRACE_CURL: join(traces, 'curl'), GIT_TRACE2_EVENT: join(traces, 'event'), GIT_TRACE_PACKET: join(traces, 'packet') };
      const ran = await runAsAgent(sandbox, workDir, agent);
      expect(ran.exitCode).toBe(0);
      // The hostile config is live: the agent's own commit ran its fsmonitor hook.
      expect(ran.output).toContain('warning: Empty last update token.');
      expect(await processesOf(AGENT_UID)).not.toEqual([]);

      const fs = new FileSystem();
      const gitCli = new GitCli(sandbox);
      // The validator's git runs on the hostile repository too (as the agent, before the kill).
      const artifacts = await new ArtifactValidator(fs, gitCli, { token: 'worker-token-value', github: { token: TOKEN } }).validate(workDir, 'main');
      expect(artifacts.errors).toEqual([]);
      const publisher = new GitHubPublisher(gitCli, fs, { token: TOKEN, apiUrl: github.apiUrl, repository: 'acme/sample-app', retryDelayMs: 20 });
      Object.assign(process.env, tracing);
      const result = await publisher
        .publish({
          workDir,
          repoDir: join(workDir, 'repo'),
          workerId: WORKER_ID,
          jobId: 'job-isolation',
          repository: { cloneUrl: github.cloneUrl('sample-app'), defaultBranch: 'main', name: 'acme/sample-app' },
          outcome: 'change',
          title: artifacts.title,
          report: artifacts.report,
          branch: artifacts.branch,
          commitsAhead: 1,
        })
        .finally(() => {
          for (const name of Object.keys(tracing)) delete process.env[name];
        });

      expect(result.branch).toBe(`worker/${WORKER_ID}/${BRANCH}`);
      expect(git(remote, ['log', '-1', '--format=%s', `worker/${WORKER_ID}/${BRANCH}`]).trim()).toBe('Hostile change');
      // The push carried the token to the remote, and nowhere else.
      expect(github.gitCalls.some((call) => call.authorization === `Basic ${BASIC}`)).toBe(true);
      expect(proxied).toEqual([]);
      expect(await processesOf(AGENT_UID)).toEqual([]);
      expect(filesContaining(workDir, TOKEN, BASIC)).toEqual([]);
      expect(filesContaining(await sandbox.agentHome(), TOKEN, BASIC)).toEqual([]);
      expect(readdirSync(traces)).toEqual([]);
      await rm(traces, { recursive: true, force: true });
      expect(existsSync(join(workDir, 'leaked-env.txt')) ? await readFile(join(workDir, 'leaked-env.txt'), 'utf8') : '').not.toContain('GIT_CONFIG_VALUE_0');
      // Whatever the agent's config made git run (its fsmonitor, during the agent's commit and the validation), ran as the agent.
      const hookUids = new Set((await readFile(join(workDir, 'hook-uids.txt'), 'utf8')).trim().split('\n'));
      expect([...hookUids]).toEqual([String(AGENT_UID)]);
      // The racer was alive until the kill, and is not any more.
      const ticks = statSync(join(workDir, 'racer-alive')).size;
      await new Promise((done) => setTimeout(done, 200));
      expect(statSync(join(workDir, 'racer-alive')).size).toBe(ticks);
    });

    it('refuses to push when the agent swapped repo/ for a symlink to another repository', async () => {
      // A repository the agent can read but must not publish: the worker would push its objects with the token.
      const other = join(workDir, 'other');
      const agent = ['set -e', 'mv repo other', 'ln -s other repo', 'cd other', `git checkout --quiet -b ${BRANCH}`, 'echo "changed" >> README.md', 'git -c user.name=Agent -c user.email=agent@example.invalid commit --quiet -am "Elsewhere"'].join('\n');
      expect((await runAsAgent(sandbox, workDir, agent)).exitCode).toBe(0);
      await sandbox.killAll();
      const push = pushFromScratch(new GitCli(sandbox), new FileSystem(), { repoDir: join(workDir, 'repo'), url: github.cloneUrl('sample-app'), ref: `refs/heads/${BRANCH}`, token: TOKEN });
      await expect(push).rejects.toThrow(/refusing to push: .*repo is not a real directory/);
      expect(existsSync(join(other, '.git'))).toBe(true);
      expect(git(remote, ['branch', '--list', BRANCH]).trim()).toBe('');
    });
  });

  describe('artifacts that point elsewhere', () => {
    it('reads no artifact through a symlink, a symlinked directory, a FIFO or past its size limit', async () => {
      const secretDir = await mkdtemp(join(tmpdir(), 'agent-isolation-secret-'));
      const secretFile = join(secretDir, 'token');
      await writeFile(secretFile, `${TOKEN}\n`, { mode: 0o600 });
      try {
        const agent = [
          'mkdir -p agent-meta elsewhere',
          `ln -s ${secretFile} agent-meta/ending-report.md`,
          `ln -s /proc/${process.pid}/environ agent-meta/meta-info.txt`,
          'mkfifo agent-meta/WAS_JOB_SUCCESSFUL',
          `ln -s ${secretDir} linked`,
          'head -c 2000000 /dev/zero | tr "\\0" a > elsewhere/big.md',
        ].join('\n');
        expect((await runAsAgent(sandbox, workDir, agent)).exitCode).toBe(0);
        await sandbox.killAll();
        const fs = new FileSystem();

        const artifacts = await new ArtifactValidator(fs, new GitCli(sandbox), { token: 'worker-token-value' }).validate(workDir, 'main');

        expect(artifacts.errors).toEqual(
          expect.arrayContaining([
            'agent-meta/ending-report.md is a symbolic link; write a regular file',
            'agent-meta/meta-info.txt is a symbolic link; write a regular file',
            'agent-meta/WAS_JOB_SUCCESSFUL is not a regular file',
          ]),
        );
        expect(JSON.stringify(artifacts)).not.toContain(TOKEN);
        await expect(fs.readAgentText(workDir, 'linked/token', 1024)).rejects.toThrow('linked/token is below a symbolic link (linked)');
        await expect(fs.readAgentText(workDir, 'elsewhere/big.md', 1024 * 1024)).rejects.toThrow('elsewhere/big.md is 2000000 bytes, over the limit of 1048576');
        // Nor does the worker write through one: the prompt file of the next attempt goes nowhere else.
        await expect(fs.writeAgentText(workDir, 'agent-meta/ending-report.md', 'x')).rejects.toThrow('cannot be written: it is a symbolic link');
        expect(await readFile(secretFile, 'utf8')).toBe(`${TOKEN}\n`);
      } finally {
        await rm(secretDir, { recursive: true, force: true });
      }
    });
  });

  it('makes a process non-dumpable: a process of the same uid can then read neither its environ nor its mem', async () => {
    const child = resolve(__dirname, 'support/non-dumpable-child.ts');
    await chmod(root, 0o711);
    const probe = async (nonDumpable: boolean): Promise<string> => {
      const { file, args } = sandbox.command([process.execPath, '--import', 'tsx', child, nonDumpable ? 'non-dumpable' : 'dumpable']);
      const target = spawn(file, args, { cwd: resolve(__dirname, '../../..'), env: { ...(await sandbox.env()), CANARY: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const ready = await new Promise<string>((done, fail) => {
          target.stdout.once('data', (data: Buffer) => done(data.toString('utf8').trim()));
          target.once('exit', (code) => fail(new Error(`the child exited early (${code})`)));
        });
        const pid = /^ready (\d+) (\d)$/.exec(ready);
        expect(pid?.[2]).toBe(nonDumpable ? '0' : '1');
        const read = await runAsAgent(sandbox, workDir, `cat /proc/${pid?.[1]}/environ 2>/dev/null | tr '\\0' '\\n' | grep -c CANARY; dd if=/proc/${pid?.[1]}/mem bs=1 count=1 2>&1 | grep -c 'Permission denied'`);
        return read.output;
      } finally {
        target.kill('SIGKILL');
      }
    };
    // Same uid, dumpable: the environ is readable (the agent's own processes are fair game to each other).
    expect(await probe(false)).toBe('1\n0\n');
    // Same uid, not dumpable: the kernel answers as if it were another user's.
    expect(await probe(true)).toBe('0\n1\n');
  });
});

describe('agent isolation when it cannot be had', () => {
  it('is off with AGENT_ISOLATION=off, and when the worker is not root', () => {
    expect(new AgentSandbox({ agentIsolation: { ...AGENT_ISOLATION, mode: 'off' } }).identity).toBeUndefined();
    expect(new AgentSandbox({ agentIsolation: AGENT_ISOLATION }).identity).toEqual(isRoot ? { uid: AGENT_UID, gid: AGENT_UID } : undefined);
  });

  it('says so once, loudly, however many worker contexts start', () => {
    const warnings: string[] = [];
    Logger.overrideLogger({ log: () => undefined, error: () => undefined, warn: (message: unknown) => void warnings.push(String(message)) });
    try {
      const isolation = { ...AGENT_ISOLATION, mode: 'off' as const };
      new AgentSandbox({ agentIsolation: isolation }).onModuleInit();
      new AgentSandbox({ agentIsolation: isolation }).onModuleInit();
      expect(warnings).toEqual([expect.stringMatching(isRoot ? /^AGENT ISOLATION IS OFF \(AGENT_ISOLATION=off\)/ : /^AGENT ISOLATION IS UNAVAILABLE: the worker is not root/)]);
    } finally {
      Logger.overrideLogger(false);
    }
  });

  it('runs commands as given, with a fresh HOME, when off', async () => {
    const sandbox = new AgentSandbox({ agentIsolation: { ...AGENT_ISOLATION, mode: 'off' } });
    try {
      expect(sandbox.command(['/bin/sh', '-c', 'true'])).toEqual({ file: '/bin/sh', args: ['-c', 'true'] });
      const env = await sandbox.env();
      expect(env['HOME']).toBe(await sandbox.agentHome());
      expect(env['HOME']).not.toBe(process.env['HOME']);
      expect(await sandbox.wrapperFor('/usr/bin/codex')).toBeUndefined();
    } finally {
      await sandbox.onModuleDestroy();
    }
  });
});
