import { DbModule } from '@agent-conductor/db';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { workerGrpcOptions } from '../../src/worker-api/worker-grpc.options';
import { ConductorConfigModule } from '../../src/config/config.module';
import type { ConductorConfig } from '../../src/config/env.validators';
import { HealthModule } from '../../src/health/health.module';
import { LaunchModule } from '../../src/launch/launch.module';
import { ShutdownGateModule } from '../../src/shutdown-gate/shutdown-gate.module';
import { WorkerApiModule } from '../../src/worker-api/worker-api.module';

/**
 * The conductor without its SQS intake: real database, real gRPC server on
 * loopback, real launcher. The intake has its own tests against a local queue.
 */
export async function startConductorParts(config: ConductorConfig, extraImports: Array<DynamicModule | Type<unknown>> = []): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConductorConfigModule.forRoot(config),
      DbModule.forRoot({ databaseUrl: config.databaseUrl }),
      LaunchModule,
      WorkerApiModule,
      ShutdownGateModule,
      HealthModule,
      ...extraImports,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  app.connectMicroservice(workerGrpcOptions(config), { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  return app;
}
