import { Logger } from '@nestjs/common';
import { loadSchedulerConfig } from './config/env.validators';
import { createSchedulerMicroservice } from './scheduler.microservice';

async function bootstrap(): Promise<void> {
  const config = loadSchedulerConfig(process.env);
  const app = await createSchedulerMicroservice(config);
  await app.listen();
  Logger.log(`SchedulerService listening on ${config.grpcListenAddr}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
