import { extractArchiveSafely, REDACTED, workerV1 } from '@agent-conductor/contracts';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runWorker } from '../src/bootstrap';
import type { WorkerConfig } from '../src/config/env.validators';
import { createWorkerLogger } from '../src/logging/worker-logger';
import { FakeConductor, writeTaskFiles } from './support/fake-conductor';
import { createBareRemote } from './support/git-fixtures';
import { AGENT_ISOLATION, agentReachableTempDir, isRoot } from './support/isolation';

jest.setTimeout(60_000);

const DEMO_AGENT = resolve(__dirname, '../../../tools/demo-agent/demo-agent.sh');
const WORKER_ID = 'w-aws';
const TOKEN = 'tok_awsSpecWorkerToken0123456789abcdef';

/** Two sessions: the first expires 5 min + 1.5 s from now, so the worker refreshes it 1.5 s into the run. */
function sessions(): workerV1.AgentAwsCredentials[] {
  const now = Date.now();
  return [
    { accessKeyId: 'ASIAFIRSTSESSION0001', secretAccessKey: 'first-secret-key-Zq81', sessionToken: 'first-session-token-Rk27', expiresAtUnixMs: now + 5 * 60_000 + 1_500, region: 'eu-central-1', account: '123456789012' },
    { accessKeyId: 'ASIASECONDSESSION002', secretAccessKey: 'second-secret-key-Lp44', sessionToken: 'second-session-token-Mw90', expiresAtUnixMs: now + 3_600_000, region: 'eu-central-1', account: '123456789012' },
  ];
}

const OTHER_ACCOUNT = '210987654321';

/** Another account of a grouped incident, in another region: its handshake session and its refreshed one. */
function otherSessions(): workerV1.AgentAwsCredentials[] {
  const now = Date.now();
  return [
    { accessKeyId: 'ASIAOTHERSESSION0001', secretAccessKey: 'other-first-secret-Hx31', sessionToken: 'other-first-token-Vb62', expiresAtUnixMs: now + 5 * 60_000 + 1_500, region: 'us-west-2', account: OTHER_ACCOUNT },
    { accessKeyId: 'ASIAOTHERSESSION0002', secretAccessKey: 'other-second-secret-Qe58', sessionToken: 'other-second-token-Jn07', expiresAtUnixMs: now + 3_600_000, region: 'us-west-2', account: OTHER_ACCOUNT },
  ];
}

/** The shell lines of one profile's section of the credentials file "$f". */
function section(profile: string): string {
  return `sed -n '/^\\[${profile}\\]$/,/^$/p' "$f"`;
}

async function waitFor(path: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function allFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return allFiles(dir, path);
    return entry.isFile() ? [path] : [];
  });
}

/**
 * A stand-in agent that uses its session the way the AWS CLI would: it reads the file its environment names, waits
 * until a refresh rewrote it, reports what it saw, then copies the session token into its ending report (the leak the
 * worker must redact).
 */
const AGENT = [
  'f="$AWS_SHARED_CREDENTIALS_FILE"',
  'echo "mode=$(stat -c %a:%u "$f") env=$AWS_CONFIG_FILE|$AWS_REGION" > aws-seen.txt',
  'grep -q "^aws_access_key_id = ASIAFIRSTSESSION0001$" "$f" && echo first=ok >> aws-seen.txt',
  'touch first-read',
  'i=0; while [ $i -lt 200 ] && ! grep -q ASIASECONDSESSION002 "$f"; do sleep 0.1; i=$((i+1)); done',
  'grep -q "^aws_session_token = second-session-token-Mw90$" "$f" && echo refreshed=ok >> aws-seen.txt',
  'grep -c "^region = eu-central-1$" "$AWS_CONFIG_FILE" >> aws-seen.txt',
  'env | grep -c -e ASIA -e secret-key -e session-token >> aws-seen.txt || true',
  'cp "$f" copied-credentials.txt',
  // What else could it find? Its environment, its session dir, and the worker's own environment through /proc.
  'env > agent-env.txt; ls -A "$(dirname "$f")" > aws-dir.txt',
  'cat /proc/$WORKER_PID/environ > worker-environ.txt 2>/dev/null || echo denied > worker-environ.txt',
  `DEMO_AGENT_BEHAVIOUR=succeed sh '${DEMO_AGENT}'`,
  // Bare values, with no `token:` or `key=` around them that a shape-based redaction could catch on its own.
  'echo "seen $(sed -n "s/^aws_session_token = //p" "$f") and $(sed -n "s/^aws_secret_access_key = //p" "$f")" >> agent-meta/ending-report.md',
].join('\n');

