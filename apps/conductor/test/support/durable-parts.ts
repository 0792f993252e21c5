import { DbModule } from '@agent-conductor/db';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConductorConfigModule } from '../../src/config/config.module';
import type { ConductorConfig } from '../../src/config/env.validators';
import { LaunchModule } from '../../src/launch/launch.module';
import { OrphansModule } from '../../src/orphans/orphans.module';
import { WorkerApiModule } from '../../src/worker-api/worker-api.module';
import { workerGrpcOptions } from '../../src/worker-api/worker-grpc.options';

/**
 * The conductor's launch, worker API and orphan checks on a real database and
 * a real gRPC server, without intake or the shutdown gate: what retries,
 * orphan handling and adoption after a restart need.
 */
export async function startDurableConductor(config: ConductorConfig): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConductorConfigModule.forRoot(config), DbModule.forRoot({ databaseUrl: config.databaseUrl }), LaunchModule, WorkerApiModule, OrphansModule],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  app.connectMicroservice(workerGrpcOptions(config), { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  return app;
}
