import { DEFAULT_FOLLOW_UP_MENTION, FollowUpPolicy, IncidentPolicy, RoutingTable } from '@agent-conductor/scheduling-domain';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { loadRoutingFile } from '@agent-conductor/scheduling';

export const DEV_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54329/agent_conductor';

const LISTEN_ADDR = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/;

// Unset and empty are the same thing: `FOO=` in a .env file must not count as a value.
const optionalText = z.preprocess((value) => (value === '' ? undefined : value), z.string().trim().min(1).optional());

/** A whole number from the environment ("60"), within bounds; unset or empty takes the default. */
function wholeNumber(defaultValue: number, max: number, unit: string) {
  return z.preprocess(
    (value) => (value === '' || value === undefined ? undefined : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: `must be a whole number of ${unit}` })
      .int(`must be a whole number of ${unit}`)
      .min(1, `must be at least 1 ${unit.replace(/s$/, '')}`)
      .max(max, `must be at most ${max} ${unit}`)
      .default(defaultValue),
  );
}

const envSchema = z
  .object({
    NODE_ENV: optionalText,
    DATABASE_URL: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgresql:// URL').optional(),
    ),
    SCHEDULER_GRPC_LISTEN_ADDR: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.string().regex(LISTEN_ADDR, 'must be host:port, e.g. 127.0.0.1:50052').default('127.0.0.1:50052'),
    ),
    DEFAULT_REPOSITORY_URL: optionalText,
    ROUTING_FILE: optionalText,
    DEFAULT_REPOSITORY_BRANCH: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.string().trim().min(1).default('main'),
    ),
    DB_CONNECT_TIMEOUT_MS: wholeNumber(30_000, 600_000, 'ms'),
    INCIDENT_WINDOW_MINUTES: wholeNumber(60, 7 * 24 * 60, 'minutes'),
    INCIDENT_CAP_HOURS: wholeNumber(24, 30 * 24, 'hours'),
    FOLLOW_UP_MENTION: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.string().trim().regex(/^\S{1,64}$/, 'must be one word of at most 64 characters, e.g. @agent').default(DEFAULT_FOLLOW_UP_MENTION),
    ),
    FOLLOW_UP_SYSTEM_LOGINS: z.preprocess(
      (value) => (typeof value === 'string' ? value.split(',').map((login) => login.trim()).filter((login) => login !== '') : value),
      z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$/, 'must list GitHub logins separated by commas, e.g. agent-conductor[bot],ci-bot')).optional(),
    ),
  })
  .superRefine((env, ctx) => {
    if (env.INCIDENT_CAP_HOURS * 60 < env.INCIDENT_WINDOW_MINUTES) {
      ctx.addIssue({ code: 'custom', path: ['INCIDENT_CAP_HOURS'], message: 'must not be shorter than INCIDENT_WINDOW_MINUTES' });
    }
    if (env.NODE_ENV !== 'production') {
      return;
    }
    if (env.DATABASE_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required when NODE_ENV=production' });
    }
    // A routing file carries its own default route.
    if (env.DEFAULT_REPOSITORY_URL === undefined && env.ROUTING_FILE === undefined) {
      ctx.addIssue({ code: 'custom', path: ['DEFAULT_REPOSITORY_URL'], message: 'is required when NODE_ENV=production (unless ROUTING_FILE is set)' });
    }
  });

export interface SchedulerConfigValues {
  production: boolean;
  databaseUrl: string;
  /** How long boot waits for Postgres before failing. */
  dbConnectTimeoutMs: number;
  grpcListenAddr: string;
  /** The default route without a routing file. */
  defaultRepositoryUrl: string;
  defaultRepositoryBranch: string;
  /** ROUTING_FILE, resolved; absent: every job takes the default route above. */
  routingFile?: string;
  /** The validated routing file; when set, its `default` replaces DEFAULT_REPOSITORY_URL/BRANCH. */
  routing?: RoutingTable;
  /** How alarms chain into incidents: INCIDENT_WINDOW_MINUTES and INCIDENT_CAP_HOURS. */
  incidentPolicy: IncidentPolicy;
  /** Who starts follow-ups: FOLLOW_UP_MENTION and FOLLOW_UP_SYSTEM_LOGINS (docs/follow-ups.md). */
  followUpPolicy: FollowUpPolicy;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validates the scheduler's environment once, at boot. Every bad variable is
 * reported together so one restart fixes them all.
 */
export function loadSchedulerConfig(env: NodeJS.ProcessEnv, workspace: string = process.cwd()): SchedulerConfigValues {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid scheduler environment:\n${lines.join('\n')}`);
  }
  const values = parsed.data;
  const repository = values.DEFAULT_REPOSITORY_URL ?? resolve(workspace, '.dev/remote/sample-app.git');
  // Read and validated here, once: a bad file stops the boot like a bad variable (RoutingFileError lists it all).
  const routing = values.ROUTING_FILE === undefined ? {} : { routingFile: resolve(workspace, values.ROUTING_FILE), routing: loadRoutingFile(values.ROUTING_FILE, workspace) };
  return {
    production: values.NODE_ENV === 'production',
    databaseUrl: values.DATABASE_URL ?? DEV_DATABASE_URL,
    dbConnectTimeoutMs: values.DB_CONNECT_TIMEOUT_MS,
    grpcListenAddr: values.SCHEDULER_GRPC_LISTEN_ADDR,
    // A relative path would mean something different to each worker's cwd.
    defaultRepositoryUrl: isLocalPath(repository) && !isAbsolute(repository) ? resolve(workspace, repository) : repository,
    defaultRepositoryBranch: values.DEFAULT_REPOSITORY_BRANCH,
    incidentPolicy: { windowMs: values.INCIDENT_WINDOW_MINUTES * 60_000, capMs: values.INCIDENT_CAP_HOURS * 3_600_000 },
    followUpPolicy: { mention: values.FOLLOW_UP_MENTION, systemLogins: values.FOLLOW_UP_SYSTEM_LOGINS ?? [] },
    ...routing,
  };
}

function isLocalPath(repository: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(repository) && !/^[^/\s]+@[^/\s]+:/.test(repository);
}

/** The variables loadSchedulerConfig reads, for the spec that holds docs/configuration.md to them. */
export { envSchema as schedulerEnvSchema };
