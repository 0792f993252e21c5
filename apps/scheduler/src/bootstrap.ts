import { PROTO_LOADER_OPTIONS, protoRoot, SCHEDULER_PROTO_FILE, SCHEDULER_PROTO_PACKAGE } from '@agent-conductor/contracts';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import { AppModule } from './app.module';
import type { SchedulerConfigValues } from './config/env.validators';
import type { SchedulerOpsOptions } from './health/ops.options';

export interface SchedulerBootstrapOptions {
  logger?: LoggerService | false;
  /** Health and metrics over HTTP on `ops.httpPort` (0 picks a free port). Without it the scheduler serves gRPC only. */
  ops?: SchedulerOpsOptions;
}

export function schedulerGrpcOptions(config: Pick<SchedulerConfigValues, 'grpcListenAddr'>): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: SCHEDULER_PROTO_PACKAGE,
      protoPath: SCHEDULER_PROTO_FILE,
      url: config.grpcListenAddr,
      loader: { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] },
    },
  };
}

/**
 * Builds and starts the scheduler as main.ts runs it, and tests start the very same thing: gRPC SchedulerService
 * on SCHEDULER_GRPC_LISTEN_ADDR, and with `ops` /health/live, /health/ready, /health and /metrics over HTTP.
 * `app.close()` stops both.
 */
export async function bootstrapScheduler(config: SchedulerConfigValues, options: SchedulerBootstrapOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, options.ops), {
    // Without this Nest logs a failed boot and exits the process itself; we want the error.
    abortOnError: false,
    // A scraper's keep-alive connection must not hold a shutdown open.
    forceCloseConnections: true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  app.enableShutdownHooks();
  app.connectMicroservice(schedulerGrpcOptions(config), { inheritAppConfig: true });
  try {
    // Init first: the gRPC port opens only once Postgres answers, as the conductor's readiness check assumes.
    await app.init();
    await app.startAllMicroservices();
    if (options.ops) await app.listen(options.ops.httpPort);
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
