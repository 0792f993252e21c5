import { EcsWorkerLauncher } from '@agent-conductor/aws';
import type { AdoptableWorker, WorkerExitListener, WorkerLaunchSpec, WorkerLauncher } from './worker-launcher';

/** Only these reach the container; the task definition sets the rest (agent kind, publisher, work dir). */
const CONTAINER_ENV = ['WORKER_ID', 'WORKER_TOKEN', 'CONDUCTOR_GRPC_SERVER_ADDR'];

/**
 * WORKER_LAUNCHER=ecs: the lib's EcsWorkerLauncher behind the conductor's
 * interface. ECS sends no exit events, so `onExit` never fires; the orphan
 * checks find stopped tasks through `isAlive` (DescribeTasks) instead.
 */
export class EcsLauncher implements WorkerLauncher {
  readonly kind = 'ecs';

  constructor(private readonly ecs: EcsWorkerLauncher) {}

  launch(spec: WorkerLaunchSpec): Promise<{ handle: string }> {
    const env = Object.fromEntries(Object.entries(spec.env).filter(([name]) => CONTAINER_ENV.includes(name)));
    return this.ecs.launch({
      workerId: spec.workerId,
      jobId: spec.jobId,
      attempt: spec.attempt,
      env,
      ...(spec.taskDefinition !== undefined ? { taskDefinition: spec.taskDefinition } : {}),
    });
  }

  stop(handle: string, reason: string): Promise<void> {
    return this.ecs.stop(handle, reason);
  }

  isAlive(handle: string): Promise<boolean> {
    return this.ecs.isAlive(handle);
  }

  /** ECS pushes nothing; the listener is never called. */
  onExit(listener: WorkerExitListener): () => void {
    void listener;
    return () => undefined;
  }

  /**
   * Without a task ARN there is nothing to ask ECS about: a RunTask whose
   * answer was lost cannot be repeated (the worker's token is not stored), so
   * such an attempt is left to the handshake deadline.
   */
  async adopt(worker: AdoptableWorker): Promise<string | null> {
    return worker.launcherHandle;
  }
}
