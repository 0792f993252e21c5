import { Module } from '@nestjs/common';
import { LaunchModule } from '../launch/launch.module';
import { CancelEnforcerService } from './cancel-enforcer.service';
import { JobActionsController } from './job-actions.controller';
import { JobActionsService } from './job-actions.service';

/**
 * Operator actions (cancel, re-run, approve, reject) over HTTP under /api/v1 (the console guard is global, from
 * ConsoleAuthModule), and the grace kill that backs a cancel.
 */
@Module({
  imports: [LaunchModule],
  controllers: [JobActionsController],
  providers: [JobActionsService, CancelEnforcerService],
  exports: [JobActionsService, CancelEnforcerService],
})
export class JobActionsModule {}
