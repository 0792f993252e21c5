import { Module } from '@nestjs/common';
import { LaunchModule } from '../launch/launch.module';
import { OrphanMonitorService } from './orphan-monitor.service';

/** Adoption after a restart, handshake deadlines and heartbeat checks. */
@Module({
  imports: [LaunchModule],
  providers: [OrphanMonitorService],
  exports: [OrphanMonitorService],
})
export class OrphansModule {}
