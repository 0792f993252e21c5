import { PROMETHEUS_CONTENT_TYPE } from '@agent-conductor/observability';
import { Controller, Get, Header } from '@nestjs/common';
import { ConductorMetrics } from './conductor-metrics.service';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ConductorMetrics) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
