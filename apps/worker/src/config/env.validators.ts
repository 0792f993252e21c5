import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pemSettingProblem, readPemSetting } from '@agent-conductor/contracts';
import { z } from 'zod';
import { learnedSecrets } from './learned-secrets';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The worker's environment contract (docs/design.md "Environment"). */
export const workerEnvSchema = z
  .object({
    WORKER_ID: z.string().trim().min(1, 'is required'),
    WORKER_TOKEN: z.string().min(1, 'is required'),
    CONDUCTOR_GRPC_SERVER_ADDR: z
      .string()
      .trim()
      .min(1, 'is required')
      .regex(/^[^\s/]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:50051'),
    WORK_DIR: z.string().trim().min(1).optional(),
    AGENT_KIND: z.enum(['command', 'codex'], { message: 'must be "command" or "codex"' }).default('command'),
    AGENT_COMMAND: z.string().trim().optional(),
    MAX_AGENT_ATTEMPTS: positiveInt(4),
    AGENT_TIMEOUT_MS: positiveInt(60 * 60 * 1000),
    AGENT_MAX_TURNS: positiveInt(40),
    // 16 MiB: a long Codex thread's rollout is a few MiB; the session rides in the result and task archives.
    AGENT_SESSION_MAX_BYTES: positiveInt(16 * 1024 * 1024),
    AGENT_MAX_TOKENS: z
      .string()
      .trim()
      .regex(/^[1-9]\d*$/, 'must be a positive whole number of tokens')
      .transform(Number)
      .optional(),
    OPENAI_API_KEY: z.string().trim().min(1).optional(),
    CODEX_MODEL: z.string().trim().min(1).optional(),
    CODEX_PATH: z.string().trim().min(1).optional(),
    CODEX_BASE_URL: z
      .string()
      .trim()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL, e.g. https://api.openai.com/v1')
      .optional(),
    PUBLISHER: z.enum(['local', 'github'], { message: 'must be "local" or "github"' }).default('local'),
    GITHUB_TOKEN: z.string().trim().min(1).optional(),
    GITHUB_API_URL: z
      .string()
      .trim()
      .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL, e.g. https://api.github.com')
      .default('https://api.github.com'),
    GITHUB_REPOSITORY: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name, e.g. acme/orders-api')
      .optional(),
    // GitHub's own limit on a label name; a comma would make it two labels when issues are listed by label.
    GITHUB_REPORT_LABEL: z
      .string()
      .trim()
      .min(1, 'must not be blank')
      .max(50, 'must be at most 50 characters (GitHub\'s limit for a label)')
      .regex(/^[^,]*$/, 'must be one label, without commas')
      .default('incident-report'),
    GIT_AUTHOR_NAME: z.string().trim().min(1).default('Agent Conductor'),
    GIT_AUTHOR_EMAIL: z.string().trim().min(3).default('agent-conductor@localhost'),
    AGENT_ISOLATION: z.enum(['auto', 'off'], { message: 'must be "auto" or "off"' }).default('auto'),
    // A fixed id with no /etc/passwd entry needed; not 0, which would be no isolation at all.
    AGENT_UID: z.coerce.number().int().min(1).max(2 ** 31 - 2).default(10001),
    AGENT_GID: z.coerce.number().int().min(1).max(2 ** 31 - 2).optional(),
    // Long enough for a deploy in handoff mode: the old conductor exits, ECS starts the new one.
    CONDUCTOR_RETRY_WINDOW_MS: positiveInt(600_000),
    // TLS to the conductor: the CA bundle (PEM, or a file holding it) that signed the conductor's certificate.
    CONDUCTOR_TLS_CA: z.string().trim().min(1).optional(),
    CONDUCTOR_TLS_SERVER_NAME: z.string().trim().min(1).optional(),
  });

export interface WorkerConfig {
  workerId: string;
  /** Only ever sent to the conductor inside WorkerCredentials; never logged or written to disk. */
  token: string;
  conductorAddress: string;
  workDir: string;
  agentKind: 'command' | 'codex';
  agentCommand: string;
  maxAgentAttempts: number;
  agentTimeoutMs: number;
  /** Present when agentKind is codex. */
  codex?: CodexConfig;
  publisher: 'local' | 'github';
  /** Present when publisher is github. */
  github?: GitHubConfig;
  gitAuthorName: string;
  gitAuthorEmail: string;
  /** How long calls keep retrying while the conductor is UNAVAILABLE. */
  conductorRetryWindowMs: number;
  agentIsolation: AgentIsolationConfig;
  /** Absent: plaintext, the local default. */
  conductorTls?: ConductorTlsConfig;
  /**
   * OPENAI_API_KEY (or the file OPENAI_API_KEY_FILE names), read once at startup: main.ts then removes it from the
   * worker's environment. Only the model proxy uses it, when it forwards; never logged, written or given to codex.
   */
  modelApiKey?: string;
}

export interface ConductorTlsConfig {
  /** The CA bundle the conductor's certificate must chain to. */
  ca: Buffer;
  /** The name the certificate must carry when it differs from the dialled host. */
  serverName: string | undefined;
}

/**
 * auto: when the worker runs as root, the agent runs as uid/gid (see process/agent-sandbox.ts); as any other
 * user it cannot, and the worker warns. off: never, with the same warning.
 */
export interface AgentIsolationConfig {
  mode: 'auto' | 'off';
  uid: number;
  gid: number;
}

export interface GitHubConfig {
  /** Used for the API and the push only; never logged, written, or passed to the agent. */
  token: string;
  apiUrl: string;
  /** owner/name; when unset it is read from the clone URL. */
  repository: string | undefined;
  /** The label of a report-only ending's issue; parseWorkerEnv always sets it, hand-built configs get the default. */
  reportLabel?: string;
}

export interface CodexConfig {
  /** undefined: the codex CLI's default model. */
  model: string | undefined;
  /** The codex executable; undefined: the one bundled with @openai/codex. */
  path: string | undefined;
  /**
   * The model API the worker's model proxy forwards to; undefined: OpenAI. The key is WorkerConfig.modelApiKey:
   * only the proxy uses it, when it forwards, and it never reaches codex.
   */
  baseUrl: string | undefined;
  /** Codex turns per job, across all attempts. */
  maxTurns: number;
  /** Input plus output tokens per job (AGENT_MAX_TOKENS), metered by the model proxy; a route may set a lower one. */
  maxTokens: number | undefined;
  /**
   * The largest thread session the worker saves for a follow-up (AGENT_SESSION_MAX_BYTES); a larger one is not saved,
   * and the follow-up starts fresh. undefined: the default, 16 MiB.
   */
  sessionMaxBytes?: number;
}

/** Secrets that may come as a file instead (X_FILE names it): read once at startup, never put in the environment. */
export const SECRET_FILE_VARIABLES = ['WORKER_TOKEN', 'GITHUB_TOKEN', 'OPENAI_API_KEY'] as const;

function secretsFromFiles(env: NodeJS.ProcessEnv): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of SECRET_FILE_VARIABLES) {
    const path = env[`${name}_FILE`]?.trim();
    if (!path) continue;
    if (env[name]) {
      problems.push(`${name} and ${name}_FILE are both set; set one`);
      continue;
    }
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (value === '') problems.push(`${name}_FILE names an empty file (${path})`);
      else values[name] = value;
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'unreadable';
      problems.push(`${name}_FILE cannot be read (${path}): ${code}`);
    }
  }
  return { values, problems };
}

