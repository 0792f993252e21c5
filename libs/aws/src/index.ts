export { createSqsClient, type SqsClientOptions } from './sqs/sqs-client';
export { SqsIntakeConsumer, type IntakeLogger, type IntakeMessage, type SqsIntakeOptions } from './sqs/sqs-intake-consumer';
export { createEcsClient, DEFAULT_ECS_MAX_ATTEMPTS, type EcsClientOptions } from './ecs/ecs-client';
export { ECS_ENV, ecsLauncherConfigFromEnv } from './ecs/ecs-env';
export {
  EcsWorkerLauncher,
  LaunchFailedError,
  launchClientToken,
  type EcsLauncherConfig,
  type EcsTaskState,
  type EcsTaskStatus,
  type WorkerLaunchSpec,
} from './ecs/ecs-worker-launcher';
