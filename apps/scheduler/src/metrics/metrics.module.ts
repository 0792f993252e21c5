import { Global, Module } from '@nestjs/common';
import { SchedulerMetrics } from './scheduler-metrics.service';

@Global()
@Module({ providers: [SchedulerMetrics], exports: [SchedulerMetrics] })
export class MetricsModule {}
