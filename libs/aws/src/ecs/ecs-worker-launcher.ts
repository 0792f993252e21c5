import { errorMessage } from '@agent-conductor/scheduling-domain';
import {
  DescribeTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type Failure,
  type RunTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import { createHash } from 'node:crypto';

export interface EcsLauncherConfig {
  cluster: string;
  taskDefinition: string;
  /** The container in the task definition that runs the worker; it receives the environment overrides. */
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  /** Needed in public subnets without a NAT gateway, or the task cannot pull its image or reach the conductor. */
  assignPublicIp: boolean;
  /** Default 'agent-conductor'. Lets operators (and ListTasks) find every task the conductor started. */
  startedBy?: string;
  enableExecuteCommand?: boolean;
}

export interface WorkerLaunchSpec {
  workerId: string;
  jobId: string;
  /** 1-based; with jobId it forms the RunTask clientToken, so each attempt starts at most one task. */
  attempt: number;
  /** WORKER_ID, WORKER_TOKEN, CONDUCTOR_GRPC_SERVER_ADDR, ... The values are secrets: never log them. */
  env: Record<string, string>;
  /**
   * A task definition for this launch (family, family:revision or ARN) instead of the configured one: a job's route
   * picks its worker image this way. It needs a container named like `containerName`, and the conductor's role must
   * be allowed to RunTask it.
   */
  taskDefinition?: string;
}

export type EcsTaskState = 'pending' | 'running' | 'stopped' | 'missing';

export interface EcsTaskStatus {
  state: EcsTaskState;
  stoppedReason?: string;
  exitCode?: number;
}

/** A launch that did not start a task. `retryable` says whether a later attempt may succeed without a config change. */
export class LaunchFailedError extends Error {
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
  ) {
    super(`ECS launch failed (${retryable ? 'retryable' : 'permanent'}): ${reason}`);
    this.name = 'LaunchFailedError';
  }
}

export const DEFAULT_STARTED_BY = 'agent-conductor';
export const TAG_JOB_ID = 'agent-conductor:job-id';
export const TAG_WORKER_ID = 'agent-conductor:worker-id';
export const TAG_ATTEMPT = 'agent-conductor:attempt';

/** ECS rejects a longer StopTask reason. */
const MAX_STOP_REASON = 255;
/** startedBy: up to 36 letters, digits, hyphens and underscores (ECS API reference). */
const STARTED_BY_PATTERN = /^[A-Za-z0-9_-]{1,36}$/;
/** Ids become tag values and the clientToken; UUIDs and similar slugs fit both character sets. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const CLIENT_TOKEN_MAX = 64;
/** A task definition family, family:revision, or its ARN. */
const TASK_DEFINITION_PATTERN = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}(:\d+)?$/;

/**
 * Errors that will fail the same way next time: bad configuration, missing permissions, or (ConflictException)
 * this clientToken already used with other parameters, i.e. this job attempt was launched before.
 */
const PERMANENT_ERRORS = new Set([
  'AccessDeniedException',
  'BlockedException',
  'ClientException',
  'ClusterNotFoundException',
  'ConflictException',
  'InvalidParameterException',
  'PlatformTaskDefinitionIncompatibilityException',
  'PlatformUnknownException',
  'UnsupportedFeatureException',
]);

/** RunTask failure reasons that depend on the moment (capacity, an agent reconnecting), not on our request. */
const TRANSIENT_FAILURE = [/^RESOURCE:/i, /^AGENT$/i, /capacity is unavailable/i, /^TaskFailedToStart: (RESOURCE|AGENT)/i, /throttl/i];
/** Reasons that repeat until someone fixes the configuration (e.g. a deregistered task definition). */
const PERMANENT_FAILURE = [/^MISSING$/i, /^ATTRIBUTE$/i, /^INACTIVE$/i, /invalid/i, /not found/i, /does not exist/i];

/** ECS lastStatus values of a task that has not reached RUNNING yet. */
const PENDING_STATUSES = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

