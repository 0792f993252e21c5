import { DbModule } from '@agent-conductor/db';
import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { SchedulerConfigValues } from './config/env.validators';
import { IngestModule } from './ingest/ingest.module';
import { HealthModule } from './health/health.module';
import type { SchedulerOpsOptions } from './health/ops.options';
import { MetricsModule } from './metrics/metrics.module';

@Module({})
export class AppModule {
  /** Without `ops` there is no health check to configure: the scheduler serves gRPC only (tests that need no HTTP port). */
  static forRoot(config: SchedulerConfigValues, ops?: SchedulerOpsOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), DbModule.forRoot({ databaseUrl: config.databaseUrl, connectTimeoutMs: config.dbConnectTimeoutMs }), MetricsModule, IngestModule, ...(ops ? [HealthModule.forRoot(ops)] : [])],
    };
  }
}
