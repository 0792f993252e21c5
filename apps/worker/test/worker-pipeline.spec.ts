import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { extractArchiveSafely, workerV1 } from '@agent-conductor/contracts';
import { status } from '@grpc/grpc-js';
import { runWorker } from '../src/bootstrap';
import type { WorkerConfig } from '../src/config/env.validators';
import { FakeConductor, writeTaskFiles } from './support/fake-conductor';
import { createBareRemote, git } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir } from './support/isolation';

jest.setTimeout(60_000);

const DEMO_AGENT = resolve(__dirname, '../../../tools/demo-agent/demo-agent.sh');
const WORKER_ID = 'w-7';
const TOKEN = 'tok_3f9a1c5e7b2d4f6a8c0e1d3b5f7a9c2e';
const TASK_MD = '# ABC-12: Fix order total rounding\n\n- **Type:** Bug\n\n## Description\n\nOrder totals are rounded per line instead of once.\n';
const AGENTS_MD = '# Working agreement\n\nFollow the work-directory protocol.\n';

/** Every regular file below dir (including git internals), as paths relative to dir. */
function allFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relativePath = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return allFiles(dir, relativePath);
    return entry.isFile() ? [relativePath] : [];
  });
}

function filesContaining(dir: string, needle: string): string[] {
  return allFiles(dir).filter((file) => readFileSync(join(dir, file)).includes(needle));
}

