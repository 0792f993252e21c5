import { ecsLauncherConfigFromEnv, s3ResultStoreFromEnv, type EcsLauncherConfig, type S3ClientOptions, type S3ResultStoreConfig } from '@agent-conductor/aws';
import { pemSettingProblem, readPemSetting } from '@agent-conductor/contracts';
import { DEFAULT_CLAIM_MAX_ACTIVE_JOBS, DEFAULT_INCIDENT_POLICY, DEFAULT_MAX_ACTIVE_JOBS, incidentPolicyProblems, type IncidentPolicy } from '@agent-conductor/scheduling-domain';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Four receive loops of 10: enough to keep the scheduler's ingest pool (10 connections) busy while the receives,
 * deletes and the gRPC round trip of other batches overlap (docs/intake.md has the figures).
 */
export const DEFAULT_SQS_MAX_IN_FLIGHT = 40;

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
  /** spool: launches are handed to an outside supervisor through files (the conductor bench); never in production. */
  workerLauncher: 'local' | 'ecs' | 'spool';
  /** Where WORKER_LAUNCHER=spool writes one launch spec per attempt. */
  workerSpoolDir: string;
  /** Present when workerLauncher is ecs (ECS_* variables). */
  ecs?: EcsLauncherConfig;
  /** Where each attempt's result archive is kept: a directory under RESULTS_DIR, or S3. */
  resultStore: { kind: 'directory' } | { kind: 's3'; client: S3ClientOptions; store: S3ResultStoreConfig };
  /** Attempts per job before an infrastructure failure fails it for good. */
  maxJobAttempts: number;
  /** Exponential backoff with full jitter between attempts: random(0, min(max, base * 2^(attempt-1))). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A worker that has not handshaken this long after registration is stopped and its attempt failed. */
  handshakeDeadlineMs: number;
  /** Silence after which the conductor asks the launcher whether a connected worker still lives. */
  heartbeatTimeoutMs: number;
  /** How much longer a silent worker that the launcher says is alive is kept before it is stopped. */
  heartbeatGraceMs: number;
  /** How often the orphan checks (deadlines, silence, stale claims) run. */
  orphanCheckIntervalMs: number;
  workerCommand: string;
  /** AGENT_KIND of local workers: `command` runs workerAgentCommand, `codex` runs Codex. */
  workerAgentKind: 'command' | 'codex';
  workerAgentCommand: string;
  workerWorkRoot: string;
  maxUploadBytes: number;
  pendingSweepIntervalMs: number;
  workerHeartbeatIntervalMs: number;
  /** How often the shutdown gate reads IS_CONDUCTOR_SHUTTING_DOWN; the seed uses one second. */
  shutdownPollIntervalMs: number;
  /**
   * drain: wait for every active worker before exiting (the seed's contract).
   * handoff: exit once intake and launches have stopped; workers reconnect to the next conductor.
   */
  shutdownMode: 'drain' | 'handoff';
  /**
   * A non-ended worker silent (no event, heartbeat included) for longer than this does not hold
   * the drain: its process is presumed gone (e.g. left behind by a crashed predecessor).
   */
  shutdownStaleWorkerMs: number;
  /** Visibility timeout requested per receive; a failed message returns after it. */
  sqsVisibilityTimeoutSeconds: number;
  /** Long-poll wait per receive. */
  sqsWaitTimeSeconds: number;
  /** Messages the intake holds at once, from receive to delete; it runs one receive loop of 10 per 10 of them. */
  sqsMaxInFlight: number;
  /** How often a paused intake (database or scheduler down) checks whether it may receive again. */
  intakeProbeIntervalMs: number;
  /** The branch handed to workers as the repository's default branch. */
  defaultRepositoryBranch: string;
  /** Admission: at most this many jobs with an attempt launching or running, across every conductor. */
  maxActiveJobs: number;
  /** Admission: at most this many active jobs per claim key (a route's repository or `claim`), unless the route sets maxActive. */
  repoMaxActiveJobs: number;
  /** Extracted results (RESULT_STORE=directory) older than this are pruned. */
  resultsRetentionMs: number;
  /** A follow-up resumes the earlier job's agent session only if it was saved at most this long ago (docs/context-reuse.md). */
  followUpSessionMaxAgeMs: number;
  /** Past this many bytes of extracted results, the oldest are pruned first. */
  resultsMaxBytes: number;
  resultsPruneIntervalMs: number;
  /** An upload is refused (RESOURCE_EXHAUSTED) unless RESULTS_DIR's filesystem keeps this much free beyond it. */
  resultsMinFreeBytes: number;
  /** TLS on the worker gRPC server; absent means plaintext (the local default). */
  grpcTls?: GrpcServerTls;
  /** The operator console's built static files (dist/apps/console-ui, copied next to main.js as console/). */
  consoleUiDir: string;
  /**
   * How long a cancelled job's worker gets, after the operator's cancel, to stop its agent, upload what it has and
   * shut down; past it the launcher kills it (process kill, or ECS StopTask). 0 kills at the next check.
   */
  cancelGraceMs: number;
  /** Who may use the operator console (`/` and `/api`); docs/console.md. */
  consoleAuth: ConsoleAuthConfig;
  /**
   * The scheduler's incident window and cap (same variables, same defaults), so the console can show why alarms
   * were grouped; the conductor decides nothing with them.
   */
  incidentPolicy: IncidentPolicy;
  /** The intake's dead-letter queue, for the console's depth; without it the intake queue's RedrivePolicy names it. */
  sqsDlqUrl: string | undefined;
  /** Gather an incident job's CloudWatch evidence pack into its task files before each attempt (docs/incident-evidence.md). */
  incidentEvidence: boolean;
  /** How far before the incident's first alarm the metric data starts. */
  incidentEvidenceLookbackHours: number;
  /** How long the evidence pack waits for a route's Logs Insights query before it stops it. */
  incidentLogsMaxWaitSeconds: number;
  /** Every region's CloudWatch calls go here instead of AWS: the dev stack's recorded telemetry (tools/dev-stack/fixtures/telemetry). */
  cloudWatchEndpoint: string | undefined;
  /** Where the conductor's STS calls go instead of AWS: a loopback fake in tests, LocalStack in development. */
  stsEndpoint: string | undefined;
  /** How long a read-only incident agent's AWS session lasts (900–3600 s); the worker refreshes it before it ends. */
  agentAwsSessionSeconds: number;
  /** Reporting back to Jira when a ticket job ends (docs/jira.md); absent when JIRA_BASE_URL is unset. */
  jira?: JiraConfig;
  /** The shared secret GitHub signs webhooks with (docs/github-webhooks.md); absent: POST /webhooks/github answers 404. */
  githubWebhookSecret?: string;
  /** The largest webhook body accepted; larger ones get 413 before any signature work. */
  githubWebhookMaxBytes: number;
}

