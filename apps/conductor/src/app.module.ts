import { DbModule } from '@agent-conductor/db';
import { DynamicModule, Module } from '@nestjs/common';
import { ConductorConfigModule } from './config/config.module';
import { ConsoleApiModule } from './console-api/console-api.module';
import { ConsoleAuthModule } from './console-auth/console-auth.module';
import type { ConductorConfig } from './config/env.validators';
import { ConsoleUiModule } from './console-ui/console-ui.module';
import { GitHubWebhooksModule } from './github-webhooks/github-webhooks.module';
import { HealthModule } from './health/health.module';
import { IntakeModule } from './intake/intake.module';
import { JobActionsModule } from './job-actions/job-actions.module';
import { LaunchModule } from './launch/launch.module';
import { LoggingModule } from './logging/logging.module';
import { loadObservabilityConfig, ObservabilityConfigModule, type ObservabilityConfig } from './logging/observability.config';
import { MetricsModule } from './metrics/metrics.module';
import { OrphansModule } from './orphans/orphans.module';
import { ShutdownGateModule } from './shutdown-gate/shutdown-gate.module';
import { WorkerApiModule } from './worker-api/worker-api.module';

@Module({})
export class AppModule {
  static forRoot(config: ConductorConfig, observability: ObservabilityConfig = loadObservabilityConfig()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConductorConfigModule.forRoot(config),
        DbModule.forRoot({ databaseUrl: config.databaseUrl, connectTimeoutMs: config.dbConnectTimeoutMs }),
        ObservabilityConfigModule.forRoot(observability),
        MetricsModule,
        LoggingModule,
        LaunchModule,
        WorkerApiModule,
        OrphansModule,
        JobActionsModule,
        IntakeModule,
        ShutdownGateModule,
        HealthModule,
        ConsoleAuthModule,
        ConsoleApiModule,
        ConsoleUiModule,
        GitHubWebhooksModule,
      ],
    };
  }
}
