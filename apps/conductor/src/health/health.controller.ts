import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ConductorReadiness } from './conductor-readiness';
import { ApiExcludeController } from '@nestjs/swagger';
import { ConsolePublic } from '../console-auth/console-auth.guard';

export interface HealthReport {
  status: 'ok';
  draining: boolean;
  intake: 'receiving' | 'stopped' | 'disabled';
}

export interface LivenessReport {
  status: 'ok';
  uptimeSeconds: number;
}

// Probes and scrapers stay outside console auth.
@ConsolePublic()
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ConductorReadiness,
  ) {}

  /**
   * The process is up and its event loop turns. Deliberately ignores Postgres: a container restarted for a
   * database outage would orphan its workers, and the conductor is built to ride such an outage out.
   */
  @Get('live')
  live(): LivenessReport {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  /** 200 with each check's state, or 503 with the failing checks and their reasons. */
  @Get('ready')
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.readiness.checks());
  }

  /** The original endpoint, kept for existing probes: readiness in its compact shape. */
  @Get()
  async check(): Promise<HealthReport> {
    try {
      await this.health.check(this.readiness.checks());
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const reasons = Object.entries(result.error ?? {}).map(([key, detail]) => `${key}: ${String(detail?.['message'] ?? 'down')}`);
      throw new ServiceUnavailableException({ status: 'error', reason: reasons.join('; ') });
    }
    const intake = this.readiness.intake;
    return {
      status: 'ok',
      draining: this.readiness.draining,
      intake: !intake ? 'disabled' : intake.isRunning ? 'receiving' : 'stopped',
    };
  }
}
