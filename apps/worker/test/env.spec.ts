import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseWorkerEnv, WorkerConfigError } from '../src/config/env.validators';

const required = { WORKER_ID: 'w-1', WORKER_TOKEN: 'secret-token-value', CONDUCTOR_GRPC_SERVER_ADDR: '127.0.0.1:50051', AGENT_COMMAND: 'true' };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parseWorkerEnv(env);
  } catch (error) {
    if (error instanceof WorkerConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('worker environment', () => {
  it('applies the documented defaults', () => {
    const config = parseWorkerEnv({ ...required, WORK_DIR: '/tmp/some-work-dir' });
    expect(config).toEqual({
      workerId: 'w-1',
      token: 'secret-token-value',
      conductorAddress: '127.0.0.1:50051',
      workDir: '/tmp/some-work-dir',
      agentKind: 'command',
      agentCommand: 'true',
      maxAgentAttempts: 4,
      agentTimeoutMs: 3_600_000,
      publisher: 'local',
      gitAuthorName: 'Agent Conductor',
      gitAuthorEmail: 'agent-conductor@localhost',
      conductorRetryWindowMs: 600_000,
      agentIsolation: { mode: 'auto', uid: 10001, gid: 10001 },
    });
  });

  it('takes the agent uid and gid, and refuses uid 0 and unknown isolation modes', () => {
    expect(parseWorkerEnv({ ...required, AGENT_UID: '20000' }).agentIsolation).toEqual({ mode: 'auto', uid: 20000, gid: 20000 });
    expect(parseWorkerEnv({ ...required, AGENT_UID: '20000', AGENT_GID: '30000', AGENT_ISOLATION: 'off' }).agentIsolation).toEqual({ mode: 'off', uid: 20000, gid: 30000 });
    expect(problems({ ...required, AGENT_UID: '0', AGENT_ISOLATION: 'maybe' })).toEqual([expect.stringMatching(/^AGENT_ISOLATION must be "auto" or "off"/), expect.stringMatching(/^AGENT_UID /)]);
  });

  it('reads secrets from *_FILE at startup, and says which file when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'worker-env-spec-'));
    try {
      await writeFile(join(dir, 'token'), 'from-a-file-123\n', { mode: 0o600 });
      await writeFile(join(dir, 'github'), 'ghs_fromAFile\n', { mode: 0o600 });
      const config = parseWorkerEnv({ ...required, WORKER_TOKEN: undefined, WORKER_TOKEN_FILE: join(dir, 'token'), PUBLISHER: 'github', GITHUB_TOKEN_FILE: join(dir, 'github') });
      expect(config.token).toBe('from-a-file-123');
      expect(config.github?.token).toBe('ghs_fromAFile');
      expect(problems({ ...required, OPENAI_API_KEY_FILE: join(dir, 'missing'), GITHUB_TOKEN: 'x', GITHUB_TOKEN_FILE: join(dir, 'github') })).toEqual([
        'GITHUB_TOKEN and GITHUB_TOKEN_FILE are both set; set one',
        `OPENAI_API_KEY_FILE cannot be read (${join(dir, 'missing')}): ENOENT`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists every missing or bad variable at once', () => {
    expect(problems({ MAX_AGENT_ATTEMPTS: 'zero', PUBLISHER: 'gitlab', CONDUCTOR_GRPC_SERVER_ADDR: 'http://x' })).toEqual([
      'WORKER_ID is required',
      'WORKER_TOKEN is required',
      'CONDUCTOR_GRPC_SERVER_ADDR must be host:port, e.g. 127.0.0.1:50051',
      expect.stringMatching(/^MAX_AGENT_ATTEMPTS /),
      'PUBLISHER must be "local" or "github"',
      'AGENT_COMMAND is required when AGENT_KIND=command',
    ]);
  });

  it('requires OPENAI_API_KEY for AGENT_KIND=codex (more in codex-env.spec.ts)', () => {
    expect(problems({ ...required, AGENT_KIND: 'codex' })).toEqual(['OPENAI_API_KEY is required when AGENT_KIND=codex']);
  });

  it('requires AGENT_COMMAND for the command agent', () => {
    expect(problems({ ...required, AGENT_COMMAND: '' })).toEqual(['AGENT_COMMAND is required when AGENT_KIND=command']);
  });

  it('never echoes the token in its complaints', () => {
    expect(() => parseWorkerEnv({ ...required, AGENT_KIND: 'bogus' })).toThrow(WorkerConfigError);
    expect(problems({ ...required, AGENT_KIND: 'bogus' }).join('\n')).not.toContain('secret-token-value');
  });

  it('main exits non-zero with the list of bad variables when the environment is missing', async () => {
    const root = resolve(__dirname, '../../..');
    // swc keeps the decorator metadata Nest needs (tsx/esbuild does not). The root tsconfig, because
    // @swc-node/register resolves `paths` from the given project's directory, and they are relative to the root.
    const result = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts'], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', SWC_NODE_PROJECT: 'tsconfig.base.json' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid worker environment:');
    expect(result.stderr).toContain('WORKER_ID is required');
    expect(result.stderr).toContain('WORKER_TOKEN is required');
    expect(result.stderr).toContain('CONDUCTOR_GRPC_SERVER_ADDR is required');
    expect(result.stderr).toContain('AGENT_COMMAND is required when AGENT_KIND=command');
  });
});