/** Basic auth is a Jira Cloud API token with its owner's email; bearer is a personal access token (Data Center) or OAuth. */
export type JiraCredentials = { kind: 'basic'; email: string; apiToken: string } | { kind: 'bearer'; token: string };

export interface JiraConfig {
  /** The site's root, without a trailing slash, e.g. https://example.atlassian.net. */
  baseUrl: string;
  credentials: JiraCredentials;
  /** Deadline of one Jira call; past it the call counts as failed, perhaps after Jira acted (the marker covers that). */
  timeoutMs: number;
  /** Tries per report before it is given up; the job is never failed by it. */
  maxTries: number;
  /** Full-jitter backoff between tries, as for job attempts. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often the delivery loop looks for reports due. */
  pollIntervalMs: number;
}

/**
 * token: a static bearer token (or the session cookie it buys); without a token the console is off.
 * proxy: an ALB with OIDC in front signs `x-amzn-oidc-data`; the signer must be `albArn` and the key comes
 * from `publicKeyUrl/<kid>`.
 */
export type ConsoleAuthConfig =
  | { mode: 'token'; token: string | undefined; sessionTtlMs: number }
  | { mode: 'proxy'; albArn: string; publicKeyUrl: string };

/** Long enough that guessing over HTTP is hopeless; `openssl rand -hex 32` gives 64. */
export const CONSOLE_TOKEN_MIN_LENGTH = 32;

