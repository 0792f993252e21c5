import { DynamicModule, Module } from '@nestjs/common';
import type { WorkerConfig } from './env.validators';

export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

@Module({})
export class ConfigModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    return { module: ConfigModule, global: true, providers: [{ provide: WORKER_CONFIG, useValue: config }], exports: [WORKER_CONFIG] };
  }
}
