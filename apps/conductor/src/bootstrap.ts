import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { loadConductorConfig, type ConductorConfig } from './config/env.validators';
import { setupConsoleApiDocs } from './console-api/console-api.docs';
import { devConsoleToken } from './console-auth/dev-console-token';
import { githubWebhookBodyReader, GITHUB_WEBHOOK_PATH } from './github-webhooks/github-webhook-body';
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
  let config: ConductorConfig = { ...loadConductorConfig(), ...overrides };
  const observability = loadObservabilityConfig();
  const logger = options.logger ?? createConductorLogger(observability);
  const dev = await devConsoleToken(config);
  if (dev) {
    config = { ...config, consoleAuth: dev.consoleAuth };
    // Development only (NODE_ENV=development, no CONSOLE_TOKEN): the operator needs the token to log in.
    logger.log(`operator console: open http://localhost:${config.httpPort} and log in with ${dev.token} (kept in ${dev.file})`, 'ConsoleAuth');
  }
  const app = await NestFactory.create(AppModule.forRoot(config, observability), { bufferLogs: false, logger });
  // Before init: the webhook's raw bytes must be read before the global JSON parser would consume them.
  app.use(GITHUB_WEBHOOK_PATH, githubWebhookBodyReader(config));
  setupConsoleApiDocs(app);
  app.connectMicroservice(workerGrpcOptions(config), { inheritAppConfig: true });
  await app.startAllMicroservices();
  if (options.listen ?? true) await app.listen(config.httpPort);
  else await app.init();
  return app;
}
