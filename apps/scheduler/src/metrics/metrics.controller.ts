import { PROMETHEUS_CONTENT_TYPE } from '@agent-conductor/observability';
import { Controller, Get, Header } from '@nestjs/common';
import { SchedulerMetrics } from './scheduler-metrics.service';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: SchedulerMetrics) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
