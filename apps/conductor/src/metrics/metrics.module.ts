import { Global, Module } from '@nestjs/common';
import { ConductorMetrics } from './conductor-metrics.service';
import { MetricsController } from './metrics.controller';

/** Global: intake, launch, retry and orphan code count into ConductorMetrics without importing this module. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [ConductorMetrics],
  exports: [ConductorMetrics],
})
export class MetricsModule {}