/** PEM text, read at boot from the variable itself or from the file it names (readPemSetting). */
export interface GrpcServerTls {
  certChain: Buffer;
  privateKey: Buffer;
  /** When set, workers must present a client certificate this CA signed. */
  clientCa?: Buffer;
}

const DEV_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54329/agent_conductor';
/** A guessable secret would let anyone queue events; GitHub suggests a long random string. */
export const GITHUB_WEBHOOK_SECRET_MIN_LENGTH = 16;

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
  WORKER_LAUNCHER: z.enum(['local', 'ecs', 'spool']).default('local'),
  WORKER_SPOOL_DIR: optionalString,
  RESULT_STORE: z.enum(['directory', 's3']).default('directory'),
  MAX_JOB_ATTEMPTS: positiveInt.default(3),
  RETRY_BASE_MS: positiveInt.default(5000),
  RETRY_MAX_MS: positiveInt.default(300_000),
  HANDSHAKE_DEADLINE_MS: positiveInt.default(120_000),
  HEARTBEAT_TIMEOUT_MS: positiveInt.optional(),
  HEARTBEAT_GRACE_MS: z.coerce.number().int().min(0).optional(),
  ORPHAN_CHECK_INTERVAL_MS: positiveInt.default(5000),
  WORKER_COMMAND: optionalString,
  WORKER_AGENT_KIND: z.enum(['command', 'codex']).default('command'),
  WORKER_AGENT_COMMAND: optionalString,
  WORKER_WORK_ROOT: optionalString,
  MAX_UPLOAD_BYTES: positiveInt.default(512 * MIB),
  PENDING_SWEEP_INTERVAL_MS: positiveInt.default(5000),
  WORKER_HEARTBEAT_INTERVAL_MS: positiveInt.default(10_000),
  DEFAULT_REPOSITORY_BRANCH: z.string().min(1).default('main'),
  SHUTDOWN_MODE: z.enum(['drain', 'handoff']).default('drain'),
  SHUTDOWN_POLL_INTERVAL_MS: positiveInt.default(1000),
  SHUTDOWN_STALE_WORKER_MS: positiveInt.default(300_000),
  SQS_VISIBILITY_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(43200).default(60),
  SQS_WAIT_TIME_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
  SQS_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(DEFAULT_SQS_MAX_IN_FLIGHT),
  INTAKE_PROBE_INTERVAL_MS: positiveInt.default(2000),
  MAX_ACTIVE_JOBS: positiveInt.default(DEFAULT_MAX_ACTIVE_JOBS),
  REPO_MAX_ACTIVE_JOBS: positiveInt.default(DEFAULT_CLAIM_MAX_ACTIVE_JOBS),
  RESULTS_RETENTION_DAYS: z.coerce.number().positive().default(7),
  FOLLOW_UP_SESSION_MAX_AGE_HOURS: z.coerce.number().positive().default(72),
  RESULTS_MAX_BYTES: positiveInt.default(20 * 1024 * MIB),
  RESULTS_PRUNE_INTERVAL_MS: positiveInt.default(600_000),
  RESULTS_MIN_FREE_BYTES: z.coerce.number().int().min(0).default(1024 * MIB),
  CONSOLE_UI_DIR: optionalString,
  CONDUCTOR_TLS_CERT: optionalString,
  CONDUCTOR_TLS_KEY: optionalString,
  CONDUCTOR_TLS_CLIENT_CA: optionalString,
  CANCEL_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  CONSOLE_AUTH: z.enum(['token', 'proxy']).default('token'),
  CONSOLE_TOKEN: optionalString,
  CONSOLE_TOKEN_FILE: optionalString,
  CONSOLE_SESSION_TTL_HOURS: z.coerce.number().positive().default(12),
  CONSOLE_PROXY_ALB_ARN: optionalString,
  CONSOLE_PROXY_KEY_URL: optionalString,
  INCIDENT_WINDOW_MINUTES: positiveInt.default(DEFAULT_INCIDENT_POLICY.windowMs / 60_000),
  INCIDENT_CAP_HOURS: positiveInt.default(DEFAULT_INCIDENT_POLICY.capMs / 3_600_000),
  SQS_DLQ_URL: optionalString,
  // Off by default: without AWS credentials every incident launch would record a failed gathering.
  INCIDENT_EVIDENCE: z.enum(['on', 'off']).default('off'),
  INCIDENT_EVIDENCE_LOOKBACK_HOURS: z.coerce.number().int().min(1).max(72).default(3),
  INCIDENT_LOGS_MAX_WAIT_SECONDS: z.coerce.number().int().min(1).max(300).default(60),
  // STS refuses less than 900 s; an agent's session is capped at an hour (docs/incident-access.md).
  AGENT_AWS_SESSION_SECONDS: z.coerce.number().int().min(900).max(3600).default(3600),
  CLOUDWATCH_ENDPOINT: optionalString.refine((value) => value === undefined || /^https?:\/\/[^/\s]+/.test(value), 'must be an http(s) URL'),
  STS_ENDPOINT: optionalString.refine((value) => value === undefined || /^https?:\/\/[^/\s]+/.test(value), 'must be an http(s) URL'),
  JIRA_BASE_URL: optionalString,
  JIRA_EMAIL: optionalString,
  JIRA_API_TOKEN: optionalString,
  JIRA_API_TOKEN_FILE: optionalString,
  JIRA_BEARER_TOKEN: optionalString,
  JIRA_BEARER_TOKEN_FILE: optionalString,
  JIRA_TIMEOUT_MS: positiveInt.default(10_000),
  JIRA_MAX_TRIES: positiveInt.default(12),
  JIRA_RETRY_BASE_MS: positiveInt.default(5000),
  JIRA_RETRY_MAX_MS: positiveInt.default(600_000),
  JIRA_POLL_INTERVAL_MS: positiveInt.default(5000),
  GITHUB_WEBHOOK_SECRET: optionalString,
  GITHUB_WEBHOOK_SECRET_FILE: optionalString,
  // GitHub caps payloads at 25 MB, but the events accepted here are comments and reviews, far below 1 MiB.
  GITHUB_WEBHOOK_MAX_BYTES: positiveInt.default(1_048_576),
});

