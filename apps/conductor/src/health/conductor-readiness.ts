import { PrismaService } from '@agent-conductor/db';
import { probe } from '@agent-conductor/observability';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { connect } from 'node:net';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { INTAKE_CONTROL } from '../intake/intake-control';
import { DEFAULT_OBSERVABILITY, OBSERVABILITY_CONFIG, type ObservabilityConfig } from '../logging/observability.config';
import { ShutdownGateService } from '../shutdown-gate/shutdown-gate.service';

/** The part of the intake readiness reads; `pausedReason` is set while the intake has paused itself (DB or scheduler down). */
export interface IntakeStatus {
  readonly isRunning: boolean;
  readonly lastReceiveError: string | undefined;
  readonly pausedReason?: string | undefined;
}

function tcpConnect(address: string, timeoutMs: number): Promise<void> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no connection to ${address} within ${timeoutMs} ms`)));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', (error) => reject(new Error(`${address}: ${error.message}`)));
  });
}

/**
 * What makes the conductor ready: Postgres answers, the intake is receiving (or deliberately drained), and the
 * scheduler accepts connections. Without an intake (the worker-side test setup) only the database counts.
 */
@Injectable()
export class ConductorReadiness {
  private readonly timeoutMs: number;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    @Optional() @Inject(OBSERVABILITY_CONFIG) observability?: ObservabilityConfig,
    @Optional() private readonly gate?: ShutdownGateService,
    @Optional() @Inject(INTAKE_CONTROL) readonly intake?: IntakeStatus,
  ) {
    this.timeoutMs = observability?.healthCheckTimeoutMs ?? DEFAULT_OBSERVABILITY.healthCheckTimeoutMs;
  }

  get draining(): boolean {
    return this.gate?.isDraining ?? false;
  }

  checks(): HealthIndicatorFunction[] {
    const checks: HealthIndicatorFunction[] = [
      () => probe(this.indicators, 'database', this.timeoutMs, async () => void (await this.prisma.$queryRaw`SELECT 1`)),
    ];
    const intake = this.intake;
    if (!intake) return checks;
    checks.push(
      () =>
        probe(this.indicators, 'intake', this.timeoutMs, async () => {
          if (intake.lastReceiveError) throw new Error(`receive failing: ${intake.lastReceiveError}`);
          if (intake.pausedReason) throw new Error(`paused: ${intake.pausedReason}`);
          if (!intake.isRunning && !this.draining) throw new Error('not receiving');
          return { state: intake.isRunning ? 'receiving' : 'drained' };
        }),
      () => probe(this.indicators, 'scheduler', this.timeoutMs, () => tcpConnect(this.config.schedulerGrpcAddr, this.timeoutMs)),
    );
    return checks;
  }
}
