import { Logger } from '@nestjs/common';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startScriptedModel, userTexts, type ScriptedModel, type ScriptedRequest, type ScriptedTurn } from '@agent-conductor/testing';
import { FIRST_PROMPT } from '../src/agent/agent-runner';
import { CodexAgentRunner } from '../src/agent/codex-agent-runner';
import { AGENT_SESSION_DIR, THREAD_FILE, type SavedThread } from '../src/agent/codex-session';
import type { WorkerConfig } from '../src/config/env.validators';
import { FileSystem } from '../src/fs/file-system';
import { ModelProxyService, readModelApiKeyFromEnv } from '../src/model-proxy/model-proxy.service';
import { AgentSandbox } from '../src/process/agent-sandbox';
import { AGENT_ISOLATION, agentReachableTempDir, testSandbox } from './support/isolation';

// The real codex CLI starts in about a second; a loaded machine makes that several.
jest.setTimeout(120_000);

const API_KEY = 'sk-proj-session0d2c9a41e6b84f0c9e13a5d7b2f86c40';
const TOKEN = 'tok_5e1c7a3f5b2d4c6e8a0f1b3d5e7c9a2b';
const GITHUB_TOKEN = 'ghp_sessionSpec0a1b2c3d4e5f6a7b8c9d0e1f2a3b';
/** Only the first job's conversation holds this: a follow-up request that carries it carries the earlier history. */
const EARLIER_FINDING = 'rounding lives in src/orders/total.ts, line 42';

/** The first job: it explores (prints a secret on the way), then the ending-report turn. */
const firstJob: ScriptedTurn[] = [
  { items: [{ exec: `echo 'explored; github=${GITHUB_TOKEN}'` }] },
  { items: [{ message: `Found it: ${EARLIER_FINDING}.` }] },
  { items: [{ message: 'Ending report written.' }] },
];
/** A follow-up: the review-comment turn and the ending-report turn. */
const followUp: ScriptedTurn[] = [{ items: [{ message: 'Addressed the review.' }] }, { items: [{ message: 'Ending report written.' }] }];

