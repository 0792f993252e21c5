import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkerEnv, WorkerConfigError } from '../src/config/env.validators';

const API_KEY = 'sk-env-spec-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const required = { WORKER_ID: 'w-1', WORKER_TOKEN: 'secret-token-value', CONDUCTOR_GRPC_SERVER_ADDR: '127.0.0.1:50051', WORK_DIR: '/tmp/some-work-dir' };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parseWorkerEnv(env);
  } catch (error) {
    if (error instanceof WorkerConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('worker environment for AGENT_KIND=codex', () => {
  it('needs only OPENAI_API_KEY, not AGENT_COMMAND, and applies the defaults', () => {
    const config = parseWorkerEnv({ ...required, AGENT_KIND: 'codex', OPENAI_API_KEY: API_KEY });
    expect(config.agentKind).toBe('codex');
    expect(config.codex).toEqual({ model: undefined, path: undefined, baseUrl: undefined, maxTurns: 40, maxTokens: undefined, sessionMaxBytes: 16 * 1024 * 1024 });
    expect(config.agentTimeoutMs).toBe(3_600_000);
    // The key is the model proxy's alone: it is kept as modelApiKey (main.ts then removes it from the environment)
    // and nowhere else in the config.
    expect(config.modelApiKey).toBe(API_KEY);
    expect(JSON.stringify({ ...config, modelApiKey: undefined })).not.toContain(API_KEY);
  });

  it('takes the key from OPENAI_API_KEY_FILE too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-env-spec-'));
    try {
      writeFileSync(join(dir, 'key'), `${API_KEY}\n`);
      const config = parseWorkerEnv({ ...required, AGENT_KIND: 'codex', OPENAI_API_KEY_FILE: join(dir, 'key') });
      expect(config.modelApiKey).toBe(API_KEY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads CODEX_MODEL, CODEX_PATH, CODEX_BASE_URL, AGENT_MAX_TURNS, AGENT_MAX_TOKENS and AGENT_SESSION_MAX_BYTES', () => {
    const config = parseWorkerEnv({
      ...required,
      AGENT_KIND: 'codex',
      OPENAI_API_KEY: API_KEY,
      CODEX_MODEL: 'gpt-5-codex',
      CODEX_PATH: '/usr/local/bin/codex',
      CODEX_BASE_URL: 'https://llm-proxy.internal/v1',
      AGENT_MAX_TURNS: '12',
      AGENT_MAX_TOKENS: '2000000',
      AGENT_SESSION_MAX_BYTES: '1048576',
    });
    expect(config.codex).toEqual({ model: 'gpt-5-codex', path: '/usr/local/bin/codex', baseUrl: 'https://llm-proxy.internal/v1', maxTurns: 12, maxTokens: 2_000_000, sessionMaxBytes: 1_048_576 });
  });

  it('rejects an AGENT_MAX_TOKENS that is not a positive whole number', () => {
    for (const value of ['0', '-5', '1.5', 'lots']) {
      expect(problems({ ...required, AGENT_KIND: 'codex', OPENAI_API_KEY: API_KEY, AGENT_MAX_TOKENS: value })).toEqual(['AGENT_MAX_TOKENS must be a positive whole number of tokens']);
    }
  });

  it('rejects an AGENT_SESSION_MAX_BYTES that is not a positive whole number', () => {
    expect(problems({ ...required, AGENT_KIND: 'codex', OPENAI_API_KEY: API_KEY, AGENT_SESSION_MAX_BYTES: '0' })).toHaveLength(1);
    expect(problems({ ...required, AGENT_KIND: 'codex', OPENAI_API_KEY: API_KEY, AGENT_SESSION_MAX_BYTES: '0' })[0]).toMatch(/^AGENT_SESSION_MAX_BYTES /);
  });

  it('reports a missing key together with every other bad codex variable, never echoing the key', () => {
    expect(problems({ ...required, AGENT_KIND: 'codex', CODEX_BASE_URL: 'llm-proxy:8080', AGENT_MAX_TURNS: '0' })).toEqual([
      expect.stringMatching(/^AGENT_MAX_TURNS /),
      'CODEX_BASE_URL must be an http(s) URL, e.g. https://api.openai.com/v1',
      'OPENAI_API_KEY is required when AGENT_KIND=codex',
    ]);
    expect(problems({ ...required, AGENT_KIND: 'codex', OPENAI_API_KEY: API_KEY, AGENT_MAX_TURNS: 'lots' }).join('\n')).not.toContain(API_KEY);
  });

  it('rejects an unknown AGENT_KIND', () => {
    expect(problems({ ...required, AGENT_KIND: 'claude', OPENAI_API_KEY: API_KEY })).toEqual(['AGENT_KIND must be "command" or "codex"']);
  });

  it('leaves the codex settings out for the command agent, even with a key in the environment', () => {
    const config = parseWorkerEnv({ ...required, AGENT_COMMAND: 'true', OPENAI_API_KEY: API_KEY });
    expect(config.agentKind).toBe('command');
    expect(config.codex).toBeUndefined();
  });
});
