import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '@agent-conductor/testing';
import { FIRST_PROMPT } from '../src/agent/agent-runner';
import { CodexAgentRunner } from '../src/agent/codex-agent-runner';
import type { CodexConfig, WorkerConfig } from '../src/config/env.validators';
import { FileSystem } from '../src/fs/file-system';
import type { ModelProxy } from '../src/model-proxy/model-proxy';
import { ModelProxyService, readModelApiKeyFromEnv } from '../src/model-proxy/model-proxy.service';
import { retryPrompt } from '../src/runner/worker-runner.service';
import { BRANCH, COMMIT_SUBJECT, correctionTurns, endingReportTurns, lastToolOutput, lastUserText, taskTurns } from './support/codex-scripts';
import { FAKE_CODEX, fakeCodexInvocations, filesContaining, isAlive } from './support/fake-codex-fixtures';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir, agentWritableFile, isRoot, testSandbox } from './support/isolation';
import { AgentSandbox } from '../src/process/agent-sandbox';

// The real codex CLI starts in about a second; a loaded machine makes that several.
jest.setTimeout(90_000);

const API_KEY = 'sk-proj-runner7d2c9a41e6b84f0c9e13a5d7b2f86c40';
const TOKEN = 'tok_9e1c7a3f5b2d4c6e8a0f1b3d5e7c9a2b';
const GITHUB_TOKEN = 'ghp_runnerSpec0a1b2c3d4e5f6a7b8c9d0e1f2a3b4';
const TASK_MD = '# ABC-12: Fix order total rounding\n\nOrder totals are rounded per line instead of once.\n';
const AGENTS_MD = '# Working agreement\n\nFollow the work-directory protocol.\n';

