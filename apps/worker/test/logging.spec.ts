import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runWorker } from '../src/bootstrap';
import { redactSecrets } from '@agent-conductor/contracts';
import { createWorkerLogger } from '../src/logging/worker-logger';
import { FakeConductor, writeTaskFiles } from './support/fake-conductor';
import { createBareRemote } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir } from './support/isolation';

jest.setTimeout(60_000);

const DEMO_AGENT = resolve(__dirname, '../../../tools/demo-agent/demo-agent.sh');
const WORKER_ID = '6b0f1c8e-2a4d-4e9b-8c7a-1d2e3f4a5b6c';
const TOKEN = 'Zk3q9XWb1vN7pL2mR8sT4uY6cD0eF5gH9jK1lM3nB7a';

describe('worker logs: JSON lines with workerId and jobId, never the token', () => {
  let root: string;
  let conductor: FakeConductor | undefined;

  beforeEach(async () => {
    root = await agentReachableTempDir('worker-logging-spec-');
  });

  afterEach(async () => {
    await conductor?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('runs a real job against a fake conductor and logs every step as one JSON object per line', async () => {
    const { taskDir, scratchDir } = await writeTaskFiles(root, { task: '# ABC-12: Fix order total rounding\n\nOrder totals are rounded per line.\n' });
    const remote = createBareRemote(root);
    conductor = await new FakeConductor({
      workerId: WORKER_ID,
      token: TOKEN,
      taskDir,
      scratchDir,
      repository: { cloneUrl: remote, defaultBranch: 'main', sparsePaths: [], name: 'acme/sample-app' },
      heartbeatIntervalMs: 100,
    }).start();
    const config = {
      workerId: WORKER_ID,
      token: TOKEN,
      conductorAddress: conductor.address,
      workDir: join(root, 'work'),
      agentKind: 'command' as const,
      agentCommand: `DEMO_AGENT_BEHAVIOUR=succeed sh '${DEMO_AGENT}'`,
      maxAgentAttempts: 4,
      agentTimeoutMs: 30_000,
      publisher: 'local' as const,
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 20_000,
      agentIsolation: AGENT_ISOLATION,
    };
    const lines: string[] = [];
    const logger = createWorkerLogger(config, { LOG_FORMAT: 'json' }, (line) => lines.push(line));
    // A careless line of our own, as a regression would write it.
    const outcome = await runWorker(config, { logger });
    logger.log(`spawned with WORKER_TOKEN=${TOKEN}`, 'Probe');
    logger.warn({ msg: 'credentials', credentials: { workerId: WORKER_ID, token: TOKEN } }, 'Probe');

    expect(outcome.reported).toBe(true);
    const output = lines.join('');
    expect(output).not.toContain(TOKEN);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(3);
    expect(records.every((record) => record['workerId'] === WORKER_ID && record['service'] === 'worker')).toBe(true);
    const afterHandshake = records.findIndex((record) => record['jobId'] === 'job-1');
    expect(afterHandshake).toBeGreaterThanOrEqual(0);
    expect(records.slice(afterHandshake).every((record) => record['jobId'] === 'job-1')).toBe(true);
    expect(records.find((record) => record['context'] === 'WorkerRunner')).toMatchObject({ level: 'info', msg: expect.stringContaining('Job job-1') });
  });

  it('keeps usage counters (input_tokens, max_tokens) and still hides assigned secrets', () => {
    const line = '{"usage":{"input_tokens":1200,"cached_input_tokens":300,"output_tokens":45},"max_tokens":5000,"api_key":"abc123def","session_token":"s3cr3tvalue"} GITHUB_TOKEN=ghx_value';

    const redacted = redactSecrets(line);

    expect(redacted).toContain('"input_tokens":1200');
    expect(redacted).toContain('"cached_input_tokens":300');
    expect(redacted).toContain('"output_tokens":45');
    expect(redacted).toContain('"max_tokens":5000');
    expect(redacted).not.toContain('abc123def');
    expect(redacted).not.toContain('s3cr3tvalue');
    expect(redacted).not.toContain('ghx_value');
  });

  it('hides the model API key read from the environment', () => {
    const lines: string[] = [];
    const logger = createWorkerLogger({ workerId: WORKER_ID, token: TOKEN }, { LOG_FORMAT: 'json', OPENAI_API_KEY: 'sk-proj-logspec0a1b2c3d4e5f' }, (line) => lines.push(line));
    logger.log('upstream said: invalid key sk-proj-logspec0a1b2c3d4e5f', 'Probe');
    expect(lines.join('')).not.toContain('sk-proj-logspec0a1b2c3d4e5f');
    expect(lines.join('')).toContain('[REDACTED]');
  });
});
