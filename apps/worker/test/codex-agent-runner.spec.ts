import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FIRST_PROMPT } from '../src/agent/agent-runner';
import { CodexAgentRunner } from '../src/agent/codex-agent-runner';
import type { CodexConfig, WorkerConfig } from '../src/config/env.validators';
import { FileSystem } from '../src/fs/file-system';
import { retryPrompt } from '../src/runner/worker-runner.service';
import { argValue, FAKE_CODEX, fakeCodexInvocations, filesContaining, isAlive } from './support/fake-codex-fixtures';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir, testSandbox, agentWritableFile } from './support/isolation';
import { AgentSandbox } from '../src/process/agent-sandbox';

jest.setTimeout(30_000);

const API_KEY = 'sk-test-7d2c9a41e6b84f0c9e13a5d7b2f86c40';
const TOKEN = 'tok_9e1c7a3f5b2d4c6e8a0f1b3d5e7c9a2b';
const TASK_MD = '# ABC-12: Fix order total rounding\n\nOrder totals are rounded per line instead of once.\n';
const AGENTS_MD = '# Working agreement\n\nFollow the work-directory protocol.\n';

describe('CodexAgentRunner against a fake codex executable', () => {
  let root: string;
  let workDir: string;
  let logFile: string;
  let sandbox: AgentSandbox;
  const savedEnv = { ...process.env };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    root = await agentReachableTempDir('codex-runner-spec-');
    workDir = join(root, 'work');
    logFile = await agentWritableFile(join(root, 'fake-codex.log'));
    await mkdir(workDir);
    const remote = createBareRemote(root);
    git(workDir, ['clone', '--quiet', remote, 'repo']);
    git(join(workDir, 'repo'), ['config', 'user.name', 'Agent Conductor']);
    git(join(workDir, 'repo'), ['config', 'user.email', 'agent-conductor@localhost']);
    await writeFile(join(workDir, 'TASK.md'), TASK_MD);
    await writeFile(join(workDir, 'AGENTS.md'), AGENTS_MD);
    // As WorkerRunner does after the clone: from here on the work dir is the agent's.
    sandbox = testSandbox();
    await sandbox.handOver(workDir);
    process.env['FAKE_CODEX_LOG'] = logFile;
    // The worker's own secrets are in its environment; codex must see none of them.
    process.env['WORKER_TOKEN'] = TOKEN;
    process.env['AWS_SECRET_ACCESS_KEY'] = TOKEN;
  });

  afterEach(async () => {
    await sandbox.onModuleDestroy();
    process.env = { ...savedEnv };
    await rm(root, { recursive: true, force: true });
  });

  function runner(options: { scenario?: string; codex?: Partial<CodexConfig>; agentTimeoutMs?: number } = {}): CodexAgentRunner {
    process.env['FAKE_CODEX_SCENARIO'] = options.scenario ?? 'succeed';
    const config: WorkerConfig = {
      workerId: 'w-1',
      token: TOKEN,
      conductorAddress: '127.0.0.1:1',
      workDir,
      agentKind: 'codex',
      agentCommand: '',
      maxAgentAttempts: 4,
      agentTimeoutMs: options.agentTimeoutMs ?? 20_000,
      codex: { apiKey: API_KEY, model: 'gpt-test', path: FAKE_CODEX, baseUrl: undefined, maxTurns: 40, ...options.codex },
      publisher: 'local',
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 1_000,
      agentIsolation: AGENT_ISOLATION,
    };
    return new CodexAgentRunner(config, new FileSystem(), sandbox);
  }

  const meta = (name: string): Promise<string> => readFile(join(workDir, 'agent-meta', name), 'utf8');

  it('runs the task and the ending report in one thread, in the work dir, without approvals and with full access', async () => {
    const result = await runner().run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    const [task, ending, ...more] = fakeCodexInvocations(logFile);
    expect(more).toEqual([]);
    if (!task || !ending) throw new Error('codex ran fewer than two turns');
    expect(task.argv.slice(0, 2)).toEqual(['exec', '--experimental-json']);
    expect(argValue(task.argv, '--cd')).toBe(workDir);
    expect(task.cwd).toBe(workDir);
    expect(argValue(task.argv, '--sandbox')).toBe('danger-full-access');
    expect(argValue(task.argv, '--model')).toBe('gpt-test');
    expect(task.argv).toContain('--skip-git-repo-check');
    expect(task.argv).toEqual(expect.arrayContaining(['--config', 'approval_policy="never"']));
    expect(task.argv).toEqual(expect.arrayContaining(['--config', 'shell_environment_policy.ignore_default_excludes=false']));
    expect(task.argv).not.toContain('resume');
    expect(task.prompt).toContain(FIRST_PROMPT);
    expect(task.prompt).toContain(TASK_MD.trim());
    expect(task.prompt).toContain(AGENTS_MD.trim());

    // The ending report continues the thread the first turn started.
    const threadId = `thread_fake_${task.pid}`;
    expect(ending.argv.slice(-2)).toEqual(['resume', threadId]);
    expect(ending.prompt).toContain('Write the ending report');
    expect(ending.prompt).toContain('agent-meta/WAS_JOB_SUCCESSFUL');

    expect(await meta('WAS_JOB_SUCCESSFUL')).toBe('true\n');
    expect(git(join(workDir, 'repo'), ['log', '--format=%s', '-1', 'agent/fake-codex-change']).trim()).toBe('Round order totals once');
  });

  it('records token usage and duration per job in agent-meta/usage.json and in the result', async () => {
    const started = Date.now();
    const result = await runner().run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });
    const wall = Date.now() - started;

    // The fake reports 1000/200/300 for the task turn and 500/100/80 for the ending report.
    expect(result.usage).toEqual({ inputTokens: 1500, cachedInputTokens: 300, outputTokens: 380, turns: 2, durationMs: expect.any(Number), model: 'gpt-test' });
    expect(result.usage?.durationMs).toBeGreaterThan(0);
    expect(result.usage?.durationMs).toBeLessThanOrEqual(wall);
    expect(JSON.parse(await meta('usage.json'))).toEqual(result.usage);
  });

  it('writes a readable transcript: messages, commands with exit codes, file changes; no reasoning', async () => {
    await runner().run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });
    const transcript = await meta('transcript.md');

    expect(transcript).toMatch(/^# Codex transcript\n/);
    expect(transcript).toContain('## Turn 1: task (attempt 1)');
    expect(transcript).toContain('## Turn 2: ending report (attempt 1)');
    expect(transcript).toContain('**Command** (exit 0):\n\n```\n$ git commit --quiet -m Round order totals once\n```');
    expect(transcript).toContain('**Command** (exit 1):\n\n```\n$ cat does-not-exist.txt\ncat: does-not-exist.txt: No such file or directory\n```');
    expect(transcript).toContain('**Files** (changed): add `repo/CHANGES.md`');
    expect(transcript).toContain('**Codex:**\n\nI committed the change on agent/fake-codex-change.');
    expect(transcript).toContain('_Turn completed: 1000 input tokens (200 cached), 300 output tokens._');
    expect(transcript).not.toContain('FAKE-REASONING');
  });

  it('hands codex the API key and none of the worker\'s secrets, and keeps the key out of the work dir', async () => {
    const result = await runner({ scenario: 'leak' }).run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(0);
    const [invocation] = fakeCodexInvocations(logFile);
    expect(invocation?.openaiApiKey).toBe(API_KEY);
    expect(invocation?.codexApiKey).toBe(API_KEY);
    expect(invocation?.workerToken).toBeNull();
    expect(invocation?.envNames.filter((name) => /TOKEN|SECRET/.test(name))).toEqual([]);
    // The fake printed the key in a command's output and in a message: the transcript shows neither.
    const transcript = await meta('transcript.md');
    expect(transcript).toContain('OPENAI_API_KEY=[REDACTED]');
    expect(transcript).toContain('My key is [REDACTED], by the way.');
    expect(filesContaining(workDir, API_KEY)).toEqual([]);
    expect(result.output).not.toContain(API_KEY);
  });

  it('continues the same thread with the correction prompt on later attempts', async () => {
    const codex = runner({ scenario: 'invalid-first' });
    const first = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });
    expect(first.exitCode).toBe(0);
    expect(await meta('WAS_JOB_SUCCESSFUL')).toBe('maybe\n');

    const correction = retryPrompt(1, ['agent-meta/WAS_JOB_SUCCESSFUL must contain exactly "true" or "false", found "maybe\\n"']);
    const second = await codex.run({ workDir, prompt: correction, attempt: 2 });

    expect(second).toMatchObject({ exitCode: 0, timedOut: false });
    expect(await meta('WAS_JOB_SUCCESSFUL')).toBe('true\n');
    const invocations = fakeCodexInvocations(logFile);
    expect(invocations).toHaveLength(3);
    const threadId = `thread_fake_${invocations[0]?.pid}`;
    expect(invocations[2]?.argv.slice(-2)).toEqual(['resume', threadId]);
    expect(invocations[2]?.prompt).toBe(correction);
    // Usage and the transcript cover the whole job, not just the last attempt.
    expect(second.usage).toMatchObject({ inputTokens: 1900, cachedInputTokens: 600, outputTokens: 440, turns: 3 });
    const transcript = await meta('transcript.md');
    expect(transcript).toContain('## Turn 1: task (attempt 1)');
    expect(transcript).toContain('## Turn 3: correction (attempt 2)');
  });

  it('stops before exceeding AGENT_MAX_TURNS across attempts', async () => {
    const codex = runner({ scenario: 'invalid-first', codex: { maxTurns: 2 } });
    expect((await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 })).exitCode).toBe(0);

    const second = await codex.run({ workDir, prompt: retryPrompt(1, ['fix it']), attempt: 2 });

    expect(second.exitCode).toBe(1);
    expect(second.timedOut).toBe(false);
    expect(second.output).toContain("stopped before turn 3: the job's turn limit (AGENT_MAX_TURNS=2) is reached");
    expect(fakeCodexInvocations(logFile)).toHaveLength(2);
    expect(second.usage?.turns).toBe(2);
  });

  it('a failed turn is a failed run carrying codex\'s error, and no ending report is asked for', async () => {
    const result = await runner({ scenario: 'turn-failed' }).run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(1);
    expect(result.timedOut).toBe(false);
    expect(result.output).toContain('codex failed in turn 1 (task): fake: quota exceeded for this key');
    expect(fakeCodexInvocations(logFile)).toHaveLength(1);
    const transcript = await meta('transcript.md');
    expect(transcript).toContain('**Error:** fake: the model stream was interrupted');
    expect(transcript).toContain('**Turn failed:** fake: quota exceeded for this key');
  });

  it('an error event is a failed run', async () => {
    const result = await runner({ scenario: 'stream-error' }).run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(1);
    expect(result.output).toContain('codex failed in turn 1 (task): fake: stream disconnected before completion');
  });

  it('a codex process that exits non-zero without events is a failed run with its stderr', async () => {
    const result = await runner({ scenario: 'crash' }).run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(1);
    expect(result.output).toMatch(/codex failed in turn 1 \(task\): Codex Exec exited with code 3: fake codex: crashing on purpose/);
    expect(existsSync(join(workDir, 'agent-meta', 'transcript.md'))).toBe(true);
  });

  it('a missing codex executable is a failed run, not a crash of the worker', async () => {
    const result = await runner({ codex: { path: join(root, 'no-such-codex') } }).run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(1);
    // Spawned directly, codex's absence is ENOENT; through the run-as-agent wrapper, setpriv says so.
    expect(result.output).toMatch(/ENOENT|setpriv: failed to execute \S+no-such-codex: No such file or directory/);
  });

  it('kills codex when the job\'s wall time runs out and reports a timeout', async () => {
    const started = Date.now();
    const result = await runner({ scenario: 'hang', agentTimeoutMs: 1_500 }).run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });
    const elapsed = Date.now() - started;

    expect(result).toMatchObject({ exitCode: null, timedOut: true });
    expect(result.output).toContain("the job's wall-time limit (AGENT_TIMEOUT_MS=1500) was reached during turn 1");
    expect(elapsed).toBeGreaterThanOrEqual(1_500);
    expect(elapsed).toBeLessThan(4_500);
    const [invocation, ...more] = fakeCodexInvocations(logFile);
    expect(more).toEqual([]);
    expect(isAlive(invocation?.pid ?? 0)).toBe(false);
    const transcript = await meta('transcript.md');
    expect(transcript).toContain('**Codex:**\n\nStarting a very long build.');
    expect(transcript).toContain('**Command** (did not finish):\n\n```\n$ make forever\n```');
  });

  it('fails clearly when TASK.md is missing, without starting codex', async () => {
    await rm(join(workDir, 'TASK.md'));
    const result = await runner().run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(1);
    expect(result.output).toContain('TASK.md is missing from the work directory');
    expect(fakeCodexInvocations(logFile)).toEqual([]);
  });
});
