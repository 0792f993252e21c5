import { Module } from '@nestjs/common';
import { LaunchModule } from '../launch/launch.module';
import { CancelEnforcerService } from './cancel-enforcer.service';
import { JobActionsService } from './job-actions.service';

/** Operator actions (cancel, re-run, approve, reject) and the grace kill that backs a cancel. */
@Module({
  imports: [LaunchModule],
  providers: [JobActionsService, CancelEnforcerService],
  exports: [JobActionsService, CancelEnforcerService],
})
export class JobActionsModule {}
