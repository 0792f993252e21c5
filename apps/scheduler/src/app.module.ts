import { DbModule } from '@agent-conductor/db';
import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import { SchedulerConfigValues } from './config/env.validators';
import { IngestModule } from './ingest/ingest.module';

@Module({})
export class AppModule {
  static forRoot(config: SchedulerConfigValues): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), DbModule.forRoot({ databaseUrl: config.databaseUrl, connectTimeoutMs: config.dbConnectTimeoutMs }), IngestModule],
    };
  }
}