/**
 * The idempotency key of one job attempt: stable across conductor restarts and SDK retries, at most 64 characters
 * of the printable ASCII range ECS accepts. Long or unusual ids are hashed rather than truncated so that two
 * attempts never share a token.
 */
export function launchClientToken(jobId: string, attempt: number): string {
  const readable = `${jobId}.${attempt}`;
  if (readable.length <= CLIENT_TOKEN_MAX && /^[\x21-\x7e]+$/.test(readable)) return readable;
  return createHash('sha256').update(`${jobId}\n${attempt}`).digest('hex');
}

/**
 * Starts each worker as a Fargate task (WORKER_LAUNCHER=ecs). A plain class so that scripts can use it without
 * Nest; the conductor wraps it in a provider.
 */
export class EcsWorkerLauncher {
  readonly kind = 'ecs';
  private readonly startedBy: string;

  constructor(
    private readonly ecs: ECSClient,
    private readonly config: EcsLauncherConfig,
  ) {
    const problems = validateConfig(config);
    if (problems.length > 0) throw new Error(`invalid ECS launcher config: ${problems.join('; ')}`);
    this.startedBy = config.startedBy ?? DEFAULT_STARTED_BY;
  }

  async launch(spec: WorkerLaunchSpec): Promise<{ handle: string }> {
    if (!ID_PATTERN.test(spec.jobId) || !ID_PATTERN.test(spec.workerId)) {
      throw new LaunchFailedError('jobId and workerId must be slugs of letters, digits, - and _', false);
    }
    if (!Number.isInteger(spec.attempt) || spec.attempt < 1) throw new LaunchFailedError(`attempt must be a positive integer, got ${spec.attempt}`, false);
    if (spec.taskDefinition !== undefined && !TASK_DEFINITION_PATTERN.test(spec.taskDefinition)) {
      throw new LaunchFailedError(`task definition ${JSON.stringify(spec.taskDefinition.slice(0, 300))} is not a family, family:revision or ARN`, false);
    }
    const input: RunTaskCommandInput = {
      cluster: this.config.cluster,
      taskDefinition: spec.taskDefinition ?? this.config.taskDefinition,
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...this.config.subnets],
          securityGroups: [...this.config.securityGroups],
          assignPublicIp: this.config.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: this.config.containerName,
            // Sorted so that a repeated launch sends identical parameters; ECS answers a reused clientToken with
            // different parameters by ConflictException.
            environment: Object.entries(spec.env)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([name, value]) => ({ name, value })),
          },
        ],
      },
      clientToken: launchClientToken(spec.jobId, spec.attempt),
      startedBy: this.startedBy,
      enableExecuteCommand: this.config.enableExecuteCommand ?? false,
      tags: [
        { key: TAG_JOB_ID, value: spec.jobId },
        { key: TAG_WORKER_ID, value: spec.workerId },
        { key: TAG_ATTEMPT, value: String(spec.attempt) },
      ],
    };

    let tasks: Task[];
    let failures: Failure[];
    try {
      const output = await this.ecs.send(new RunTaskCommand(input));
      tasks = output.tasks ?? [];
      failures = output.failures ?? [];
    } catch (error) {
      throw new LaunchFailedError(redact(describeSdkError(error), spec.env), !isPermanentSdkError(error));
    }

    const taskArn = tasks.find((task) => task.taskArn)?.taskArn;
    if (taskArn) return { handle: taskArn };
    if (failures.length > 0) {
      const reason = failures.map(describeFailure).join('; ');
      throw new LaunchFailedError(redact(`RunTask failures: ${reason}`, spec.env), failures.every(isTransientFailure));
    }
    // Nothing started and nothing explained: treat it like a lost response and let the next attempt try again.
    throw new LaunchFailedError('RunTask returned neither a task nor a failure', true);
  }

  /** Stops the task. A task that is already stopped or no longer known to ECS counts as stopped. */
  async stop(handle: string, reason = 'stopped by agent-conductor'): Promise<void> {
    try {
      await this.ecs.send(new StopTaskCommand({ cluster: this.config.cluster, task: handle, reason: reason.slice(0, MAX_STOP_REASON) }));
    } catch (error) {
      if (errorName(error) === 'InvalidParameterException' && /not found/i.test(errorMessage(error))) return;
      throw error;
    }
  }

  /**
   * The task's real state, for orphan checks. `stopped` once ECS wants the task stopped (its container may still be
   * winding down); `missing` when ECS no longer knows the task (stopped tasks disappear after about an hour).
   */
  async describe(handle: string): Promise<EcsTaskStatus> {
    const output = await this.ecs.send(new DescribeTasksCommand({ cluster: this.config.cluster, tasks: [handle] }));
    const task = output.tasks?.find((candidate) => candidate.taskArn === handle) ?? output.tasks?.[0];
    if (!task) {
      const failure = output.failures?.find((candidate) => candidate.reason !== 'MISSING');
      if (failure) throw new Error(`DescribeTasks failed for ${handle}: ${describeFailure(failure)}`);
      return { state: 'missing' };
    }
    const status: EcsTaskStatus = { state: taskState(task) };
    if (status.state === 'stopped') {
      if (task.stoppedReason) status.stoppedReason = task.stoppedReason;
      const exitCode = task.containers?.find((container) => container.name === this.config.containerName)?.exitCode;
      if (exitCode !== undefined) status.exitCode = exitCode;
    }
    return status;
  }

  /** True while the task may still do work: the shape of the conductor's WorkerLauncher.isAlive. */
  async isAlive(handle: string): Promise<boolean> {
    const { state } = await this.describe(handle);
    return state === 'pending' || state === 'running';
  }
}

