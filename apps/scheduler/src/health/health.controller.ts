import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { SchedulerReadiness } from './scheduler-readiness';

export interface LivenessReport {
  status: 'ok';
  uptimeSeconds: number;
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: SchedulerReadiness,
  ) {}

  /** The process is up and its event loop turns; Postgres does not count (a restart would not bring it back). */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): LivenessReport {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  /** 200 with each check's state, or 503 with the failing checks and their reasons. */
  @Get('ready')
  @Header('Cache-Control', 'no-store')
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.readiness.checks());
  }

  /** The same as /health/ready, for probes that know only /health. */
  @Get()
  @Header('Cache-Control', 'no-store')
  check(): Promise<HealthCheckResult> {
    return this.ready();
  }
}
