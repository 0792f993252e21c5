import { Logger } from '@nestjs/common';
import { loadSchedulerConfig } from './config/env.validators';
import { loadSchedulerOpsOptions } from './health/ops.options';
import { createSchedulerLogger } from './logging/scheduler-logger';
import { createSchedulerMicroservice } from './scheduler.microservice';

async function bootstrap(): Promise<void> {
  const logger = createSchedulerLogger(process.env);
  Logger.overrideLogger(logger);
  const config = loadSchedulerConfig(process.env);
  const app = await createSchedulerMicroservice(config, { logger, ops: loadSchedulerOpsOptions(process.env) });
  await app.listen();
  Logger.log(`SchedulerService listening on ${config.grpcListenAddr}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error), 'Bootstrap');
  process.exit(1);
});
