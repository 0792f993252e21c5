import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ShutdownGateModule } from '../shutdown-gate/shutdown-gate.module';
import { ConductorReadiness } from './conductor-readiness';
import { HealthController } from './health.controller';

@Module({
  // Failed checks are answered with their reasons; logging each one too would flood the log during an outage.
  imports: [ShutdownGateModule, TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ConductorReadiness],
})
export class HealthModule {}
