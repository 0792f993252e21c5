import { Module } from '@nestjs/common';
import { ShutdownGateModule } from '../shutdown-gate/shutdown-gate.module';
import { HealthController } from './health.controller';

@Module({
  imports: [ShutdownGateModule],
  controllers: [HealthController],
})
export class HealthModule {}
