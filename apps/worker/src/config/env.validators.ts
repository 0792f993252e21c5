import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

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
    AGENT_KIND: z
      .string()
      .default('command')
      .superRefine((value, ctx) => {
        if (value === 'codex') {
          ctx.addIssue({ code: 'custom', message: 'codex is not supported yet (it arrives with the Codex runner); use AGENT_KIND=command' });
        } else if (value !== 'command') {
          ctx.addIssue({ code: 'custom', message: `must be "command", got "${value}"` });
        }
      })
      .transform((value) => value as 'command'),
    AGENT_COMMAND: z.string().trim().optional(),
    MAX_AGENT_ATTEMPTS: positiveInt(4),
    AGENT_TIMEOUT_MS: positiveInt(60 * 60 * 1000),
    PUBLISHER: z.enum(['local'], { message: 'must be "local" (GitHub comes later)' }).default('local'),
    GIT_AUTHOR_NAME: z.string().trim().min(1).default('Agent Conductor'),
    GIT_AUTHOR_EMAIL: z.string().trim().min(3).default('agent-conductor@localhost'),
    CONDUCTOR_RETRY_WINDOW_MS: positiveInt(60_000),
  });

export interface WorkerConfig {
  workerId: string;
  /** Only ever sent to the conductor inside WorkerCredentials; never logged or written to disk. */
  token: string;
  conductorAddress: string;
  workDir: string;
  agentKind: 'command';
  agentCommand: string;
  maxAgentAttempts: number;
  agentTimeoutMs: number;
  publisher: 'local';
  gitAuthorName: string;
  gitAuthorEmail: string;
  /** How long calls keep retrying while the conductor is UNAVAILABLE. */
  conductorRetryWindowMs: number;
}

export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid worker environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'WorkerConfigError';
  }
}

/** Validates the whole environment at once and reports every bad variable, never the values of secrets. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerConfig {
  const blankAsMissing = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = workerEnvSchema.safeParse(blankAsMissing);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
        return `${name} ${message}`;
      });
  // Checked outside the schema so that it is reported together with every other problem.
  if ((blankAsMissing['AGENT_KIND'] ?? 'command') === 'command' && (blankAsMissing['AGENT_COMMAND']?.trim() ?? '') === '') {
    problems.push('AGENT_COMMAND is required when AGENT_KIND=command');
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
    publisher: value.PUBLISHER,
    gitAuthorName: value.GIT_AUTHOR_NAME,
    gitAuthorEmail: value.GIT_AUTHOR_EMAIL,
    conductorRetryWindowMs: value.CONDUCTOR_RETRY_WINDOW_MS,
  };
}
