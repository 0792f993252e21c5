import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module';
import type { WorkerConfig } from './config/env.validators';
import { FsModule } from './fs/fs.module';
import { RunnerModule } from './runner/runner.module';

@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    return { module: WorkerModule, imports: [ConfigModule.forRoot(config), FsModule, RunnerModule] };
  }
}
