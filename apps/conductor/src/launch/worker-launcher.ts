/** What a launcher needs to start one worker. `env` holds the worker's secrets: never log it. */
export interface WorkerLaunchSpec {
  workerId: string;
  jobId: string;
  /** 1-based. With jobId it is the launch's idempotency key: one attempt starts at most one worker. */
  attempt: number;
  /** WORKER_ID, WORKER_TOKEN, CONDUCTOR_GRPC_SERVER_ADDR: what every launcher hands to its worker. */
  env: Record<string, string>;
  /** Where a local worker works; a container has its own disk and ignores it. */
  workDir: string;
  /**
   * The ECS task definition the job's route names (jobs.worker_task_definition): on ECS the image is fixed by the
   * task definition, so this picks the worker image. Absent: the launcher's own (ECS_TASK_DEFINITION). The local
   * launcher ignores it.
   */
  taskDefinition?: string;
}

export interface WorkerExit {
  workerId: string;
  handle: string;
  code: number | null;
  signal: string | null;
  /** Set when the exit was noticed by polling (an adopted worker), so the status is not known. */
  unknownStatus?: boolean;
}

export type WorkerExitListener = (exit: WorkerExit) => void | Promise<void>;

/** A worker row as far as a launcher cares, for adoption after a conductor restart. */
export interface AdoptableWorker {
  id: string;
  jobId: string;
  attempt: number;
  launcherHandle: string | null;
}

/** Infrastructure failures are retried; a launcher marks the ones that would fail the same way again. */
export function isRetryableLaunchError(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && 'retryable' in error && typeof error.retryable === 'boolean') return error.retryable;
  return true;
}

/**
 * Starts workers somewhere (a local child process, or an ECS task). The
 * conductor needs a handle back, a way to stop it, and the task's real state
 * for orphan checks. Exit events exist only where the platform gives them
 * (local children); everything else is covered by `isAlive` polling.
 */
export interface WorkerLauncher {
  /** Stored in workers.launcher ("local" | "ecs" | "spool"). */
  readonly kind: 'local' | 'ecs' | 'spool';
  /**
   * Resolves once the worker is running; rejects when it could not be started.
   * Calling it again for the same job and attempt never starts a second worker.
   */
  launch(spec: WorkerLaunchSpec): Promise<{ handle: string }>;
  stop(handle: string, reason: string): Promise<void>;
  isAlive(handle: string): Promise<boolean>;
  /** Returns an unsubscribe function. */
  onExit(listener: WorkerExitListener): () => void;
  /**
   * After a conductor restart: finds a worker a previous conductor launched and
   * watches it from now on. Returns its handle, or null when nothing was ever
   * started for that attempt (or the launcher cannot tell).
   */
  adopt(worker: AdoptableWorker): Promise<string | null>;
}

export const WORKER_LAUNCHER = Symbol('WORKER_LAUNCHER');
