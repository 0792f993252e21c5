import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { SCHEDULER_OPS_OPTIONS, type SchedulerOpsOptions } from './ops.options';
import { SchedulerReadiness } from './scheduler-readiness';

@Module({})
export class HealthModule {
  static forRoot(options: SchedulerOpsOptions): DynamicModule {
    return {
      module: HealthModule,
      // The 503 body carries the reason; logging every failed probe would flood the log during an outage.
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [{ provide: SCHEDULER_OPS_OPTIONS, useValue: options }, SchedulerReadiness],
    };
  }
}
