import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { WorkerLogContextInterceptor } from './worker-log-context.interceptor';

@Module({
  providers: [{ provide: APP_INTERCEPTOR, useClass: WorkerLogContextInterceptor }],
})
export class LoggingModule {}
