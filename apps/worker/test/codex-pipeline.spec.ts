import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractArchiveSafely, workerV1 } from '@agent-conductor/contracts';
import { runWorker } from '../src/bootstrap';
import type { WorkerConfig } from '../src/config/env.validators';
import { FakeConductor } from './support/fake-conductor';
import { FAKE_CODEX, fakeCodexInvocations, filesContaining } from './support/fake-codex-fixtures';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir, agentWritableFile } from './support/isolation';

jest.setTimeout(60_000);

const WORKER_ID = 'w-7';
const TOKEN = 'tok_5b8e2d1f7c3a9e6b4d0f2a8c6e1b3d5f';
const API_KEY = 'sk-pipeline-3a7c1e9b5d2f8a4c6e0b1d3f5a7c9e2b';
const TASK_MD = '# ABC-12: Fix order total rounding\n\nOrder totals are rounded per line instead of once.\n';
const AGENTS_MD = '# Working agreement\n\nFollow the work-directory protocol.\n';

describe('worker pipeline with AGENT_KIND=codex against a fake conductor and a fake codex', () => {
  let root: string;
  let remote: string;
  let workDir: string;
  let logFile: string;
  let conductor: FakeConductor | undefined;
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    root = await agentReachableTempDir('codex-pipeline-spec-');
    remote = createBareRemote(root);
    workDir = join(root, 'work');
    logFile = await agentWritableFile(join(root, 'fake-codex.log'));
    process.env['FAKE_CODEX_LOG'] = logFile;
    process.env['WORKER_TOKEN'] = TOKEN;
    const taskDir = join(root, 'task');
    const scratchDir = join(root, 'conductor');
    await mkdir(taskDir);
    await mkdir(scratchDir);
    await writeFile(join(taskDir, 'TASK.md'), TASK_MD);
    await writeFile(join(taskDir, 'AGENTS.md'), AGENTS_MD);
    conductor = await new FakeConductor({
      workerId: WORKER_ID,
      token: TOKEN,
      taskDir,
      scratchDir,
      repository: { cloneUrl: remote, defaultBranch: 'main', sparsePaths: [], name: 'acme/sample-app' },
      heartbeatIntervalMs: 100,
    }).start();
  });

  afterEach(async () => {
    await conductor?.stop();
    conductor = undefined;
    process.env = { ...savedEnv };
    await rm(root, { recursive: true, force: true });
  });

  function run(scenario: string, overrides: Partial<WorkerConfig> = {}): ReturnType<typeof runWorker> {
    if (!conductor) throw new Error('no conductor');
    process.env['FAKE_CODEX_SCENARIO'] = scenario;
    return runWorker(
      {
        workerId: WORKER_ID,
        token: TOKEN,
        conductorAddress: conductor.address,
        workDir,
        agentKind: 'codex',
        agentCommand: '',
        maxAgentAttempts: 4,
        agentTimeoutMs: 20_000,
        codex: { apiKey: API_KEY, model: undefined, path: FAKE_CODEX, baseUrl: undefined, maxTurns: 40 },
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
    const outcome = await run('leak');

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    const branch = `worker/${WORKER_ID}/agent/fake-codex-change`;
    expect(conductor?.shutdownRequest?.result).toMatchObject({ branch, title: 'ABC-12: Round order totals once' });
    expect(git(remote, ['log', '--format=%s', `refs/heads/${branch}`]).trim().split('\n')).toEqual(['Round order totals once', 'Initial sample app']);
    expect(conductor?.agentErrors).toEqual([]);

    if (!conductor?.uploadPath) throw new Error('no upload was received');
    const uploaded = join(root, 'uploaded');
    await extractArchiveSafely(conductor.uploadPath, uploaded);
    const transcript = await readFile(join(uploaded, 'agent-meta', 'transcript.md'), 'utf8');
    expect(transcript).toContain('$ git commit --quiet -m Round order totals once');
    expect(transcript).toContain('OPENAI_API_KEY=[REDACTED]');
    const usage = JSON.parse(await readFile(join(uploaded, 'agent-meta', 'usage.json'), 'utf8')) as Record<string, unknown>;
    expect(usage).toMatchObject({ inputTokens: 1500, cachedInputTokens: 300, outputTokens: 380, turns: 2, model: null });
    // The same numbers reach the conductor with the Shutdown (the default model as '').
    expect(conductor?.shutdownRequest?.usage).toEqual({ ...usage, model: '' });

    const invocations = fakeCodexInvocations(logFile);
    expect(invocations).toHaveLength(2);
    expect(invocations.map((invocation) => invocation.openaiApiKey)).toEqual([API_KEY, API_KEY]);
    expect(invocations.map((invocation) => invocation.workerToken)).toEqual([null, null]);
    for (const secret of [API_KEY, TOKEN]) {
      expect(filesContaining(workDir, secret)).toEqual([]);
      expect(filesContaining(uploaded, secret)).toEqual([]);
    }
  });

  it('feeds validation errors back into the same codex thread and succeeds on the correction', async () => {
    const outcome = await run('invalid-first');

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    const invocations = fakeCodexInvocations(logFile);
    expect(invocations).toHaveLength(3);
    expect(invocations[2]?.argv.slice(-2)).toEqual(['resume', `thread_fake_${invocations[0]?.pid}`]);
    expect(invocations[2]?.prompt).toContain('- agent-meta/WAS_JOB_SUCCESSFUL must contain exactly "true" or "false", found "maybe\\n"');
  });

  it('a failed codex turn is reported as an agent error and the job ends FAILED', async () => {
    const outcome = await run('turn-failed');

    expect(outcome.reported).toBe(true);
    expect(conductor?.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(conductor?.shutdownRequest?.error).toBe('agent exited with code 1');
    expect(conductor?.agentErrors).toEqual([expect.objectContaining({ stage: 'agent', message: expect.stringContaining('fake: quota exceeded for this key') })]);
  });

  it('a codex that outlives AGENT_TIMEOUT_MS is stopped and reported as timed out', async () => {
    const outcome = await run('hang', { agentTimeoutMs: 1_000 });

    expect(outcome.reported).toBe(true);
    expect(conductor?.shutdownRequest?.error).toBe('agent timed out after 1000 ms');
    expect(conductor?.agentErrors[0]?.message).toContain("the job's wall-time limit (AGENT_TIMEOUT_MS=1000) was reached during turn 1");
  });
});
