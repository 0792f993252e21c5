import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { extractArchiveSafely, workerV1 } from '@agent-conductor/contracts';
import { startScriptedModel, type ScriptedModel, type ScriptedTurn } from '@agent-conductor/testing';
import { runWorker } from '../src/bootstrap';
import type { WorkerConfig } from '../src/config/env.validators';
import { BRANCH, COMMIT_SUBJECT, correctionTurns, endingReportTurns, lastUserText, taskTurns } from './support/codex-scripts';
import { FakeConductor, writeTaskFiles } from './support/fake-conductor';
import { FAKE_CODEX, filesContaining } from './support/fake-codex-fixtures';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir, agentWritableFile } from './support/isolation';

// The real codex CLI starts in about a second per turn; a loaded machine makes that several.
jest.setTimeout(120_000);

const WORKER_ID = 'w-7';
const TOKEN = 'tok_5b8e2d1f7c3a9e6b4d0f2a8c6e1b3d5f';
const API_KEY = 'sk-pipeline-3a7c1e9b5d2f8a4c6e0b1d3f5a7c9e2b';
const TASK_MD = '# ABC-12: Fix order total rounding\n\nOrder totals are rounded per line instead of once.\n';
const AGENTS_MD = '# Working agreement\n\nFollow the work-directory protocol.\n';