export class InvalidConductorEnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid conductor environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'InvalidConductorEnvError';
  }
}

function grpcTlsFromEnv(
  vars: { CONDUCTOR_TLS_CERT?: string | undefined; CONDUCTOR_TLS_KEY?: string | undefined; CONDUCTOR_TLS_CLIENT_CA?: string | undefined },
  cwd: string,
  problems: string[],
): GrpcServerTls | undefined {
  const { CONDUCTOR_TLS_CERT: cert, CONDUCTOR_TLS_KEY: key, CONDUCTOR_TLS_CLIENT_CA: clientCa } = vars;
  if (!cert && !key && !clientCa) return undefined;
  if (!cert || !key) {
    problems.push('CONDUCTOR_TLS_CERT: TLS needs both CONDUCTOR_TLS_CERT and CONDUCTOR_TLS_KEY');
    return undefined;
  }
  const read = (name: string, value: string): Buffer | undefined => {
    try {
      return readPemSetting(value, cwd);
    } catch (error) {
      problems.push(`${name}: ${pemSettingProblem(name, error)}`);
      return undefined;
    }
  };
  const certChain = read('CONDUCTOR_TLS_CERT', cert);
  const privateKey = read('CONDUCTOR_TLS_KEY', key);
  const ca = clientCa ? read('CONDUCTOR_TLS_CLIENT_CA', clientCa) : undefined;
  if (!certChain || !privateKey || (clientCa && !ca)) return undefined;
  return { certChain, privateKey, ...(ca ? { clientCa: ca } : {}) };
}