describe('worker pipeline against a fake conductor', () => {
  let root: string;
  let remote: string;
  let workDir: string;
  let conductor: FakeConductor | undefined;
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    root = await agentReachableTempDir('worker-spec-');
    remote = createBareRemote(root);
    workDir = join(root, 'work');
    // The agent is spawned from this process: a token in our environment must not reach it.
    process.env['WORKER_TOKEN'] = TOKEN;
    process.env['DEPLOY_API_KEY'] = TOKEN;
  });

  afterEach(async () => {
    await conductor?.stop();
    conductor = undefined;
    process.env = { ...savedEnv };
    await rm(root, { recursive: true, force: true });
  });

  async function startConductor(
    options: { unavailableHandshakes?: number; unavailableUploads?: number; uploadFailureCode?: status; restartDuringUploadMs?: number; sparsePaths?: string[] } = {},
  ): Promise<FakeConductor> {
    const { taskDir, scratchDir } = await writeTaskFiles(root, { task: TASK_MD, agents: AGENTS_MD });
    conductor = await new FakeConductor({
      workerId: WORKER_ID,
      token: TOKEN,
      taskDir,
      scratchDir,
      repository: { cloneUrl: remote, defaultBranch: 'main', sparsePaths: options.sparsePaths ?? [], name: 'acme/sample-app' },
      heartbeatIntervalMs: 100,
      unavailableHandshakes: options.unavailableHandshakes,
      unavailableUploads: options.unavailableUploads,
      uploadFailureCode: options.uploadFailureCode,
      restartDuringUploadMs: options.restartDuringUploadMs,
    }).start();
    return conductor;
  }

  function config(fake: FakeConductor, agentCommand: string, overrides: Partial<WorkerConfig> = {}): WorkerConfig {
    return {
      workerId: WORKER_ID,
      token: TOKEN,
      conductorAddress: fake.address,
      workDir,
      agentKind: 'command',
      agentCommand,
      maxAgentAttempts: 4,
      agentTimeoutMs: 30_000,
      publisher: 'local',
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 20_000,
      agentIsolation: AGENT_ISOLATION,
      ...overrides,
    };
  }

  const demo = (behaviour: string): string => `DEMO_AGENT_BEHAVIOUR=${behaviour} sh '${DEMO_AGENT}'`;

  async function extractUpload(fake: FakeConductor): Promise<string> {
    if (!fake.uploadPath) throw new Error('no upload was received');
    const dest = join(root, 'uploaded');
    await extractArchiveSafely(fake.uploadPath, dest);
    return dest;
  }

  it('succeeds: pushes worker/<id>/<branch>, records the PR, uploads the work dir, and keeps the token out of everything', async () => {
    const fake = await startConductor();
    // The agent dumps its environment into the work dir, so a leaked token would be found below.
    const outcome = await runWorker(config(fake, `env > agent-meta-env.txt; sleep 0.4; ${demo('succeed')}`), { logger: false });

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    const branch = `worker/${WORKER_ID}/agent/abc-12-fix-order-total-rounding`;
    expect(fake.shutdownRequest).toEqual({
      credentials: { workerId: WORKER_ID, token: fake.sessionToken },
      outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED,
      // The summary is what later agents on the repository read of this one: its ending report, short as it is.
      result: { branch, pullRequest: `${remote}#${branch}`, report: '', title: 'ABC-12: Fix order total rounding', summary: (await readFile(join(workDir, 'agent-meta', 'ending-report.md'), 'utf8')).trim(), agentThreadId: '', changes: [] },
      error: '',
      // A command agent: its time (it sleeps 0.4 s), no tokens, no model.
      // It saves no session for a follow-up: no thread, no context reused (docs/context-reuse.md).
      usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, turns: 0, durationMs: expect.any(Number), model: '', contextReused: false },
    });
    expect(fake.shutdownRequest?.usage?.durationMs).toBeGreaterThanOrEqual(400);
    expect(fake.rejected).toEqual([]);
    expect(fake.methods()[0]).toBe('Handshake');
    expect(fake.methods().slice(1, 2)).toEqual(['DownloadTaskFiles']);
    // Heartbeats may interleave up to the Shutdown; nothing may follow it.
    expect(fake.methods().filter((method) => method !== 'Heartbeat').slice(-2)).toEqual(['UploadResults', 'Shutdown']);
    expect(fake.methods().at(-1)).toBe('Shutdown');
    expect(fake.agentErrors).toEqual([]);
    expect(fake.heartbeats.some((beat) => beat.phase === workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING)).toBe(true);

    // The remote has the branch with the agent's commit on top of main.
    const log = git(remote, ['log', '--format=%s', `refs/heads/${branch}`]).trim().split('\n');
    expect(log).toEqual(['ABC-12: Fix order total rounding', 'Initial sample app']);
    expect(git(remote, ['show', `${branch}:docs/tasks/ABC-12.md`])).toContain('Order totals are rounded per line instead of once.');
    expect(git(remote, ['show', `${branch}:CHANGELOG.md`])).toContain('ABC-12: Fix order total rounding');

    const pr = JSON.parse(await readFile(join(workDir, 'publication', 'pull-request.json'), 'utf8')) as Record<string, string>;
    expect(pr).toMatchObject({ title: 'ABC-12: Fix order total rounding', head: branch, base: 'main' });
    expect(pr['body']).toContain('docs/tasks/ABC-12.md');
    expect(existsSync(join(workDir, 'publication', 'failure-report.json'))).toBe(false);

    const uploaded = await extractUpload(fake);
    const uploadedFiles = allFiles(uploaded);
    expect(uploadedFiles).toEqual(expect.arrayContaining(['TASK.md', 'AGENTS.md', 'agent-meta/WAS_JOB_SUCCESSFUL', 'agent-meta/meta-info.txt', 'agent-meta/ending-report.md', 'publication/pull-request.json', 'repo/docs/tasks/ABC-12.md']));
    expect(uploadedFiles.filter((file) => file.split('/').includes('.git'))).toEqual([]);

    // The agent saw neither the token nor anything named like a secret.
    const agentEnv = await readFile(join(workDir, 'agent-meta-env.txt'), 'utf8');
    expect(agentEnv).toContain('AGENT_PROMPT_FILE=');
    expect(agentEnv).not.toMatch(/WORKER_TOKEN|DEPLOY_API_KEY/);
    expect(filesContaining(workDir, TOKEN)).toEqual([]);
    expect(filesContaining(uploaded, TOKEN)).toEqual([]);
    expect(filesContaining(workDir, fake.sessionToken)).toEqual([]);
    expect(agentEnv).not.toContain(fake.sessionToken);
    expect(git(remote, ['config', '--list'])).not.toContain(TOKEN);

    // Heartbeats stop with the job.
    const beats = fake.heartbeats.length;
    await new Promise((r) => setTimeout(r, 350));
    expect(fake.heartbeats.length).toBe(beats);
  });

  it('agent concludes with a report: records the incident report, pushes nothing, ends SUCCEEDED with result.report', async () => {
    const fake = await startConductor();
    const outcome = await runWorker(config(fake, demo('report')), { logger: false });

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(fake.shutdownRequest).toMatchObject({ outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(fake.shutdownRequest?.result).toMatchObject({ branch: '', pullRequest: '', report: `${remote}#incident-report/job-1`, title: 'ABC-12: Fix order total rounding' });
    expect(fake.shutdownRequest?.result?.summary).toContain('DEMO_AGENT_BEHAVIOUR=report');
    const report = JSON.parse(await readFile(join(workDir, 'publication', 'incident-report.json'), 'utf8')) as Record<string, string>;
    expect(report).toMatchObject({ kind: 'local-incident-report', reference: `${remote}#incident-report/job-1`, title: 'ABC-12: Fix order total rounding' });
    expect(report['body']).toContain('DEMO_AGENT_BEHAVIOUR=report');
    expect(existsSync(join(workDir, 'publication', 'pull-request.json'))).toBe(false);
    expect(existsSync(join(workDir, 'publication', 'failure-report.json'))).toBe(false);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim()).toBe('refs/heads/main');
  });

  it('agent reports failure: records a failure report, opens no PR, ends FAILED', async () => {
    const fake = await startConductor();
    const outcome = await runWorker(config(fake, demo('fail')), { logger: false });

    expect(outcome.reported).toBe(true);
    expect(fake.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(fake.shutdownRequest?.error).toBe('agent reported the job failed: ABC-12: Fix order total rounding');
    expect(fake.shutdownRequest?.result).toMatchObject({ branch: '', pullRequest: '', report: `${remote}#agent-failed/${WORKER_ID}`, title: 'ABC-12: Fix order total rounding' });
    expect(fake.shutdownRequest?.result?.summary).toContain('DEMO_AGENT_BEHAVIOUR=fail');
    const report = JSON.parse(await readFile(join(workDir, 'publication', 'failure-report.json'), 'utf8')) as Record<string, string>;
    expect(report['title']).toBe('[agent-failed] ABC-12: Fix order total rounding');
    expect(report['body']).toContain('DEMO_AGENT_BEHAVIOUR=fail');
    expect(existsSync(join(workDir, 'publication', 'pull-request.json'))).toBe(false);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim()).toBe('refs/heads/main');
    expect(fake.uploadPath).toBeDefined();
  });

  it('re-prompts with the exact validation errors and succeeds on the second attempt', async () => {
    const fake = await startConductor();
    const outcome = await runWorker(config(fake, demo('invalid-first')), { logger: false });

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(await readFile(join(workDir, 'agent-meta', 'prompt-attempt-1.md'), 'utf8')).toBe('Do the task in TASK.md following AGENTS.md\n');
    const second = await readFile(join(workDir, 'agent-meta', 'prompt-attempt-2.md'), 'utf8');
    expect(second).toContain('- agent-meta/ending-report.md is missing\n');
    expect(second).toContain('- repo/ has uncommitted changes (git status --porcelain): ?? scratch-notes.txt\n');
    expect(existsSync(join(workDir, 'agent-meta', 'prompt-attempt-3.md'))).toBe(false);
    expect(fake.agentErrors).toEqual([]);
  });

  it('fails after MAX_AGENT_ATTEMPTS when the artifacts never validate', async () => {
    const fake = await startConductor();
    const outcome = await runWorker(config(fake, demo('invalid-always')), { logger: false });

    expect(outcome.reported).toBe(true);
    const expectedError = 'agent-meta/WAS_JOB_SUCCESSFUL must contain exactly "true" or "false", found "maybe\\n"';
    expect(fake.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(fake.shutdownRequest?.error).toBe(`artifact validation failed after 4 attempts: ${expectedError}`);
    expect(fake.agentErrors).toEqual([expect.objectContaining({ stage: 'validation', message: expect.stringContaining(expectedError) })]);
    expect(existsSync(join(workDir, 'agent-meta', 'prompt-attempt-4.md'))).toBe(true);
    expect(existsSync(join(workDir, 'agent-meta', 'prompt-attempt-5.md'))).toBe(false);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim()).toBe('refs/heads/main');
  });

  it('a crashing agent is reported at stage "agent" and the job ends FAILED without a re-prompt', async () => {
    const fake = await startConductor();
    const outcome = await runWorker(config(fake, demo('crash')), { logger: false });

    expect(outcome.reported).toBe(true);
    expect(fake.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(fake.shutdownRequest?.error).toBe('agent exited with code 3');
    expect(fake.agentErrors).toHaveLength(1);
    expect(fake.agentErrors[0]?.stage).toBe('agent');
    expect(fake.agentErrors[0]?.message).toContain('crashing on purpose');
    expect(existsSync(join(workDir, 'agent-meta', 'prompt-attempt-2.md'))).toBe(false);
  });

  it("redacts token shapes and the worker's own secrets from the output tail it reports and from the shutdown error", async () => {
    const fake = await startConductor();
    const github = `ghp_${'Ab1'.repeat(12)}`;
    const openai = `sk-proj-${'Xy9_'.repeat(20)}`;
    const agent = `echo "found ${github} and ${openai}"; echo "Authorization: token ${TOKEN}"; echo '{"input_tokens": 1200, "output_tokens": 34}'; exit 5`;
    await runWorker(config(fake, agent), { logger: false });

    const reported = fake.agentErrors[0]?.message ?? '';
    expect(reported).toContain('found [REDACTED] and [REDACTED]');
    expect(reported).toContain('Authorization: token [REDACTED]');
    expect(reported).toContain('{"input_tokens": 1200, "output_tokens": 34}');
    for (const secret of [github, openai, TOKEN]) expect(JSON.stringify([fake.agentErrors, fake.shutdownRequest])).not.toContain(secret);
  });

  it('uploads no file an artifact symlink points at, and reports the links as validation errors', async () => {
    const secretDir = await mkdtemp(join(tmpdir(), 'worker-spec-secret-'));
    const secret = 'secret-file-content-9f8e7d6c';
    await writeFile(join(secretDir, 'secret'), secret, { mode: 0o600 });
    try {
      const fake = await startConductor();
      const agent = `mkdir -p agent-meta && echo true > agent-meta/WAS_JOB_SUCCESSFUL && echo Title > agent-meta/meta-info.txt && ln -sf ${secretDir}/secret agent-meta/ending-report.md && ln -s ${secretDir} stolen && ln -s /proc/1/environ environ`;
      const outcome = await runWorker(config(fake, agent, { maxAgentAttempts: 1 }), { logger: false });

      expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
      expect(fake.agentErrors.map((error) => error.message).join('\n')).toContain('agent-meta/ending-report.md is a symbolic link; write a regular file');
      const uploaded = await extractUpload(fake);
      expect(existsSync(join(uploaded, 'agent-meta', 'meta-info.txt'))).toBe(true);
      expect(existsSync(join(uploaded, 'agent-meta', 'ending-report.md'))).toBe(false);
      expect(existsSync(join(uploaded, 'stolen'))).toBe(false);
      expect(filesContaining(uploaded, secret)).toEqual([]);
      expect(JSON.stringify([fake.agentErrors, fake.shutdownRequest])).not.toContain(secret);
    } finally {
      await rm(secretDir, { recursive: true, force: true });
    }
  });

  it('an agent that runs too long is killed and reported', async () => {
    const fake = await startConductor();
    const outcome = await runWorker(config(fake, 'sleep 30', { agentTimeoutMs: 300 }), { logger: false });

    expect(outcome.reported).toBe(true);
    expect(fake.shutdownRequest?.error).toBe('agent timed out after 300 ms');
    expect(fake.agentErrors[0]?.stage).toBe('agent');
  });

  it('stops a sleeping agent when a heartbeat answers stop_requested, uploads what it has, publishes nothing and ends FAILED', async () => {
    const fake = await startConductor();
    const running = (async (): Promise<void> => {
      while (!fake.heartbeats.some((beat) => beat.phase === workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING)) await new Promise((resolve) => setTimeout(resolve, 50));
      fake.stopRequested = true;
    })();
    const started = Date.now();
    const outcome = await runWorker(config(fake, `DEMO_AGENT_SLEEP_SECONDS=120 ${demo('succeed')}`, { agentTimeoutMs: 300_000 }), { logger: false });
    await running;

    // The agent would have slept two minutes.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED });
    expect(fake.shutdownRequest?.error).toBe('stopped: the conductor asked this worker to stop (the job was cancelled)');
    // A cancel is not the agent's failure: nothing reported as one.
    expect(fake.agentErrors).toEqual([]);
    expect(fake.uploadPath).toBeDefined();
    const uploaded = await extractUpload(fake);
    expect(existsSync(join(uploaded, 'TASK.md'))).toBe(true);
    expect(git(remote, ['for-each-ref', '--format=%(refname)', 'refs/heads']).trim()).toBe('refs/heads/main');
  });

  it('retries the handshake while the conductor is UNAVAILABLE', async () => {
    const fake = await startConductor({ unavailableHandshakes: 2 });
    const outcome = await runWorker(config(fake, demo('succeed')), { logger: false });

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(fake.methods().slice(0, 4)).toEqual(['Handshake', 'Handshake', 'Handshake', 'DownloadTaskFiles']);
  });

  it('uses the launch token for the Handshake only, and the session token it got back for every later call', async () => {
    const fake = await startConductor();
    const outcome = await runWorker(config(fake, demo('succeed')), { logger: false });

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(fake.rejected).toEqual([]);
    const [handshake, ...later] = fake.calls;
    expect(handshake?.credentials).toEqual({ workerId: WORKER_ID, token: TOKEN });
    expect(later.map((call) => call.method)).toEqual(expect.arrayContaining(['DownloadTaskFiles', 'Heartbeat', 'UploadResults', 'Shutdown']));
    expect(later.filter((call) => call.credentials?.token !== fake.sessionToken)).toEqual([]);
  });

  it.each([
    ['UNAVAILABLE', status.UNAVAILABLE],
    // The conductor still held the previous attempt of a dropped connection.
    ['ABORTED', status.ABORTED],
  ])('sends the upload again, from the first chunk, while the conductor answers %s', async (_name, code) => {
    const fake = await startConductor({ unavailableUploads: 2, uploadFailureCode: code });
    const outcome = await runWorker(config(fake, demo('succeed')), { logger: false });

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(fake.uploadAttempts).toBe(3);
    expect(fake.methods().filter((method) => method === 'UploadResults')).toHaveLength(3);
    const uploaded = await extractUpload(fake);
    expect(allFiles(uploaded)).toEqual(expect.arrayContaining(['TASK.md', 'agent-meta/ending-report.md']));
  });

  it('rides out a conductor restart in the middle of the upload (CANCELLED, then ECONNREFUSED) and uploads again', async () => {
    const fake = await startConductor({ restartDuringUploadMs: 1_500 });
    // Incompressible output makes the upload several chunks long, so the conductor dies while it is being written.
    const outcome = await runWorker(config(fake, `head -c 400000 /dev/urandom > noise.bin; ${demo('succeed')}`), { logger: false });

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, error: '' });
    expect(fake.uploadAttempts).toBe(2);
    expect(fake.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    const uploaded = await extractUpload(fake);
    expect(statSync(join(uploaded, 'noise.bin')).size).toBe(400_000);
  });

  it('checks out only the sparse paths, and the agent can still commit outside them', async () => {
    const fake = await startConductor({ sparsePaths: ['src'] });
    const outcome = await runWorker(config(fake, demo('succeed')), { logger: false });

    expect(outcome.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect(git(join(workDir, 'repo'), ['sparse-checkout', 'list']).trim()).toBe('src');
    expect(existsSync(join(workDir, 'repo', 'src', 'orders.ts'))).toBe(true);
    const branch = `worker/${WORKER_ID}/agent/abc-12-fix-order-total-rounding`;
    expect(git(remote, ['show', `${branch}:docs/tasks/ABC-12.md`])).toContain('# ABC-12: Fix order total rounding');
    // The sparse checkout leaves files out of the tree, not out of the commit.
    expect(git(remote, ['show', `${branch}:README.md`])).toBe('# Sample app\n');
  });

  it('cannot report when the conductor rejects the credentials', async () => {
    const fake = await startConductor();
    const outcome = await runWorker({ ...config(fake, demo('succeed')), token: 'wrong' }, { logger: false });

    expect(outcome.reported).toBe(false);
    expect(outcome.error).toContain('handshake failed');
    expect(fake.methods()).toEqual(['Handshake']);
  });

  it('a failing clone is reported at stage "clone" with a recorded reason', async () => {
    const fake = await startConductor();
    await rm(remote, { recursive: true, force: true });
    const outcome = await runWorker(config(fake, demo('succeed')), { logger: false });

    expect(outcome.reported).toBe(true);
    expect(fake.agentErrors[0]?.stage).toBe('clone');
    expect(fake.shutdownRequest?.outcome).toBe(workerV1.JobOutcome.JOB_OUTCOME_FAILED);
    expect(fake.shutdownRequest?.error).toMatch(/^clone failed: git clone/);
    expect(statSync(workDir).isDirectory()).toBe(true);
  });
});