export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid worker environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'WorkerConfigError';
  }
}

/** Validates the whole environment at once and reports every bad variable, never the values of secrets. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerConfig {
  const fromFiles = secretsFromFiles(env);
  const blankAsMissing = Object.fromEntries(Object.entries({ ...env, ...fromFiles.values }).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = workerEnvSchema.safeParse(blankAsMissing);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
        return `${name} ${message}`;
      });
  problems.push(...fromFiles.problems);
  // Checked outside the schema so that it is reported together with every other problem.
  if ((blankAsMissing['AGENT_KIND'] ?? 'command') === 'command' && (blankAsMissing['AGENT_COMMAND']?.trim() ?? '') === '') {
    problems.push('AGENT_COMMAND is required when AGENT_KIND=command');
  }
  if (blankAsMissing['AGENT_KIND'] === 'codex' && (blankAsMissing['OPENAI_API_KEY']?.trim() ?? '') === '') {
    problems.push('OPENAI_API_KEY is required when AGENT_KIND=codex');
  }
  if (blankAsMissing['PUBLISHER'] === 'github' && (blankAsMissing['GITHUB_TOKEN']?.trim() ?? '') === '') {
    problems.push('GITHUB_TOKEN is required when PUBLISHER=github');
  }
  let conductorTls: ConductorTlsConfig | undefined;
  if (parsed.success && parsed.data.CONDUCTOR_TLS_CA) {
    try {
      conductorTls = { ca: readPemSetting(parsed.data.CONDUCTOR_TLS_CA), serverName: parsed.data.CONDUCTOR_TLS_SERVER_NAME };
    } catch (error) {
      problems.push(pemSettingProblem('CONDUCTOR_TLS_CA', error));
    }
  } else if (parsed.success && parsed.data.CONDUCTOR_TLS_SERVER_NAME) {
    problems.push('CONDUCTOR_TLS_SERVER_NAME needs CONDUCTOR_TLS_CA');
  }
  if (!parsed.success || problems.length > 0) throw new WorkerConfigError(problems);
  const value = parsed.data;
  return {
    workerId: value.WORKER_ID,
    token: value.WORKER_TOKEN,
    conductorAddress: value.CONDUCTOR_GRPC_SERVER_ADDR,
    workDir: value.WORK_DIR ? resolve(value.WORK_DIR) : mkdtempSync(join(tmpdir(), 'agent-conductor-worker-')),
    agentKind: value.AGENT_KIND,
    agentCommand: value.AGENT_COMMAND ?? '',
    maxAgentAttempts: value.MAX_AGENT_ATTEMPTS,
    agentTimeoutMs: value.AGENT_TIMEOUT_MS,
    ...(value.AGENT_KIND === 'codex' && value.OPENAI_API_KEY
      ? { codex: { model: value.CODEX_MODEL, path: value.CODEX_PATH, baseUrl: value.CODEX_BASE_URL, maxTurns: value.AGENT_MAX_TURNS, maxTokens: value.AGENT_MAX_TOKENS, sessionMaxBytes: value.AGENT_SESSION_MAX_BYTES } }
      : {}),
    publisher: value.PUBLISHER,
    ...(value.PUBLISHER === 'github' && value.GITHUB_TOKEN
      ? { github: { token: value.GITHUB_TOKEN, apiUrl: value.GITHUB_API_URL, repository: value.GITHUB_REPOSITORY, reportLabel: value.GITHUB_REPORT_LABEL } }
      : {}),
    gitAuthorName: value.GIT_AUTHOR_NAME,
    gitAuthorEmail: value.GIT_AUTHOR_EMAIL,
    conductorRetryWindowMs: value.CONDUCTOR_RETRY_WINDOW_MS,
    agentIsolation: { mode: value.AGENT_ISOLATION, uid: value.AGENT_UID, gid: value.AGENT_GID ?? value.AGENT_UID },
    ...(conductorTls ? { conductorTls } : {}),
    ...(value.OPENAI_API_KEY ? { modelApiKey: value.OPENAI_API_KEY } : {}),
  };
}

/** Every secret the worker holds: none of them may reach a file, a log line or a message built from agent output. */
export function workerSecrets(config: { token: string; github?: { token: string }; modelApiKey?: string }, env: NodeJS.ProcessEnv = process.env): string[] {
  // The environment too: a worker built without parseWorkerEnv (tests, the logger's own config) may hold the model key there.
  // And what the worker learned since it started (the agent's AWS sessions), whenever the redaction happens.
  return [config.token, config.github?.token, config.modelApiKey, env['OPENAI_API_KEY']?.trim(), ...learnedSecrets()].filter(
    (secret): secret is string => secret !== undefined && secret !== '',
  );
}