const ALB_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer\/app\/[^\s]+$/;

function consoleAuthFromEnv(vars: z.infer<typeof envSchema>, cwd: string, problems: string[]): ConsoleAuthConfig {
  if (vars.CONSOLE_AUTH === 'proxy') {
    if (vars.CONSOLE_TOKEN || vars.CONSOLE_TOKEN_FILE) {
      problems.push('CONSOLE_TOKEN: no token is accepted when CONSOLE_AUTH=proxy; unset CONSOLE_TOKEN and CONSOLE_TOKEN_FILE');
    }
    const arn = vars.CONSOLE_PROXY_ALB_ARN;
    const region = arn ? ALB_ARN.exec(arn)?.[1] : undefined;
    if (!arn || !region) {
      problems.push('CONSOLE_PROXY_ALB_ARN: CONSOLE_AUTH=proxy needs the ARN of the ALB that signs x-amzn-oidc-data');
      return { mode: 'proxy', albArn: '', publicKeyUrl: '' };
    }
    const publicKeyUrl = (vars.CONSOLE_PROXY_KEY_URL ?? `https://public-keys.auth.elb.${region}.amazonaws.com`).replace(/\/+$/, '');
    return { mode: 'proxy', albArn: arn, publicKeyUrl };
  }
  if (vars.CONSOLE_TOKEN && vars.CONSOLE_TOKEN_FILE) problems.push('CONSOLE_TOKEN: set CONSOLE_TOKEN or CONSOLE_TOKEN_FILE, not both');
  let token = vars.CONSOLE_TOKEN?.trim();
  if (!token && vars.CONSOLE_TOKEN_FILE) {
    try {
      token = readFileSync(absolute(vars.CONSOLE_TOKEN_FILE, cwd), 'utf8').trim();
    } catch (error) {
      problems.push(`CONSOLE_TOKEN_FILE: cannot read it (${typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unreadable'})`);
    }
  }
  // The length only: the message must never echo the token.
  if (token !== undefined && token.length < CONSOLE_TOKEN_MIN_LENGTH) {
    problems.push(`CONSOLE_TOKEN: must be at least ${CONSOLE_TOKEN_MIN_LENGTH} characters`);
  }
  return { mode: 'token', token: token || undefined, sessionTtlMs: Math.round(vars.CONSOLE_SESSION_TTL_HOURS * 3_600_000) };
}

/** A secret from its variable or from the file it names; problems name the variable, never the value. */
function secretSetting(name: string, value: string | undefined, file: string | undefined, cwd: string, problems: string[]): string | undefined {
  if (value && file) problems.push(`${name}: set ${name} or ${name}_FILE, not both`);
  if (value) return value.trim();
  if (!file) return undefined;
  try {
    return readFileSync(absolute(file, cwd), 'utf8').trim() || undefined;
  } catch (error) {
    problems.push(`${name}_FILE: cannot read it (${typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unreadable'})`);
    return undefined;
  }
}

