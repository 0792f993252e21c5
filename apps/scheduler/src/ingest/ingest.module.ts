import { Module } from '@nestjs/common';
import { IngestService } from './ingest.service';
import { SchedulerController } from './scheduler.controller';

/** SchedulerService.SubmitMessage: persist a queue message and decide what to spawn. */
@Module({
  controllers: [SchedulerController],
  providers: [IngestService],
})
export class IngestModule {}
