import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Everything the conductor reads from its environment, validated once at boot.
 * Defaults point at the local dev stack (docs/design.md, "Environment");
 * NODE_ENV=production makes the marked variables required instead.
 */
export interface ConductorConfig {
  nodeEnv: 'development' | 'production' | 'test';
  databaseUrl: string;
  /** How long boot waits for Postgres before failing. */
  dbConnectTimeoutMs: number;
  schedulerGrpcAddr: string;
  /** Deadline for one SubmitMessage call; past it the message stays on the queue. */
  schedulerCallTimeoutMs: number;
  sqsQueueUrl: string;
  sqsEndpoint: string | undefined;
  awsRegion: string;
  grpcListenAddr: string;
  /** What workers dial; differs from the listen address behind NAT or in containers. */
  grpcDialAddr: string;
  httpPort: number;
  runDir: string;
  resultsDir: string;
  workerLauncher: 'local';
  workerCommand: string;
  workerAgentCommand: string;
  workerWorkRoot: string;
  maxUploadBytes: number;
  pendingSweepIntervalMs: number;
  workerHeartbeatIntervalMs: number;
  /** How often the shutdown gate reads IS_CONDUCTOR_SHUTTING_DOWN; the seed uses one second. */
  shutdownPollIntervalMs: number;
  /** The branch handed to workers as the repository's default branch. */
  defaultRepositoryBranch: string;
}

const DEV_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54329/agent_conductor';
const DEV_QUEUE_URL = 'http://127.0.0.1:9324/000000000000/agent-conductor-intake';
const MIB = 1024 * 1024;

const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

const positiveInt = z.coerce.number().int().positive();

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: optionalString,
  SCHEDULER_GRPC_ADDR: hostPort.default('127.0.0.1:50052'),
  SCHEDULER_CALL_TIMEOUT_MS: positiveInt.default(10_000),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  SQS_QUEUE_URL: optionalString,
  SQS_ENDPOINT: optionalString,
  AWS_REGION: z.string().min(1).default('us-east-1'),
  CONDUCTOR_GRPC_LISTEN_ADDR: hostPort.default('127.0.0.1:50051'),
  CONDUCTOR_GRPC_DIAL_ADDR: hostPort.optional(),
  CONDUCTOR_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CONDUCTOR_RUN_DIR: z.string().min(1).default('.dev/conductor'),
  RESULTS_DIR: z.string().min(1).default('.dev/results'),
  WORKER_LAUNCHER: z.enum(['local']).default('local'),
  WORKER_COMMAND: optionalString,
  WORKER_AGENT_COMMAND: optionalString,
  WORKER_WORK_ROOT: optionalString,
  MAX_UPLOAD_BYTES: positiveInt.default(512 * MIB),
  PENDING_SWEEP_INTERVAL_MS: positiveInt.default(5000),
  WORKER_HEARTBEAT_INTERVAL_MS: positiveInt.default(10_000),
  DEFAULT_REPOSITORY_BRANCH: z.string().min(1).default('main'),
});

export class InvalidConductorEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid conductor environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'InvalidConductorEnvError';
  }
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * Parses and validates the environment. Every bad variable is reported at once,
 * so a misconfigured deployment fails on its first boot with the full list.
 */
export function loadConductorConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ConductorConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new InvalidConductorEnvError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  const vars = parsed.data;
  const problems: string[] = [];
  if (vars.NODE_ENV === 'production') {
    if (!vars.DATABASE_URL) problems.push('DATABASE_URL: required when NODE_ENV=production');
    if (!vars.SQS_QUEUE_URL) problems.push('SQS_QUEUE_URL: required when NODE_ENV=production');
  }
  if (problems.length > 0) throw new InvalidConductorEnvError(problems);

  const runDir = absolute(vars.CONDUCTOR_RUN_DIR, cwd);
  const isDev = vars.NODE_ENV !== 'production';
  return {
    nodeEnv: vars.NODE_ENV,
    databaseUrl: vars.DATABASE_URL ?? DEV_DATABASE_URL,
    dbConnectTimeoutMs: vars.DB_CONNECT_TIMEOUT_MS,
    schedulerGrpcAddr: vars.SCHEDULER_GRPC_ADDR,
    schedulerCallTimeoutMs: vars.SCHEDULER_CALL_TIMEOUT_MS,
    sqsQueueUrl: vars.SQS_QUEUE_URL ?? DEV_QUEUE_URL,
    // A local endpoint only makes sense next to the dev queue; production talks to real SQS.
    sqsEndpoint: vars.SQS_ENDPOINT ?? (isDev ? 'http://127.0.0.1:9324' : undefined),
    awsRegion: vars.AWS_REGION,
    grpcListenAddr: vars.CONDUCTOR_GRPC_LISTEN_ADDR,
    grpcDialAddr: vars.CONDUCTOR_GRPC_DIAL_ADDR ?? vars.CONDUCTOR_GRPC_LISTEN_ADDR,
    httpPort: vars.CONDUCTOR_HTTP_PORT,
    runDir,
    resultsDir: absolute(vars.RESULTS_DIR, cwd),
    workerLauncher: vars.WORKER_LAUNCHER,
    workerCommand: vars.WORKER_COMMAND ?? `node ${resolve(cwd, 'dist/apps/worker/main.js')}`,
    workerAgentCommand: vars.WORKER_AGENT_COMMAND ?? `bash ${resolve(cwd, 'tools/demo-agent/demo-agent.sh')}`,
    workerWorkRoot: vars.WORKER_WORK_ROOT ? absolute(vars.WORKER_WORK_ROOT, cwd) : resolve(runDir, 'workers'),
    maxUploadBytes: vars.MAX_UPLOAD_BYTES,
    pendingSweepIntervalMs: vars.PENDING_SWEEP_INTERVAL_MS,
    workerHeartbeatIntervalMs: vars.WORKER_HEARTBEAT_INTERVAL_MS,
    shutdownPollIntervalMs: 1000,
    defaultRepositoryBranch: vars.DEFAULT_REPOSITORY_BRANCH,
  };
}
