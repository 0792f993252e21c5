import { PROMETHEUS_CONTENT_TYPE } from '@agent-conductor/observability';
import { Controller, Get, Header } from '@nestjs/common';
import { ConductorMetrics } from './conductor-metrics.service';
import { ApiExcludeController } from '@nestjs/swagger';
import { ConsolePublic } from '../console-auth/console-auth.guard';

// Probes and scrapers stay outside console auth.
@ConsolePublic()
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ConductorMetrics) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