describe('the agent\'s AWS session (worker against a fake conductor)', () => {
  let root: string;
  let conductor: FakeConductor | undefined;

  beforeEach(async () => {
    root = await agentReachableTempDir('worker-aws-spec-');
  });

  const savedEnv = { ...process.env };

  afterEach(async () => {
    process.env = { ...savedEnv };
    await conductor?.stop();
    conductor = undefined;
    await rm(root, { recursive: true, force: true });
  });

  async function start(
    agentAwsSessions: workerV1.AgentAwsCredentials[] | undefined,
    agentAwsRefreshGate?: Promise<void>,
    otherAccountAwsSessions?: workerV1.AgentAwsCredentials[][],
  ): Promise<{ fake: FakeConductor; config: WorkerConfig; remote: string }> {
    const { taskDir, scratchDir } = await writeTaskFiles(root, { task: '# INC-1: Orders 5xx in 123456789012\n\n## Description\n\nThe 5xx alarm fired.\n' });
    const remote = createBareRemote(root);
    const fake = await new FakeConductor({
      workerId: WORKER_ID,
      token: TOKEN,
      taskDir,
      scratchDir,
      repository: { cloneUrl: remote, defaultBranch: 'main', sparsePaths: [], name: 'acme/orders' },
      heartbeatIntervalMs: 100,
      ...(agentAwsSessions ? { agentAwsSessions } : {}),
      ...(agentAwsRefreshGate ? { agentAwsRefreshGate } : {}),
      ...(otherAccountAwsSessions ? { otherAccountAwsSessions } : {}),
    }).start();
    conductor = fake;
    const config: WorkerConfig = {
      workerId: WORKER_ID,
      token: TOKEN,
      conductorAddress: fake.address,
      workDir: join(root, 'work'),
      agentKind: 'command',
      agentCommand: AGENT,
      maxAgentAttempts: 1,
      agentTimeoutMs: 40_000,
      publisher: 'local',
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 20_000,
      agentIsolation: AGENT_ISOLATION,
    };
    return { fake, config, remote };
  }

  it('writes a 0600 credentials file the agent owns, outside the work dir, refreshes it before expiry, deletes it at the end and redacts the session everywhere', async () => {
    const [first, second] = sessions();
    if (!first || !second) throw new Error('two sessions expected');
    let release = (): void => undefined;
    const { fake, config } = await start([first, second], new Promise<void>((resolve) => (release = resolve)));
    const lines: string[] = [];
    const logger = createWorkerLogger(config, { LOG_FORMAT: 'json' }, (line) => lines.push(line));

    // The worker's other secrets, where a worker holds them: the agent must find none of them, only its session.
    const others = { GITHUB_TOKEN: 'ghcanary0f3a9c1d7e5b2a4c6e8f0a1b3c5d7e9f', OPENAI_API_KEY: 'okcanary9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b', WORKER_TOKEN: TOKEN };
    Object.assign(process.env, others, { WORKER_PID: String(process.pid) });
    const running = runWorker(config, { logger });
    // The refresh is answered only once the agent has read the first session, however slow the machine.
    await waitFor(join(config.workDir, 'first-read'));
    release();
    const outcome = await running;

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED });
    expect(fake.agentAwsRefreshes).toHaveLength(1);
    const seen = await readFile(join(config.workDir, 'aws-seen.txt'), 'utf8');
    const owner = isRoot ? AGENT_ISOLATION.uid : process.getuid?.();
    const configFile = /env=([^|]+)\|/.exec(seen)?.[1] ?? '';
    expect(seen).toBe(`mode=600:${owner} env=${configFile}|eu-central-1\nfirst=ok\nrefreshed=ok\n1\n0\n`);
    // Outside the work dir (never uploaded), and gone once the agent was done.
    expect(configFile.startsWith(config.workDir)).toBe(false);
    expect(existsSync(configFile)).toBe(false);
    expect(existsSync(resolve(configFile, '..'))).toBe(false);

    const secrets = [first, second].flatMap((session) => [session.accessKeyId, session.secretAccessKey, session.sessionToken]);
    // The agent copied the session into its report and a file: the Shutdown, the upload and the logs carry none of it.
    expect(fake.shutdownRequest?.result?.summary).toContain(`seen ${REDACTED} and ${REDACTED}`);
    const uploaded = join(root, 'uploaded');
    if (!fake.uploadPath) throw new Error('no upload');
    await extractArchiveSafely(fake.uploadPath, uploaded);
    expect(allFiles(uploaded)).toContain('copied-credentials.txt');
    expect(readFileSync(join(uploaded, 'copied-credentials.txt'), 'utf8')).toContain(`aws_session_token = ${REDACTED}`);
    logger.log(`a careless line with ${second.sessionToken} ${first.secretAccessKey}`, 'Probe');
    const shutdown = JSON.stringify(fake.shutdownRequest);
    for (const secret of secrets) {
      expect(shutdown).not.toContain(secret);
      expect(allFiles(uploaded).filter((file) => readFileSync(join(uploaded, file), 'latin1').includes(secret))).toEqual([]);
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(lines.join('')).toContain(`a careless line with ${REDACTED}`);

    const agentEnv = await readFile(join(config.workDir, 'agent-env.txt'), 'utf8');
    expect(agentEnv).toContain('AWS_SHARED_CREDENTIALS_FILE=');
    expect(await readFile(join(config.workDir, 'aws-dir.txt'), 'utf8')).toBe('config\ncredentials\n');
    if (isRoot) expect(await readFile(join(config.workDir, 'worker-environ.txt'), 'utf8')).toBe('denied\n');
    for (const secret of Object.values(others)) {
      expect(allFiles(config.workDir).filter((file) => readFileSync(join(config.workDir, file), 'latin1').includes(secret))).toEqual([]);
    }
  });

  it("writes each other account of a grouped incident as the profile account-<id> with its own region, refreshes every profile in one file and redacts their sessions", async () => {
    const [first, second] = sessions();
    const [otherFirst, otherSecond] = otherSessions();
    if (!first || !second || !otherFirst || !otherSecond) throw new Error('two sessions of each account expected');
    let release = (): void => undefined;
    const { fake, config } = await start([first, second], new Promise<void>((resolve) => (release = resolve)), [[otherFirst], [otherSecond]]);
    const lines: string[] = [];
    const logger = createWorkerLogger(config, { LOG_FORMAT: 'json' }, (line) => lines.push(line));
    const agent = [
      'f="$AWS_SHARED_CREDENTIALS_FILE"',
      `grep '^\\[' "$f" | tr '\\n' ' ' > aws-seen.txt; echo >> aws-seen.txt`,
      `${section(`account-${OTHER_ACCOUNT}`)} | grep -q '^aws_access_key_id = ASIAOTHERSESSION0001$' && echo other-first=ok >> aws-seen.txt`,
      'touch first-read',
      'i=0; while [ $i -lt 200 ] && ! grep -q ASIAOTHERSESSION0002 "$f"; do sleep 0.1; i=$((i+1)); done',
      `${section(`account-${OTHER_ACCOUNT}`)} | grep -q '^aws_session_token = other-second-token-Jn07$' && echo other-refreshed=ok >> aws-seen.txt`,
      `${section('default')} | grep -q '^aws_session_token = second-session-token-Mw90$' && echo own-refreshed=ok >> aws-seen.txt`,
      'cat "$AWS_CONFIG_FILE" >> aws-seen.txt',
      'echo "AWS_REGION=${AWS_REGION:-unset}" >> aws-seen.txt',
      'cp "$f" copied-credentials.txt',
      `DEMO_AGENT_BEHAVIOUR=succeed sh '${DEMO_AGENT}'`,
      `echo "other $(${section(`account-${OTHER_ACCOUNT}`)} | sed -n "s/^aws_secret_access_key = //p")" >> agent-meta/ending-report.md`,
    ].join('\n');

    const running = runWorker({ ...config, agentCommand: agent }, { logger });
    await waitFor(join(config.workDir, 'first-read'));
    release();
    const outcome = await running;

    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED });
    expect(fake.agentAwsRefreshes).toHaveLength(1);
    expect(await readFile(join(config.workDir, 'aws-seen.txt'), 'utf8')).toBe(
      [
        `[default] [account-${OTHER_ACCOUNT}] `,
        'other-first=ok',
        'other-refreshed=ok',
        'own-refreshed=ok',
        '[default]',
        'region = eu-central-1',
        '',
        `[profile account-${OTHER_ACCOUNT}]`,
        'region = us-west-2',
        // Two regions: AWS_REGION would override the other profile's, so the config file alone names them.
        'AWS_REGION=unset',
        '',
      ].join('\n'),
    );
    const task = await readFile(join(config.workDir, 'TASK.md'), 'utf8');
    expect(task).toContain("read-only AWS session in the incident's account 123456789012, region eu-central-1");
    expect(task).toContain(`- \`account-${OTHER_ACCOUNT}\`: account ${OTHER_ACCOUNT}, region us-west-2`);

    const secrets = [first, second, otherFirst, otherSecond].flatMap((each) => [each.accessKeyId, each.secretAccessKey, each.sessionToken]);
    expect(fake.shutdownRequest?.result?.summary).toContain(`other ${REDACTED}`);
    const uploaded = join(root, 'uploaded');
    if (!fake.uploadPath) throw new Error('no upload');
    await extractArchiveSafely(fake.uploadPath, uploaded);
    expect(readFileSync(join(uploaded, 'copied-credentials.txt'), 'utf8')).toContain(`[account-${OTHER_ACCOUNT}]\naws_access_key_id = ${REDACTED}`);
    const shutdown = JSON.stringify(fake.shutdownRequest);
    for (const secret of secrets) {
      expect(shutdown).not.toContain(secret);
      expect(allFiles(uploaded).filter((file) => readFileSync(join(uploaded, file), 'latin1').includes(secret))).toEqual([]);
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(lines.join('\n')).toContain(`profile account-${OTHER_ACCOUNT}`);
  });

  it("gives a job whose own account grants none no default profile, refreshes the other account's, and refuses to push a commit holding its secret key", async () => {
    const [otherFirst, otherSecond] = otherSessions();
    if (!otherFirst || !otherSecond) throw new Error('two sessions expected');
    const { fake, config, remote } = await start(undefined, undefined, [[otherFirst], [otherSecond]]);
    const agent = [
      'f="$AWS_SHARED_CREDENTIALS_FILE"',
      `grep '^\\[' "$f" "$AWS_CONFIG_FILE" | sed 's|.*/||' > aws-seen.txt`,
      'echo "AWS_REGION=${AWS_REGION:-unset}" >> aws-seen.txt',
      'i=0; while [ $i -lt 200 ] && ! grep -q ASIAOTHERSESSION0002 "$f"; do sleep 0.1; i=$((i+1)); done',
      `grep -q '^aws_session_token = other-second-token-Jn07$' "$f" && echo refreshed=ok >> aws-seen.txt`,
      `DEMO_AGENT_BEHAVIOUR=succeed sh '${DEMO_AGENT}'`,
      // The refreshed session's secret key, bare, committed on the agent's branch.
      `(cd repo && sed -n "s/^aws_secret_access_key = //p" "$f" > notes.txt && git add notes.txt && git commit --quiet -m "Notes")`,
    ].join('\n');

    const outcome = await runWorker({ ...config, agentCommand: agent }, { logger: false });

    expect(await readFile(join(config.workDir, 'aws-seen.txt'), 'utf8')).toBe(`credentials:[account-${OTHER_ACCOUNT}]\nconfig:[profile account-${OTHER_ACCOUNT}]\nAWS_REGION=us-west-2\nrefreshed=ok\n`);
    expect(fake.agentAwsRefreshes).toHaveLength(1);
    expect(await readFile(join(config.workDir, 'TASK.md'), 'utf8')).toContain('There is no default profile.');
    expect(outcome).toMatchObject({ reported: true, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED });
    expect(fake.agentErrors.map((error) => error.message).join('\n')).toContain('the commits to push hold the AWS session you were given');
    // Nothing reached the remote but its own main branch.
    expect(execFileSync('git', ['--git-dir', remote, 'for-each-ref', '--format=%(refname)'], { encoding: 'utf8' })).toBe('refs/heads/main\n');
    expect(JSON.stringify(fake.shutdownRequest)).not.toContain(otherSecond.secretAccessKey);
  });

  it('gives an agent without a session no AWS variables and never asks for one', async () => {
    const { fake, config } = await start(undefined);
    const outcome = await runWorker({ ...config, agentCommand: `env | grep -c -e '^AWS_SHARED_CREDENTIALS_FILE=' -e '^AWS_CONFIG_FILE=' -e '^AWS_REGION=' > aws-vars.txt || true; DEMO_AGENT_BEHAVIOUR=succeed sh '${DEMO_AGENT}'` }, { logger: false });
    expect(outcome.reported).toBe(true);
    expect(await readFile(join(config.workDir, 'aws-vars.txt'), 'utf8')).toBe('0\n');
    expect(fake.agentAwsRefreshes).toEqual([]);
    expect(await readFile(join(config.workDir, 'TASK.md'), 'utf8')).not.toContain('AWS access');
  });
});
