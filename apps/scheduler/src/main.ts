import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { bootstrapScheduler } from './bootstrap';
import { loadSchedulerConfig } from './config/env.validators';
import { loadSchedulerOpsOptions } from './health/ops.options';
import { createSchedulerLogger } from './logging/scheduler-logger';

async function bootstrap(): Promise<void> {
  const logger = createSchedulerLogger(process.env);
  Logger.overrideLogger(logger);
  const config = loadSchedulerConfig(process.env);
  const ops = loadSchedulerOpsOptions(process.env);
  const app = await bootstrapScheduler(config, { logger, ops });
  const http = app.getHttpServer().address() as AddressInfo;
  Logger.log(`SchedulerService listening on ${config.grpcListenAddr}; health and metrics on :${http.port}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error), 'Bootstrap');
  process.exit(1);
});
