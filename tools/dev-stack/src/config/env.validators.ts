import { z } from 'zod';

/**
 * What `npm run dev` reads from its environment. The ports it gives the apps are the apps' own defaults, set
 * explicitly so that the stack probes the same ports the apps listen on; tests move them all to free ports.
 */
export interface DevStackConfig {
  /** DATABASE_URL: use this database instead of starting the embedded Postgres. */
  databaseUrl?: string;
  postgresPort: number;
  /** SQS_QUEUE_URL: use this queue instead of starting the local SQS endpoint. */
  queueUrl?: string;
  sqsPort: number;
  schedulerGrpcListenAddr: string;
  schedulerHttpPort: number;
  conductorHttpPort: number;
  /** How long each app may take to answer /health with 200 before the start counts as failed. */
  readyTimeoutMs: number;
  /** How long each part gets to stop after its signal before it is killed. */
  stopGraceMs: number;
}

export class InvalidDevStackEnvError extends Error {
  override readonly name = 'InvalidDevStackEnvError';

  constructor(readonly problems: string[]) {
    super(`Invalid dev stack environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

// Unset and empty are the same thing: `FOO=` in a shell or .env file must not count as a value.
const unsetIfEmpty = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

function port(defaultPort: number) {
  return z.preprocess(
    unsetIfEmpty,
    z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535').default(defaultPort),
  );
}

function milliseconds(defaultMs: number) {
  return z.preprocess(unsetIfEmpty, z.coerce.number({ error: 'must be a number of ms' }).int('must be a whole number of ms').min(1000, 'must be at least 1000 ms').default(defaultMs));
}

const envSchema = z.object({
  DATABASE_URL: z.preprocess(unsetIfEmpty, z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgresql:// URL').optional()),
  DEV_POSTGRES_PORT: port(54329),
  SQS_QUEUE_URL: z.preprocess(unsetIfEmpty, z.url('must be a queue URL').optional()),
  DEV_SQS_PORT: port(9324),
  SCHEDULER_GRPC_LISTEN_ADDR: z.preprocess(unsetIfEmpty, z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:50052').default('127.0.0.1:50052')),
  SCHEDULER_HTTP_PORT: port(8081),
  CONDUCTOR_HTTP_PORT: port(8080),
  DEV_STACK_READY_TIMEOUT_MS: milliseconds(120_000),
  DEV_STACK_STOP_GRACE_MS: milliseconds(10_000),
});

/** Every bad variable is reported at once, before anything starts. */
export function loadDevStackConfig(env: NodeJS.ProcessEnv): DevStackConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new InvalidDevStackEnvError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`));
  }
  const vars = parsed.data;
  return {
    ...(vars.DATABASE_URL ? { databaseUrl: vars.DATABASE_URL } : {}),
    postgresPort: vars.DEV_POSTGRES_PORT,
    ...(vars.SQS_QUEUE_URL ? { queueUrl: vars.SQS_QUEUE_URL } : {}),
    sqsPort: vars.DEV_SQS_PORT,
    schedulerGrpcListenAddr: vars.SCHEDULER_GRPC_LISTEN_ADDR,
    schedulerHttpPort: vars.SCHEDULER_HTTP_PORT,
    conductorHttpPort: vars.CONDUCTOR_HTTP_PORT,
    readyTimeoutMs: vars.DEV_STACK_READY_TIMEOUT_MS,
    stopGraceMs: vars.DEV_STACK_STOP_GRACE_MS,
  };
}