describe('worker pipeline with AGENT_KIND=codex: the real codex CLI, a scripted model behind the proxy, a fake conductor', () => {
  let root: string;
  let remote: string;
  let workDir: string;
  let conductor: FakeConductor | undefined;
  let model: ScriptedModel | undefined;
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    root = await agentReachableTempDir('codex-pipeline-spec-');
    remote = createBareRemote(root);
    workDir = join(root, 'work');
    process.env['WORKER_TOKEN'] = TOKEN;
    process.env['OPENAI_API_KEY'] = API_KEY;
    await writeTaskFiles(root, { task: TASK_MD, agents: AGENTS_MD });
  });

  afterEach(async () => {
    await conductor?.stop();
    await model?.close();
    conductor = undefined;
    model = undefined;
    process.env = { ...savedEnv };
    await rm(root, { recursive: true, force: true });
  });

  async function startConductor(maxTokens = 0): Promise<FakeConductor> {
    conductor = await new FakeConductor({
      workerId: WORKER_ID,
      token: TOKEN,
      taskDir: join(root, 'task'),
      scratchDir: join(root, 'conductor'),
      repository: { cloneUrl: remote, defaultBranch: 'main', sparsePaths: [], name: 'acme/sample-app' },
      heartbeatIntervalMs: 100,
      maxTokens,
    }).start();
    return conductor;
  }

  /** The scripted model takes only the real key: whatever reaches it came through the worker's proxy. */
  async function run(turns: ScriptedTurn[], overrides: Partial<WorkerConfig> = {}, codex: Partial<NonNullable<WorkerConfig['codex']>> = {}): ReturnType<typeof runWorker> {
    if (!conductor) await startConductor();
    if (!conductor) throw new Error('no conductor');
    model = await startScriptedModel(turns, { apiKey: API_KEY });
    return runWorker(
      {
        workerId: WORKER_ID,
        token: TOKEN,
        conductorAddress: conductor.address,
        workDir,
        agentKind: 'codex',
        agentCommand: '',
        maxAgentAttempts: 4,
        agentTimeoutMs: 90_000,
        codex: { model: undefined, path: undefined, baseUrl: model.baseUrl, maxTurns: 40, maxTokens: undefined, ...codex },
        publisher: 'local',
        gitAuthorName: 'Agent Conductor',
        gitAuthorEmail: 'agent-conductor@localhost',
        conductorRetryWindowMs: 20_000,
        agentIsolation: AGENT_ISOLATION,
        ...overrides,
      },
      { logger: false },
    );
  }

  it('succeeds: codex commits, the branch is pushed, transcript and usage are uploaded, and no secret leaks', async () => {
    const outcome = await run([...taskTurns(), ...endingReportTurns('true')]);

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    const branch = `worker/${WORKER_ID}/${BRANCH}`;
    expect(conductor?.shutdownRequest?.result).toMatchObject({ branch, title: 'ABC-12: Round order totals once' });
    expect(git(remote, ['log', '--format=%s', `refs/heads/${branch}`]).trim().split('\n')).toEqual([COMMIT_SUBJECT, 'Initial sample app']);
    expect(conductor?.agentErrors).toEqual([]);

    if (!conductor?.uploadPath) throw new Error('no upload was received');
    const uploaded = join(root, 'uploaded');
    await extractArchiveSafely(conductor.uploadPath, uploaded);
    const transcript = await readFile(join(uploaded, 'agent-meta', 'transcript.md'), 'utf8');
    expect(transcript).toContain(`git commit --quiet -m '${COMMIT_SUBJECT}'`);
    const usage = JSON.parse(await readFile(join(uploaded, 'agent-meta', 'usage.json'), 'utf8')) as Record<string, unknown>;
    expect(usage).toMatchObject({ inputTokens: 3200, cachedInputTokens: 1700, outputTokens: 410, turns: 2, model: null });
    // The same numbers reach the conductor with the Shutdown (the default model as '').
    expect(conductor?.shutdownRequest?.usage).toEqual({ ...usage, model: '', contextReused: false });

    // The thread is kept with the results for a follow-up to resume (docs/context-reuse.md).
    const threadId = model?.requests[0]?.headers['thread-id'];
    expect(conductor?.shutdownRequest?.result?.agentThreadId).toBe(threadId);
    expect(JSON.parse(await readFile(join(uploaded, 'agent-session', 'thread.json'), 'utf8'))).toMatchObject({ threadId });
    expect(conductor?.shutdownRequest?.usage?.contextReused).toBe(false);
    expect(model?.requests.map((request) => request.headers['authorization'])).toEqual([1, 2, 3, 4].map(() => `Bearer ${API_KEY}`));
    for (const secret of [API_KEY, TOKEN]) {
      expect(filesContaining(workDir, secret)).toEqual([]);
      expect(filesContaining(uploaded, secret)).toEqual([]);
    }
  });

  it('feeds validation errors back into the same codex thread and succeeds on the correction', async () => {
    const outcome = await run([...taskTurns(), ...endingReportTurns('maybe'), ...correctionTurns()]);

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    const requests = model?.requests ?? [];
    expect(requests).toHaveLength(6);
    const correction = requests[4];
    expect(lastUserText(correction)).toContain('- agent-meta/WAS_JOB_SUCCESSFUL must contain exactly "true" or "false", found "maybe\\n"');
    expect(correction?.headers['thread-id']).toBe(requests[0]?.headers['thread-id']);
    expect(conductor?.shutdownRequest?.usage).toMatchObject({ turns: 3, inputTokens: 4050, outputTokens: 475 });
  });

  it("ends a job over its route's token budget FAILED with \"budget exceeded\", its usage recorded", async () => {
    await startConductor(150);

    const outcome = await run(
      [
        { items: [{ exec: 'echo one' }], usage: { inputTokens: 100, outputTokens: 10 } },
        { items: [{ exec: 'echo two' }], usage: { inputTokens: 100, outputTokens: 10 } },
        ...endingReportTurns('true'),
      ],
      {},
      { maxTokens: 1_000_000 },
    );

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, error: 'budget exceeded: the job used 220 tokens of its budget of 150' });
    expect(conductor?.shutdownRequest?.error).toBe('budget exceeded: the job used 220 tokens of its budget of 150');
    expect(conductor?.shutdownRequest?.usage).toMatchObject({ inputTokens: 200, outputTokens: 20, turns: 1 });
    expect(conductor?.agentErrors).toEqual([expect.objectContaining({ stage: 'agent', message: expect.stringContaining('budget exceeded') })]);
    expect(model?.requests).toHaveLength(2);
  });

  it('a model error is reported as an agent error and the job ends FAILED', async () => {
    const outcome = await run([{ fail: { status: 400, message: 'scripted: quota exceeded for this key' } }]);

    expect(outcome.reported).toBe(true);
    expect(conductor?.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor?.shutdownRequest?.error).toBe('agent exited with code 1');
    expect(conductor?.agentErrors).toEqual([expect.objectContaining({ stage: 'agent', message: expect.stringContaining('scripted: quota exceeded for this key') })]);
  });

  it('a codex that outlives AGENT_TIMEOUT_MS is stopped and reported as timed out (fake executable: a hang)', async () => {
    process.env['FAKE_CODEX_SCENARIO'] = 'hang';
    process.env['FAKE_CODEX_LOG'] = await agentWritableFile(join(root, 'fake-codex.log'));
    const outcome = await run([], { agentTimeoutMs: 1_000 }, { path: FAKE_CODEX });

    expect(outcome.reported).toBe(true);
    expect(conductor?.shutdownRequest?.error).toBe('agent timed out after 1000 ms');
    expect(conductor?.agentErrors[0]?.message).toContain("the job's wall-time limit (AGENT_TIMEOUT_MS=1000) was reached during turn 1");
  });
});
