import { PROTO_LOADER_OPTIONS, protoRoot, SCHEDULER_PROTO_FILE, SCHEDULER_PROTO_PACKAGE } from '@agent-conductor/contracts';
import { INestMicroservice, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcOptions, Transport } from '@nestjs/microservices';
import { AppModule } from './app.module';
import { SchedulerConfigValues } from './config/env.validators';
import type { SchedulerOpsOptions } from './health/ops.options';

/** The scheduler as main.ts runs it; tests start the very same thing. */
export async function createSchedulerMicroservice(
  config: SchedulerConfigValues,
  options: { logger?: LoggerService | false; ops?: SchedulerOpsOptions } = {},
): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<GrpcOptions>(AppModule.forRoot(config, options.ops), {
    transport: Transport.GRPC,
    options: {
      package: SCHEDULER_PROTO_PACKAGE,
      protoPath: SCHEDULER_PROTO_FILE,
      url: config.grpcListenAddr,
      loader: { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] },
    },
    // Without this Nest logs a failed boot and exits the process itself; we want the error.
    abortOnError: false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  app.enableShutdownHooks();
  return app;
}
