import 'reflect-metadata';
import type { LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { WorkerConfig } from './config/env.validators';
import { setWorkerLogContext } from './logging/worker-logger';
import { WorkerRunner, type WorkerRunOutcome } from './runner/worker-runner.service';
import { WorkerModule } from './worker.module';

export interface RunWorkerOptions {
  logger?: LoggerService | LogLevel[] | false;
}

/** Boots the worker's Nest context for one job, runs it, and tears the context down. */
export async function runWorker(config: WorkerConfig, options: RunWorkerOptions = {}): Promise<WorkerRunOutcome> {
  // The job id joins after the handshake; a previous run in this process (tests) must not lend it its own.
  setWorkerLogContext({ workerId: config.workerId, jobId: undefined });
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: options.logger ?? ['log', 'warn', 'error'],
    abortOnError: false,
  });
  try {
    return await app.get(WorkerRunner).run();
  } finally {
    await app.close();
  }
}
