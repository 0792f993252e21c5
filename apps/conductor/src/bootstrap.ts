import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadConductorConfig, type ConductorConfig } from './config/env.validators';
import { setupConsoleApiDocs } from './console-api/console-api.docs';
import { createConductorLogger } from './logging/conductor-logger';
import { loadObservabilityConfig } from './logging/observability.config';
import { workerGrpcOptions } from './worker-api/worker-grpc.options';

export { workerGrpcOptions };

export interface BootstrapOptions {
  /** Start listening on CONDUCTOR_HTTP_PORT (0 picks a free port). Default true. */
  listen?: boolean;
  /** Defaults to the structured logger in LOG_FORMAT (json in production). */
  logger?: LoggerService;
}

/**
 * Builds and starts the conductor: config from the environment with
 * `overrides` on top, gRPC for workers, HTTP for /health and the console. Tests and main.ts
 * share it; `app.close()` stops everything it started.
 */
export async function bootstrapConductor(
  overrides: Partial<ConductorConfig> = {},
  options: BootstrapOptions = {},
): Promise<INestApplication> {
  const config: ConductorConfig = { ...loadConductorConfig(), ...overrides };
  const observability = loadObservabilityConfig();
  const logger = options.logger ?? createConductorLogger(observability);
  const app = await NestFactory.create(AppModule.forRoot(config, observability), { bufferLogs: false, logger });
  setupConsoleApiDocs(app);
  app.connectMicroservice(workerGrpcOptions(config), { inheritAppConfig: true });
  await app.startAllMicroservices();
  if (options.listen ?? true) await app.listen(config.httpPort);
  else await app.init();
  return app;
}
