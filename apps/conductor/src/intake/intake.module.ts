import { Global, Module } from '@nestjs/common';
import { LaunchModule } from '../launch/launch.module';
import { SchedulerClientModule } from '../scheduler-client/scheduler-client.module';
import { INTAKE_CONTROL } from './intake-control';
import { IntakeService } from './intake.service';
import { intakeSqsProvider } from './intake-sqs';

/** Global so the shutdown gate and /health see INTAKE_CONTROL without importing SQS code themselves. */
@Global()
@Module({
  imports: [SchedulerClientModule, LaunchModule],
  providers: [intakeSqsProvider, IntakeService, { provide: INTAKE_CONTROL, useExisting: IntakeService }],
  exports: [IntakeService, INTAKE_CONTROL],
})
export class IntakeModule {}