describe('CodexAgentRunner through the real codex CLI, the SDK and the model proxy', () => {
  let root: string;
  let workDir: string;
  let model: ScriptedModel | undefined;
  let proxies: ModelProxyService | undefined;
  let codexRunner: CodexAgentRunner | undefined;
  let sandbox: AgentSandbox;
  const savedEnv = { ...process.env };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    root = await agentReachableTempDir('codex-runner-spec-');
    workDir = join(root, 'work');
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
    // The worker's own secrets are in its environment, as on ECS; codex and the agent must see none of them.
    process.env['OPENAI_API_KEY'] = API_KEY;
    process.env['WORKER_TOKEN'] = TOKEN;
    process.env['AWS_SECRET_ACCESS_KEY'] = TOKEN;
  });

  afterEach(async () => {
    await sandbox.onModuleDestroy();
    await codexRunner?.onModuleDestroy();
    await proxies?.onModuleDestroy();
    await model?.close();
    codexRunner = undefined;
    proxies = undefined;
    model = undefined;
    process.env = { ...savedEnv };
    await rm(root, { recursive: true, force: true });
  });

  /** The scripted model demands the real key: a request reaches it only through the proxy. */
  async function runner(turns: ScriptedTurn[], options: { codex?: Partial<CodexConfig>; agentTimeoutMs?: number; github?: WorkerConfig['github'] } = {}): Promise<CodexAgentRunner> {
    model = await startScriptedModel(turns, { apiKey: API_KEY });
    const config: WorkerConfig = {
      workerId: 'w-1',
      token: TOKEN,
      conductorAddress: '127.0.0.1:1',
      workDir,
      agentKind: 'codex',
      agentCommand: '',
      maxAgentAttempts: 4,
      agentTimeoutMs: options.agentTimeoutMs ?? 60_000,
      codex: { model: 'gpt-test', path: undefined, baseUrl: model.baseUrl, maxTurns: 40, maxTokens: undefined, ...options.codex },
      publisher: options.github ? 'github' : 'local',
      ...(options.github ? { github: options.github } : {}),
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 1_000,
      agentIsolation: AGENT_ISOLATION,
    };
    proxies = new ModelProxyService(config, readModelApiKeyFromEnv);
    codexRunner = new CodexAgentRunner(config, new FileSystem(), sandbox, proxies, readModelApiKeyFromEnv);
    return codexRunner;
  }

  const meta = (name: string): Promise<string> => readFile(join(workDir, 'agent-meta', name), 'utf8');
  const requests = () => model?.requests ?? [];

  it('runs the task and then the ending report in one thread; the commands run in the work dir', async () => {
    const codex = await runner([...taskTurns(), ...endingReportTurns('true')]);
    const started = jest.spyOn(proxies as ModelProxyService, 'start');

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.error).toBeUndefined();
    expect(requests()).toHaveLength(4);
    expect(requests().every((request) => request.url === '/v1/responses' && request.headers['authorization'] === `Bearer ${API_KEY}`)).toBe(true);
    const [task, afterCommit, ending] = requests();
    expect(lastUserText(task)).toContain(FIRST_PROMPT);
    expect(lastUserText(task)).toContain(TASK_MD.trim());
    expect(lastUserText(task)).toContain(AGENTS_MD.trim());
    expect(lastToolOutput(afterCommit)).toContain(COMMIT_SUBJECT);
    expect(lastUserText(ending)).toContain('Write the ending report');
    // Same codex thread: the ending report's request carries the task's history and thread id.
    expect(ending?.headers['thread-id']).toBe(task?.headers['thread-id']);
    expect(ending?.text).toContain(TASK_MD.trim().split('\n')[0]);

    expect(await meta('WAS_JOB_SUCCESSFUL')).toBe('true\n');
    expect(git(join(workDir, 'repo'), ['log', '--format=%s', '-1', BRANCH]).trim()).toBe(COMMIT_SUBJECT);
    const transcript = await meta('transcript.md');
    expect(transcript).toContain('## Turn 1: task (attempt 1)');
    expect(transcript).toContain('## Turn 2: ending report (attempt 1)');
    expect(transcript).toContain(`**Codex:**\n\nI committed the change on ${BRANCH}.`);
    expect(transcript).toMatch(/\*\*Command\*\* \(exit 0\):\n\n```\n\$ .*git commit --quiet -m/);
    // Straight to HTTP: no WebSocket attempts, no retries (docs/codex.md, "Transport").
    const proxy = await (started.mock.results[0]?.value as Promise<ModelProxy>);
    expect(proxy.refusedUpgrades()).toBe(0);
    expect(transcript).not.toMatch(/Reconnecting|WebSocket/i);
  });

  it('records the usage the proxy metered, per job, in agent-meta/usage.json and in the result', async () => {
    const codex = await runner([...taskTurns(), ...endingReportTurns('true')]);

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    // The scripted responses report 1000+1100+500+600 input (200+900+100+500 cached) and 300+20+80+10 output.
    expect(result.usage).toEqual({ inputTokens: 3200, cachedInputTokens: 1700, outputTokens: 410, turns: 2, durationMs: expect.any(Number), model: 'gpt-test' });
    expect(JSON.parse(await meta('usage.json'))).toEqual(result.usage);
    // Usage counters are not secrets: the transcript shows them as they are.
    expect(await meta('transcript.md')).toContain('_Turn completed: 2100 input tokens (1100 cached), 320 output tokens._');
  });

  it('gives the agent no model key: its shell sees neither the real key nor any worker secret, and codex talks only to the proxy', async () => {
    // Every process from the agent's shell up to the worker: its environment and its argv. Written to a file
    // outside the work dir, in full: codex truncates the command output it sends back to the model.
    const probeFile = await agentWritableFile(join(root, 'probe.txt'));
    const probe = [
      'echo "== uid $(id -u) home $HOME"',
      'echo "== env"; env',
      'p=$$; while [ "$p" -gt 1 ]; do echo "== pid $p: $(tr "\\0" " " < /proc/$p/cmdline)"; tr "\\0" "\\n" < /proc/$p/environ; p=$(cut -d" " -f4 /proc/$p/stat); done',
      'echo "== codex home $CODEX_HOME"; ls -A "$CODEX_HOME"; cat "$CODEX_HOME"/*.toml "$CODEX_HOME"/*.json 2>/dev/null',
      'echo "== end"',
    ].join('; ');
    const codex = await runner([{ items: [{ exec: `{ ${probe}; } > ${probeFile} 2>&1; echo probed` }] }, { items: [{ message: 'Looked around.' }] }, ...endingReportTurns('true')]);

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(0);
    expect(lastToolOutput(requests()[1])).toContain('probed');
    const printed = await readFile(probeFile, 'utf8');
    // The probe really ran in the agent's shell, under codex, and saw codex's own environment and argv.
    expect(printed).toContain(`PWD=${workDir}`);
    expect(printed).toMatch(/== pid \d+: \S*codex exec --experimental-json/);
    expect(printed).toContain('== end');
    for (const secret of [API_KEY, TOKEN]) expect(printed).not.toContain(secret);
    expect(printed).not.toMatch(/OPENAI_API_KEY|CODEX_API_KEY/);
    // Codex reached the model only with the proxy's run key, which the proxy swapped for the real one.
    expect(requests().map((request) => request.headers['authorization'])).toEqual(requests().map(() => `Bearer ${API_KEY}`));
    // The SDK spawns codex itself; the run-as-agent wrapper makes it (and its shell) the agent's, with the agent's fresh HOME.
    expect(printed).toContain(`== uid ${isRoot ? AGENT_ISOLATION.uid : process.getuid?.()} home ${await sandbox.agentHome()}`);
    expect(filesContaining(workDir, API_KEY)).toEqual([]);
    expect(result.output).not.toContain(API_KEY);
  });

  it("refuses the agent's own calls to the proxy without the run key, even when it finds the proxy in codex's argv", async () => {
    // The agent walks up to its codex process, takes the proxy URL from its argv, and calls it without the run key.
    const attack = [
      'p=$$; url=; while [ "$p" -gt 1 ] && [ -z "$url" ]; do url=$(tr "\\0" "\\n" < /proc/$p/cmdline | grep -o "http://127.0.0.1:[0-9]*/v1" | head -1); p=$(cut -d" " -f4 /proc/$p/stat); done',
      'echo "proxy=$url"',
      `for key in acp-run-guess \${OPENAI_API_KEY:-none} ''; do curl -s -o /dev/null -w "status=%{http_code}\\n" -X POST -H "Authorization: Bearer $key" -H "Content-Type: application/json" -d '{"model":"gpt-test","input":[]}' "$url/responses"; done`,
    ].join('; ');
    const codex = await runner([{ items: [{ exec: attack }] }, { items: [{ message: 'Tried.' }] }, ...endingReportTurns('true')]);

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(0);
    const printed = lastToolOutput(requests()[1]);
    expect(printed).toMatch(/proxy=http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(printed.match(/status=\d+/g)).toEqual(['status=401', 'status=401', 'status=401']);
    // Only codex's own requests reached the model: the task's two and the ending report's two.
    expect(requests()).toHaveLength(4);
  });

  it("keeps the worker's secrets out of the transcript and the output, whatever a command prints, and leaves usage counters alone", async () => {
    const printed = `model=${API_KEY} worker=${TOKEN} github=${GITHUB_TOKEN}`;
    const codex = await runner([{ items: [{ exec: `echo '${printed}'` }] }, { items: [{ message: `Found ${GITHUB_TOKEN}.` }] }, ...endingReportTurns('true')], {
      github: { token: GITHUB_TOKEN, apiUrl: 'https://api.github.com', repository: undefined },
    });

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    const transcript = await meta('transcript.md');
    expect(transcript).toContain('model=[REDACTED] worker=[REDACTED] github=[REDACTED]');
    expect(transcript).toContain('**Codex:**\n\nFound [REDACTED].');
    expect(transcript).toContain('_Turn completed: 200 input tokens (0 cached), 20 output tokens._');
    for (const secret of [API_KEY, TOKEN, GITHUB_TOKEN]) {
      expect(filesContaining(workDir, secret)).toEqual([]);
      expect(result.output).not.toContain(secret);
    }
  });

  it('continues the same thread with the correction prompt on the next attempt', async () => {
    const codex = await runner([...taskTurns(), ...endingReportTurns('maybe'), ...correctionTurns()]);
    const first = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });
    expect(first.exitCode).toBe(0);
    expect(await meta('WAS_JOB_SUCCESSFUL')).toBe('maybe\n');

    const correction = retryPrompt(1, ['agent-meta/WAS_JOB_SUCCESSFUL must contain exactly "true" or "false", found "maybe\\n"']);
    const second = await codex.run({ workDir, prompt: correction, attempt: 2 });

    expect(second).toMatchObject({ exitCode: 0, timedOut: false });
    expect(await meta('WAS_JOB_SUCCESSFUL')).toBe('true\n');
    expect(requests()).toHaveLength(6);
    const fix = requests()[4];
    expect(lastUserText(fix)).toBe(correction);
    expect(fix?.headers['thread-id']).toBe(requests()[0]?.headers['thread-id']);
    // The correction turn sees the whole job so far: the task and the ending report it is correcting.
    expect(fix?.text).toContain('Write the ending report');
    expect(second.usage).toMatchObject({ inputTokens: 4050, outputTokens: 475, turns: 3 });
    const transcript = await meta('transcript.md');
    expect(transcript).toContain('## Turn 3: correction (attempt 2)');
  });

  it('ends an over-budget job with "budget exceeded": the proxy refuses the next request, and the usage is recorded', async () => {
    const codex = await runner(
      [
        { items: [{ exec: 'echo one' }], usage: { inputTokens: 100, outputTokens: 10 } },
        { items: [{ exec: 'echo two' }], usage: { inputTokens: 100, outputTokens: 10 } },
        { items: [{ message: 'never sent' }] },
      ],
      { codex: { maxTokens: 150 } },
    );

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result).toMatchObject({ exitCode: 1, timedOut: false });
    expect(result.error).toBe('budget exceeded: the job used 220 tokens of its budget of 150');
    expect(result.output).toContain('budget exceeded');
    // The third request never reached the model; what the first two cost is on record.
    expect(requests()).toHaveLength(2);
    expect(result.usage).toMatchObject({ inputTokens: 200, outputTokens: 20, turns: 1 });
    expect(JSON.parse(await meta('usage.json'))).toMatchObject({ inputTokens: 200, outputTokens: 20 });
  });

  it('takes the route budget from the run request when it is lower than AGENT_MAX_TOKENS', async () => {
    const codex = await runner([{ items: [{ exec: 'echo one' }], usage: { inputTokens: 100, outputTokens: 10 } }, { items: [{ message: 'never sent' }] }], {
      codex: { maxTokens: 1_000_000 },
    });

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1, maxTokens: 50 });

    expect(result.error).toBe('budget exceeded: the job used 110 tokens of its budget of 50');
    expect(requests()).toHaveLength(1);
  });

  it('treats "Reconnecting... n/5" notices as notices: a turn that recovers after retries succeeds', async () => {
    const codex = await runner([
      { fail: { status: 403, message: 'scripted: try again' } },
      { fail: { status: 403, message: 'scripted: try again' } },
      { items: [{ message: 'Nothing to change.' }] },
      ...endingReportTurns('true'),
    ]);

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    const transcript = await meta('transcript.md');
    expect(transcript).toMatch(/\*\*Retrying:\*\* Reconnecting\.\.\. 1\/\d/);
    expect(transcript).toMatch(/\*\*Retrying:\*\* Reconnecting\.\.\. 2\/\d/);
  });

  it('a model error after the last retry is a failed run carrying the error, and no ending report is asked for', async () => {
    const codex = await runner([{ fail: { status: 400, message: 'scripted: this model does not exist' } }]);

    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(1);
    expect(result.error).toBeUndefined();
    expect(result.output).toContain('codex failed in turn 1 (task)');
    expect(result.output).toContain('scripted: this model does not exist');
    expect(requests()).toHaveLength(1);
  });

  it('stops before exceeding AGENT_MAX_TURNS across attempts', async () => {
    const codex = await runner([...taskTurns(), ...endingReportTurns('maybe')], { codex: { maxTurns: 2 } });
    expect((await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 })).exitCode).toBe(0);

    const second = await codex.run({ workDir, prompt: retryPrompt(1, ['fix it']), attempt: 2 });

    expect(second.exitCode).toBe(1);
    expect(second.output).toContain("stopped before turn 3: the job's turn limit (AGENT_MAX_TURNS=2) is reached");
    expect(requests()).toHaveLength(4);
  });

  it('fails clearly when TASK.md is missing, without starting codex', async () => {
    await rm(join(workDir, 'TASK.md'));
    const codex = await runner([]);
    const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

    expect(result.exitCode).toBe(1);
    expect(result.output).toContain('TASK.md is missing from the work directory');
    expect(requests()).toEqual([]);
  });

  describe('with the fake executable, for what the real CLI cannot be made to do', () => {
    let logFile: string;

    beforeEach(async () => {
      logFile = await agentWritableFile(join(root, 'fake-codex.log'));
      process.env['FAKE_CODEX_LOG'] = logFile;
    });

    it('a codex process that exits non-zero without events is a failed run with its stderr', async () => {
      process.env['FAKE_CODEX_SCENARIO'] = 'crash';
      const codex = await runner([], { codex: { path: FAKE_CODEX } });
      const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

      expect(result.exitCode).toBe(1);
      expect(result.output).toMatch(/codex failed in turn 1 \(task\): Codex Exec exited with code 3: fake codex: crashing on purpose/);
      expect(existsSync(join(workDir, 'agent-meta', 'transcript.md'))).toBe(true);
    });

    it('a missing codex executable is a failed run, not a crash of the worker', async () => {
      const codex = await runner([], { codex: { path: join(root, 'no-such-codex') } });
      const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });

      expect(result.exitCode).toBe(1);
      // Spawned directly, codex's absence is ENOENT; through the run-as-agent wrapper, setpriv says so.
      expect(result.output).toMatch(/ENOENT|setpriv: failed to execute \S+no-such-codex: No such file or directory/);
    });

    it("kills codex when the job's wall time runs out and reports a timeout", async () => {
      process.env['FAKE_CODEX_SCENARIO'] = 'hang';
      const codex = await runner([], { codex: { path: FAKE_CODEX }, agentTimeoutMs: 1_500 });
      const started = Date.now();
      const result = await codex.run({ workDir, prompt: FIRST_PROMPT, attempt: 1 });
      const elapsed = Date.now() - started;

      expect(result).toMatchObject({ exitCode: null, timedOut: true });
      expect(result.output).toContain("the job's wall-time limit (AGENT_TIMEOUT_MS=1500) was reached during turn 1");
      expect(elapsed).toBeGreaterThanOrEqual(1_500);
      expect(elapsed).toBeLessThan(10_000);
      const [invocation, ...more] = fakeCodexInvocations(logFile);
      expect(more).toEqual([]);
      expect(isAlive(invocation?.pid ?? 0)).toBe(false);
      const transcript = await meta('transcript.md');
      expect(transcript).toContain('**Command** (did not finish):\n\n```\n$ make forever\n```');
    });
  });
});