function jiraFromEnv(vars: z.infer<typeof envSchema>, cwd: string, problems: string[]): JiraConfig | undefined {
  const apiToken = secretSetting('JIRA_API_TOKEN', vars.JIRA_API_TOKEN, vars.JIRA_API_TOKEN_FILE, cwd, problems);
  const bearer = secretSetting('JIRA_BEARER_TOKEN', vars.JIRA_BEARER_TOKEN, vars.JIRA_BEARER_TOKEN_FILE, cwd, problems);
  if (!vars.JIRA_BASE_URL) {
    if (apiToken || bearer || vars.JIRA_EMAIL) problems.push('JIRA_BASE_URL: Jira credentials are set but JIRA_BASE_URL is not');
    return undefined;
  }
  let baseUrl: URL;
  try {
    baseUrl = new URL(vars.JIRA_BASE_URL);
  } catch {
    problems.push('JIRA_BASE_URL: expected an http(s) URL');
    return undefined;
  }
  if (baseUrl.protocol !== 'https:' && baseUrl.protocol !== 'http:') problems.push('JIRA_BASE_URL: expected an http(s) URL');
  if (baseUrl.username || baseUrl.password) problems.push('JIRA_BASE_URL: put credentials in JIRA_API_TOKEN or JIRA_BEARER_TOKEN, not in the URL');
  if (vars.JIRA_RETRY_MAX_MS < vars.JIRA_RETRY_BASE_MS) problems.push('JIRA_RETRY_MAX_MS: must not be below JIRA_RETRY_BASE_MS');
  let credentials: JiraCredentials | undefined;
  if (apiToken && bearer) problems.push('JIRA_API_TOKEN: choose basic auth (JIRA_EMAIL + JIRA_API_TOKEN) or JIRA_BEARER_TOKEN, not both');
  else if (bearer) credentials = { kind: 'bearer', token: bearer };
  else if (apiToken && vars.JIRA_EMAIL) credentials = { kind: 'basic', email: vars.JIRA_EMAIL, apiToken };
  else if (apiToken) problems.push('JIRA_EMAIL: basic auth needs the API token owner\'s email');
  else problems.push('JIRA_API_TOKEN: JIRA_BASE_URL needs JIRA_EMAIL + JIRA_API_TOKEN[_FILE] or JIRA_BEARER_TOKEN[_FILE]');
  if (!credentials) return undefined;
  return {
    baseUrl: baseUrl.toString().replace(/\/+$/, ''),
    credentials,
    timeoutMs: vars.JIRA_TIMEOUT_MS,
    maxTries: vars.JIRA_MAX_TRIES,
    retryBaseMs: vars.JIRA_RETRY_BASE_MS,
    retryMaxMs: vars.JIRA_RETRY_MAX_MS,
    pollIntervalMs: vars.JIRA_POLL_INTERVAL_MS,
  };
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
    // Spool files hold launch tokens for a supervisor on the same host: a benchmark's arrangement, not a deployment's.
    if (vars.WORKER_LAUNCHER === 'spool') problems.push('WORKER_LAUNCHER: spool is for benchmarks and not allowed when NODE_ENV=production');
  }
  let ecs: EcsLauncherConfig | undefined;
  if (vars.WORKER_LAUNCHER === 'ecs') {
    try {
      ecs = ecsLauncherConfigFromEnv(env);
    } catch (error) {
      problems.push(`WORKER_LAUNCHER: ecs needs ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  let resultStore: ConductorConfig['resultStore'] = { kind: 'directory' };
  if (vars.RESULT_STORE === 's3') {
    try {
      resultStore = { kind: 's3', ...s3ResultStoreFromEnv(env) };
    } catch (error) {
      problems.push(`RESULT_STORE: s3 needs ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (vars.RETRY_MAX_MS < vars.RETRY_BASE_MS) problems.push('RETRY_MAX_MS: must not be below RETRY_BASE_MS');
  if (vars.SHUTDOWN_STALE_WORKER_MS < 3 * vars.WORKER_HEARTBEAT_INTERVAL_MS) {
    problems.push('SHUTDOWN_STALE_WORKER_MS: must be at least three WORKER_HEARTBEAT_INTERVAL_MS, or live workers would not be waited for');
  }
  const grpcTls = grpcTlsFromEnv(vars, cwd, problems);
  const consoleAuth = consoleAuthFromEnv(vars, cwd, problems);
  const incidentPolicy = { windowMs: vars.INCIDENT_WINDOW_MINUTES * 60_000, capMs: vars.INCIDENT_CAP_HOURS * 3_600_000 };
  for (const problem of incidentPolicyProblems(incidentPolicy)) problems.push(`INCIDENT_CAP_HOURS: ${problem}`);
  const jira = jiraFromEnv(vars, cwd, problems);
  const githubWebhookSecret = secretSetting('GITHUB_WEBHOOK_SECRET', vars.GITHUB_WEBHOOK_SECRET, vars.GITHUB_WEBHOOK_SECRET_FILE, cwd, problems);
  // The length only: the message must never echo the secret.
  if (githubWebhookSecret !== undefined && githubWebhookSecret.length < GITHUB_WEBHOOK_SECRET_MIN_LENGTH) {
    problems.push(`GITHUB_WEBHOOK_SECRET: must be at least ${GITHUB_WEBHOOK_SECRET_MIN_LENGTH} characters`);
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
    workerSpoolDir: vars.WORKER_SPOOL_DIR ? absolute(vars.WORKER_SPOOL_DIR, cwd) : resolve(runDir, 'spool'),
    ...(ecs ? { ecs } : {}),
    resultStore,
    maxJobAttempts: vars.MAX_JOB_ATTEMPTS,
    retryBaseMs: vars.RETRY_BASE_MS,
    retryMaxMs: vars.RETRY_MAX_MS,
    handshakeDeadlineMs: vars.HANDSHAKE_DEADLINE_MS,
    // Three missed beats: one late beat on a busy host is not a lost worker.
    heartbeatTimeoutMs: vars.HEARTBEAT_TIMEOUT_MS ?? 3 * vars.WORKER_HEARTBEAT_INTERVAL_MS,
    heartbeatGraceMs: vars.HEARTBEAT_GRACE_MS ?? 3 * vars.WORKER_HEARTBEAT_INTERVAL_MS,
    orphanCheckIntervalMs: vars.ORPHAN_CHECK_INTERVAL_MS,
    workerCommand: vars.WORKER_COMMAND ?? `node ${resolve(cwd, 'dist/apps/worker/main.js')}`,
    workerAgentKind: vars.WORKER_AGENT_KIND,
    workerAgentCommand: vars.WORKER_AGENT_COMMAND ?? `bash ${resolve(cwd, 'tools/demo-agent/demo-agent.sh')}`,
    workerWorkRoot: vars.WORKER_WORK_ROOT ? absolute(vars.WORKER_WORK_ROOT, cwd) : resolve(runDir, 'workers'),
    maxUploadBytes: vars.MAX_UPLOAD_BYTES,
    pendingSweepIntervalMs: vars.PENDING_SWEEP_INTERVAL_MS,
    workerHeartbeatIntervalMs: vars.WORKER_HEARTBEAT_INTERVAL_MS,
    shutdownPollIntervalMs: vars.SHUTDOWN_POLL_INTERVAL_MS,
    shutdownMode: vars.SHUTDOWN_MODE,
    shutdownStaleWorkerMs: vars.SHUTDOWN_STALE_WORKER_MS,
    sqsVisibilityTimeoutSeconds: vars.SQS_VISIBILITY_TIMEOUT_SECONDS,
    sqsWaitTimeSeconds: vars.SQS_WAIT_TIME_SECONDS,
    sqsMaxInFlight: vars.SQS_MAX_IN_FLIGHT,
    intakeProbeIntervalMs: vars.INTAKE_PROBE_INTERVAL_MS,
    defaultRepositoryBranch: vars.DEFAULT_REPOSITORY_BRANCH,
    maxActiveJobs: vars.MAX_ACTIVE_JOBS,
    repoMaxActiveJobs: vars.REPO_MAX_ACTIVE_JOBS,
    resultsRetentionMs: Math.round(vars.RESULTS_RETENTION_DAYS * 24 * 3_600_000),
    followUpSessionMaxAgeMs: Math.round(vars.FOLLOW_UP_SESSION_MAX_AGE_HOURS * 3_600_000),
    resultsMaxBytes: vars.RESULTS_MAX_BYTES,
    resultsPruneIntervalMs: vars.RESULTS_PRUNE_INTERVAL_MS,
    resultsMinFreeBytes: vars.RESULTS_MIN_FREE_BYTES,
    // The build copies the console next to the bundle (main.js), in dist/ and in the image alike.
    consoleUiDir: vars.CONSOLE_UI_DIR ? absolute(vars.CONSOLE_UI_DIR, cwd) : resolve(__dirname, 'console'),
    ...(grpcTls ? { grpcTls } : {}),
    cancelGraceMs: vars.CANCEL_GRACE_SECONDS * 1000,
    consoleAuth,
    incidentPolicy,
    sqsDlqUrl: vars.SQS_DLQ_URL,
    incidentEvidence: vars.INCIDENT_EVIDENCE === 'on',
    incidentEvidenceLookbackHours: vars.INCIDENT_EVIDENCE_LOOKBACK_HOURS,
    incidentLogsMaxWaitSeconds: vars.INCIDENT_LOGS_MAX_WAIT_SECONDS,
    cloudWatchEndpoint: vars.CLOUDWATCH_ENDPOINT,
    stsEndpoint: vars.STS_ENDPOINT,
    agentAwsSessionSeconds: vars.AGENT_AWS_SESSION_SECONDS,
    ...(jira ? { jira } : {}),
    ...(githubWebhookSecret ? { githubWebhookSecret } : {}),
    githubWebhookMaxBytes: vars.GITHUB_WEBHOOK_MAX_BYTES,
  };
}

/** What the one-shot db-roles task (src/db-roles.ts) reads: the admin's connection and the two roles to provision. */
export interface DbRolesConfig {
  adminUrl: string;
  migrate: { name: string; password: string };
  app: { name: string; password: string };
}

const dbRolesSchema = z.object({
  DB_HOST: hostPort,
  DB_NAME: z.string().min(1),
  DB_ADMIN_USER: z.string().min(1),
  /** The admin's password, as ECS injects the RDS-managed secret. */
  PGPASSWORD: z.string().min(1),
  DB_SSLMODE: z.enum(['disable', 'no-verify', 'require', 'verify-full']).default('no-verify'),
  DB_MIGRATE_ROLE: z.string().min(1),
  DB_MIGRATE_PASSWORD: z.string().min(16),
  DB_APP_ROLE: z.string().min(1),
  DB_APP_PASSWORD: z.string().min(16),
});

export function loadDbRolesConfig(env: NodeJS.ProcessEnv = process.env): DbRolesConfig {
  const parsed = dbRolesSchema.safeParse(env);
  if (!parsed.success) {
    // Names and rules only: zod's messages never echo a value, so no password reaches the log.
    throw new InvalidConductorEnvError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
  }
  const vars = parsed.data;
  const adminUrl = `postgresql://${encodeURIComponent(vars.DB_ADMIN_USER)}:${encodeURIComponent(vars.PGPASSWORD)}@${vars.DB_HOST}/${encodeURIComponent(vars.DB_NAME)}?sslmode=${vars.DB_SSLMODE}`;
  return {
    adminUrl,
    migrate: { name: vars.DB_MIGRATE_ROLE, password: vars.DB_MIGRATE_PASSWORD },
    app: { name: vars.DB_APP_ROLE, password: vars.DB_APP_PASSWORD },
  };
}

/** The variables loadConductorConfig reads, for the spec that holds docs/configuration.md to them. */
export { envSchema as conductorEnvSchema };
