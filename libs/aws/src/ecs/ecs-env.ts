import type { EcsLauncherConfig } from './ecs-worker-launcher';

/** The variable names the conductor reads for WORKER_LAUNCHER=ecs; kept here so docs and code cannot drift. */
export const ECS_ENV = {
  cluster: 'ECS_CLUSTER',
  taskDefinition: 'ECS_TASK_DEFINITION',
  containerName: 'ECS_CONTAINER_NAME',
  subnets: 'ECS_SUBNETS',
  securityGroups: 'ECS_SECURITY_GROUPS',
  assignPublicIp: 'ECS_ASSIGN_PUBLIC_IP',
  startedBy: 'ECS_STARTED_BY',
  enableExecuteCommand: 'ECS_ENABLE_EXECUTE_COMMAND',
} as const;

/** Comma-separated list, blanks dropped, so `subnet-a, subnet-b,` works. */
export function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function parseBoolean(name: string, value: string | undefined, problems: string[]): boolean {
  if (value === undefined || value === '') return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  problems.push(`${name} must be true or false`);
  return false;
}

/** Builds the launcher config from the environment, reporting every missing or malformed variable at once. */
export function ecsLauncherConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EcsLauncherConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is required`);
    return value ?? '';
  };
  const config: EcsLauncherConfig = {
    cluster: required(ECS_ENV.cluster),
    taskDefinition: required(ECS_ENV.taskDefinition),
    containerName: required(ECS_ENV.containerName),
    subnets: parseList(env[ECS_ENV.subnets]),
    securityGroups: parseList(env[ECS_ENV.securityGroups]),
    assignPublicIp: parseBoolean(ECS_ENV.assignPublicIp, env[ECS_ENV.assignPublicIp], problems),
    enableExecuteCommand: parseBoolean(ECS_ENV.enableExecuteCommand, env[ECS_ENV.enableExecuteCommand], problems),
  };
  if (config.subnets.length === 0) problems.push(`${ECS_ENV.subnets} must list at least one subnet id`);
  const startedBy = env[ECS_ENV.startedBy]?.trim();
  if (startedBy) config.startedBy = startedBy;
  if (problems.length > 0) throw new Error(`invalid ECS launcher environment: ${problems.join('; ')}`);
  return config;
}
