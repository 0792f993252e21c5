import { extractArchiveSafely } from '@agent-conductor/contracts';
import { DbModule } from '@agent-conductor/db';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { join } from 'node:path';
import { workerGrpcOptions } from '../../src/worker-api/worker-grpc.options';
import { ConductorConfigModule } from '../../src/config/config.module';
import type { ConductorConfig } from '../../src/config/env.validators';
import { HealthModule } from '../../src/health/health.module';
import { JobLaunchService } from '../../src/launch/job-launch.service';
import { LaunchModule } from '../../src/launch/launch.module';
import { TaskArchiveStore } from '../../src/launch/task-archive.store';
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

/** Launches the job (it must launch) and extracts its task archive into `<scratch>/<workerId>`, as a worker would. */
export async function launchAndExtractTask(app: INestApplication, jobId: string, scratch: string): Promise<{ dir: string; workerId: string; handle: string }> {
  const outcome = await app.get(JobLaunchService).launch(jobId);
  if (outcome.status !== 'launched') throw new Error(`expected a launch, got ${JSON.stringify(outcome)}`);
  const dir = join(scratch, outcome.workerId);
  await extractArchiveSafely(app.get(TaskArchiveStore).pathFor(outcome.workerId), dir);
  return { dir, workerId: outcome.workerId, handle: outcome.handle };
}
