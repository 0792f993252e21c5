import { FollowUpPolicy, IncidentPolicy, RoutingTable } from '@agent-conductor/scheduling-domain';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { SchedulerConfigValues } from './env.validators';

/** Injection token and type of the validated configuration. */
export abstract class SchedulerConfig implements SchedulerConfigValues {
  abstract readonly production: boolean;
  abstract readonly databaseUrl: string;
  abstract readonly dbConnectTimeoutMs: number;
  abstract readonly grpcListenAddr: string;
  abstract readonly defaultRepositoryUrl: string;
  abstract readonly defaultRepositoryBranch: string;
  abstract readonly incidentPolicy: IncidentPolicy;
  abstract readonly followUpPolicy: FollowUpPolicy;
  abstract readonly routingFile?: string;
  abstract readonly routing?: RoutingTable;
}

@Global()
@Module({})
export class ConfigModule {
  /** Takes the config main.ts already validated (it needs the listen address before Nest exists). */
  static forRoot(config: SchedulerConfigValues): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: SchedulerConfig, useValue: Object.freeze({ ...config }) }],
      exports: [SchedulerConfig],
    };
  }
}
