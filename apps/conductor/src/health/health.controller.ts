import { PrismaService } from '@agent-conductor/db';
import { Controller, Get, Inject, Optional, ServiceUnavailableException } from '@nestjs/common';
import { INTAKE_CONTROL, type IntakeControl } from '../intake/intake-control';
import { ShutdownGateService } from '../shutdown-gate/shutdown-gate.service';

export interface HealthReport {
  status: 'ok';
  draining: boolean;
  intake: 'receiving' | 'stopped' | 'disabled';
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    @Optional() private readonly gate?: ShutdownGateService,
    @Optional() @Inject(INTAKE_CONTROL) private readonly intake?: IntakeControl,
  ) {}

  @Get()
  async check(): Promise<HealthReport> {
    try {
      await this.prisma.$queryRaw`SELECT 1`;
    } catch (error) {
      throw new ServiceUnavailableException({
        status: 'error',
        reason: `database: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    const receiveError = this.intake?.lastReceiveError;
    if (receiveError) {
      throw new ServiceUnavailableException({ status: 'error', reason: `intake: ${receiveError}` });
    }
    return {
      status: 'ok',
      draining: this.gate?.isDraining ?? false,
      intake: !this.intake ? 'disabled' : this.intake.isRunning ? 'receiving' : 'stopped',
    };
  }
}
