import { Module } from '@nestjs/common';
import { LaunchModule } from '../launch/launch.module';
import { ShutdownFlagFiles } from './shutdown-flag.files';
import { ShutdownGateService } from './shutdown-gate.service';

/** The intake, when present, comes from the global IntakeModule. */
@Module({
  imports: [LaunchModule],
  providers: [ShutdownFlagFiles, ShutdownGateService],
  exports: [ShutdownGateService],
})
export class ShutdownGateModule {}