function taskState(task: Task): EcsTaskState {
  if (task.desiredStatus === 'STOPPED') return 'stopped';
  const last = task.lastStatus ?? 'PROVISIONING';
  if (last === 'RUNNING') return 'running';
  if (PENDING_STATUSES.has(last)) return 'pending';
  return 'stopped';
}

function validateConfig(config: EcsLauncherConfig): string[] {
  const problems: string[] = [];
  if (!config.cluster) problems.push('cluster is empty');
  if (!config.taskDefinition) problems.push('taskDefinition is empty');
  if (!config.containerName) problems.push('containerName is empty');
  if (config.subnets.length === 0 || config.subnets.some((subnet) => !subnet)) problems.push('subnets must be a non-empty list of ids');
  if (config.securityGroups.some((group) => !group)) problems.push('securityGroups must not contain empty ids');
  if (config.startedBy !== undefined && !STARTED_BY_PATTERN.test(config.startedBy)) {
    problems.push('startedBy must be 1-36 letters, digits, hyphens or underscores');
  }
  return problems;
}

function describeFailure(failure: Failure): string {
  const parts = [failure.reason ?? 'unknown reason'];
  if (failure.detail) parts.push(`(${failure.detail})`);
  if (failure.arn) parts.push(`[${failure.arn}]`);
  return parts.join(' ');
}

function isTransientFailure(failure: Failure): boolean {
  const reason = failure.reason ?? '';
  if (TRANSIENT_FAILURE.some((pattern) => pattern.test(reason))) return true;
  if (PERMANENT_FAILURE.some((pattern) => pattern.test(reason))) return false;
  // An unknown reason is an infrastructure failure like any other; the conductor bounds the attempts.
  return true;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'UnknownError';
}

function describeSdkError(error: unknown): string {
  return `${errorName(error)}: ${errorMessage(error)}`;
}

function isPermanentSdkError(error: unknown): boolean {
  return PERMANENT_ERRORS.has(errorName(error));
}

/**
 * ECS validation messages can quote request parameters, and the request carries the worker token. Short values
 * are left alone: they are not secrets and would blank out ordinary words.
 */
function redact(text: string, env: Record<string, string>): string {
  let result = text;
  for (const value of Object.values(env)) {
    if (value.length >= 8) result = result.split(value).join('[redacted]');
  }
  return result;
}
