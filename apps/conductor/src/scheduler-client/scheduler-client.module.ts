import { Module } from '@nestjs/common';
import { SchedulerClient } from './scheduler-client.service';

@Module({
  providers: [SchedulerClient],
  exports: [SchedulerClient],
})
export class SchedulerClientModule {}
