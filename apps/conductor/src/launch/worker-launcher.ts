/** What a launcher needs to start one worker. `env` holds the worker's secrets: never log it. */
export interface WorkerLaunchSpec {
  workerId: string;
  jobId: string;
  env: Record<string, string>;
  workDir: string;
}

export interface WorkerExit {
  workerId: string;
  handle: string;
  code: number | null;
  signal: string | null;
}

export type WorkerExitListener = (exit: WorkerExit) => void | Promise<void>;

/**
 * Starts workers somewhere (a local child process today, an ECS task later).
 * The conductor only needs a handle back and to hear when a worker exits.
 */
export interface WorkerLauncher {
  /** Stored in workers.launcher ("local" | "ecs"). */
  readonly kind: string;
  /** Resolves once the worker is running; rejects when it could not be started. */
  launch(spec: WorkerLaunchSpec): Promise<{ handle: string }>;
  stop(handle: string): Promise<void>;
  isAlive(handle: string): Promise<boolean>;
  /** Returns an unsubscribe function. */
  onExit(listener: WorkerExitListener): () => void;
}

export const WORKER_LAUNCHER = Symbol('WORKER_LAUNCHER');