describe('Codex context reuse: the thread saved with the results, resumed by a follow-up (real codex CLI)', () => {
  let root: string;
  let model: ScriptedModel | undefined;
  let sandbox: AgentSandbox;
  const runners: CodexAgentRunner[] = [];
  const proxies: ModelProxyService[] = [];
  const savedEnv = { ...process.env };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    root = await agentReachableTempDir('codex-session-spec-');
    sandbox = testSandbox();
    process.env['OPENAI_API_KEY'] = API_KEY;
    process.env['WORKER_TOKEN'] = TOKEN;
  });

  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.onModuleDestroy();
    for (const proxy of proxies.splice(0)) await proxy.onModuleDestroy();
    await model?.close();
    model = undefined;
    await sandbox.onModuleDestroy();
    process.env = { ...savedEnv };
    await rm(root, { recursive: true, force: true });
  });

  async function workDir(name: string, task: string): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, 'TASK.md'), task);
    await writeFile(join(dir, 'AGENTS.md'), '# Working agreement\n');
    return dir;
  }

  /** One worker's runner (one per job, as one worker process runs one job). */
  function runner(dir: string, sessionMaxBytes?: number): CodexAgentRunner {
    if (!model) throw new Error('start the model first');
    const config: WorkerConfig = {
      workerId: 'w-1',
      token: TOKEN,
      conductorAddress: '127.0.0.1:1',
      workDir: dir,
      agentKind: 'codex',
      agentCommand: '',
      maxAgentAttempts: 4,
      agentTimeoutMs: 90_000,
      codex: { model: 'gpt-test', path: undefined, baseUrl: model.baseUrl, maxTurns: 40, maxTokens: undefined, ...(sessionMaxBytes ? { sessionMaxBytes } : {}) },
      publisher: 'github',
      github: { token: GITHUB_TOKEN, apiUrl: 'https://api.github.com', repository: undefined },
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 1_000,
      agentIsolation: AGENT_ISOLATION,
    };
    const proxy = new ModelProxyService(config, readModelApiKeyFromEnv);
    const codex = new CodexAgentRunner(config, new FileSystem(), proxy, readModelApiKeyFromEnv, sandbox);
    proxies.push(proxy);
    runners.push(codex);
    return codex;
  }

  async function sessionFiles(dir: string): Promise<string[]> {
    const entries = await readdir(join(dir, AGENT_SESSION_DIR), { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  }

  /** The first job, run and saved as WorkerRunner does; its work dir and thread id. */
  async function runFirstJob(): Promise<{ dir: string; threadId: string }> {
    const dir = await workDir('first', '# ABC-12: Fix order total rounding\n');
    await sandbox.handOver(dir);
    const first = runner(dir);
    expect(await first.run({ workDir: dir, prompt: FIRST_PROMPT, attempt: 1 })).toMatchObject({ exitCode: 0 });
    await sandbox.killAll();
    const threadId = await first.saveSession(dir);
    if (threadId === undefined) throw new Error('the first job saved no session');
    return { dir, threadId };
  }

  /** A follow-up's work dir with the first job's agent-session/ in it, as the task archive delivers it. */
  async function followUpDir(first: string): Promise<string> {
    const dir = await workDir('follow-up', '# Review comments\n\n- src/orders/total.ts:42 please add a test\n');
    await cp(join(first, AGENT_SESSION_DIR), join(dir, AGENT_SESSION_DIR), { recursive: true });
    await sandbox.handOver(dir);
    return dir;
  }

  const threadHeader = (request: ScriptedRequest | undefined): unknown => request?.headers['thread-id'];

  it('saves the thread in agent-session/ with thread.json, redacted of the worker secrets', async () => {
    // The agent plants a rollout of its own: it must not travel as part of the thread.
    const planted = `agent-session/sessions/2026/01/01/rollout-2026-01-01T00-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl`;
    model = await startScriptedModel([{ items: [{ exec: `mkdir -p ${planted.split('/').slice(0, -1).join('/')} && echo planted > ${planted}` }] }, ...firstJob], { apiKey: API_KEY });

    const { dir, threadId } = await runFirstJob();

    expect(threadId).toBe(threadHeader(model.requests[0]));
    const thread = JSON.parse(await readFile(join(dir, AGENT_SESSION_DIR, THREAD_FILE), 'utf8')) as SavedThread;
    expect(thread).toEqual({ threadId, savedAt: expect.any(String), codexVersion: '0.163.0' });
    expect(Date.now() - Date.parse(thread.savedAt)).toBeLessThan(60_000);
    const files = await sessionFiles(dir);
    const rollouts = files.filter((file) => file.endsWith(`-${threadId}.jsonl`));
    expect(rollouts).toHaveLength(1);
    expect(files.some((file) => file.endsWith(planted))).toBe(false);
    expect(files).toHaveLength(2);
    expect(rollouts[0]).toMatch(/agent-session\/sessions\/\d{4}\/\d{2}\/\d{2}\/rollout-/);
    const rollout = await readFile(rollouts[0] ?? '', 'utf8');
    expect(rollout).toContain(EARLIER_FINDING);
    expect(rollout).toContain('github=[REDACTED]');
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const secret of [API_KEY, TOKEN, GITHUB_TOKEN]) expect(text).not.toContain(secret);
    }
  });

  it('saves nothing when the session is over AGENT_SESSION_MAX_BYTES', async () => {
    model = await startScriptedModel(firstJob, { apiKey: API_KEY });
    const dir = await workDir('first', '# ABC-12\n');
    await sandbox.handOver(dir);
    const first = runner(dir, 1_000);
    await first.run({ workDir: dir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(await first.saveSession(dir)).toBeUndefined();
    await expect(readdir(join(dir, AGENT_SESSION_DIR))).rejects.toThrow(/ENOENT/);
  });

  it('resumes the saved thread in a follow-up: the model sees the earlier conversation, and the usage says context was reused', async () => {
    model = await startScriptedModel([...firstJob, ...followUp], { apiKey: API_KEY });
    const { dir: first, threadId } = await runFirstJob();
    const earlierRequests = model.requests.length;
    const dir = await followUpDir(first);

    const result = await runner(dir).run({ workDir: dir, prompt: FIRST_PROMPT, attempt: 1, resumeThreadId: threadId });

    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.usage?.contextReused).toBe(true);
    const resumed = model.requests[earlierRequests];
    if (!resumed) throw new Error(`the model saw ${model.requests.length} requests, none after the earlier job's ${earlierRequests}`);
    expect(threadHeader(resumed)).toBe(threadId);
    expect(resumed?.text).toContain(EARLIER_FINDING);
    expect(userTexts(resumed).join('\n')).toContain('please add a test');
    // The session went into CODEX_HOME; the agent's work dir (uploaded again) no longer carries it.
    await expect(readdir(join(dir, AGENT_SESSION_DIR))).rejects.toThrow(/ENOENT/);
    expect(JSON.parse(await readFile(join(dir, 'agent-meta', 'usage.json'), 'utf8'))).toMatchObject({ contextReused: true });
  });

  it('starts a fresh thread once when codex cannot resume the saved session, and does not claim reuse', async () => {
    model = await startScriptedModel(followUp, { apiKey: API_KEY });
    const threadId = '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const dir = await workDir('follow-up', '# Review comments\n');
    const rollout = join(dir, AGENT_SESSION_DIR, 'sessions', '2026', '11', '30', `rollout-2026-11-30T10-00-00-${threadId}.jsonl`);
    await mkdir(join(rollout, '..'), { recursive: true });
    await writeFile(rollout, 'this is not a codex session\n');
    await sandbox.handOver(dir);

    const result = await runner(dir).run({ workDir: dir, prompt: FIRST_PROMPT, attempt: 1, resumeThreadId: threadId });

    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.usage?.contextReused).toBeUndefined();
    expect(await readFile(join(dir, 'agent-meta', 'transcript.md'), 'utf8')).toMatch(/\*\*Context not reused:\*\* resuming thread .* failed in its first turn/);
    expect(threadHeader(model.requests[0])).not.toBe(threadId);
  });

  it('starts a fresh thread when the follow-up has no session to resume, and does not claim reuse', async () => {
    model = await startScriptedModel(followUp, { apiKey: API_KEY });
    const dir = await workDir('follow-up', '# Review comments\n');
    await sandbox.handOver(dir);

    const result = await runner(dir).run({ workDir: dir, prompt: FIRST_PROMPT, attempt: 1, resumeThreadId: '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' });

    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.usage?.contextReused).toBeUndefined();
    expect(threadHeader(model.requests[0])).not.toBe('0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
    expect(await readFile(join(dir, 'agent-meta', 'transcript.md'), 'utf8')).toContain('**Context not reused:**');
  });
});
