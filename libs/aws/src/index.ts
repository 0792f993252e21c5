export { createSqsClient, type SqsClientOptions } from './sqs/sqs-client';
export { SqsIntakeConsumer, type IntakeLogger, type IntakeMessage, type IntakeOutcome, type SqsIntakeOptions } from './sqs/sqs-intake-consumer';
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
export { DirectoryResultStore, downloadAgentSession, resultArchiveName, resultSessionName, validateResultKey, type ResultKey, type ResultStore } from './s3/result-store';
export { createS3Client, type S3ClientOptions } from './s3/s3-client';
export { S3_ENV, s3ResultStoreFromEnv } from './s3/s3-env';
export { RESULT_CONTENT_TYPE, S3ResultStore, type S3ResultStoreConfig } from './s3/s3-result-store';
export { createCloudWatchClient, type CloudWatchClientOptions } from './cloudwatch/cloudwatch-client';
export {
  CloudWatchAlarmTelemetry,
  type AlarmDefinition,
  type AlarmStateChange,
  type AlarmTelemetrySource,
  type AlarmTelemetrySourceFactory,
  type MetricPoint,
  type MetricSeries,
} from './cloudwatch/alarm-telemetry';
export { createCloudWatchLogsClient, type CloudWatchLogsClientOptions } from './cloudwatch/cloudwatch-logs-client';
export {
  CloudWatchLogsInsights,
  DEFAULT_LOGS_INSIGHTS_OPTIONS,
  LogsQueryError,
  type LogsInsightsOptions,
  type LogsInsightsQuery,
  type LogsInsightsSource,
  type LogsQueryResult,
} from './cloudwatch/logs-insights';
export { roleAssumingTelemetry, type RoleAssumingTelemetryOptions } from './cloudwatch/role-assuming-telemetry';
export {
  assumedRoleProvider,
  assumeRole,
  createStsClient,
  MAX_SESSION_SECONDS,
  MIN_SESSION_SECONDS,
  REFRESH_MARGIN_MS,
  type AssumeRoleRequest,
  type InvestigationRole,
  type SessionCredentials,
  type StsClientOptions,
} from './sts/assume-role';
export { readOnlySessionPolicy } from './sts/session-policy';
