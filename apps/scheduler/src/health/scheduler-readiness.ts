import { PrismaService } from '@agent-conductor/db';
import { probe } from '@agent-conductor/observability';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { SCHEDULER_OPS_OPTIONS, type SchedulerOpsOptions } from './ops.options';

/** What makes the scheduler ready: Postgres answers within the check's budget. It has no other dependency. */
@Injectable()
export class SchedulerReadiness {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    @Inject(SCHEDULER_OPS_OPTIONS) private readonly options: Pick<SchedulerOpsOptions, 'healthCheckTimeoutMs'>,
  ) {}

  checks(): HealthIndicatorFunction[] {
    return [() => probe(this.indicators, 'database', this.options.healthCheckTimeoutMs, async () => void (await this.prisma.$queryRaw`SELECT 1`))];
  }
}
