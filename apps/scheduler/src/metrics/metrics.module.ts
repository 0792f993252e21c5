import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { SchedulerMetrics } from './scheduler-metrics.service';

@Global()
@Module({ controllers: [MetricsController], providers: [SchedulerMetrics], exports: [SchedulerMetrics] })
export class MetricsModule {}
