import { IngestRepository } from '@agent-conductor/db';
import { SchedulingService } from '@agent-conductor/scheduling';
import { FactoryProvider, Module } from '@nestjs/common';
import { SchedulerConfig } from '../config/config.module';
import { IngestService } from './ingest.service';
import { SchedulerController } from './scheduler.controller';

// A factory: SchedulingService is plain TypeScript shared with the replay tool, without Nest metadata.
const schedulingServiceProvider: FactoryProvider<SchedulingService> = {
  provide: SchedulingService,
  useFactory: (ingest: IngestRepository, config: SchedulerConfig) =>
    new SchedulingService(ingest, { defaultRepositoryUrl: config.defaultRepositoryUrl, incidentPolicy: config.incidentPolicy }),
  inject: [IngestRepository, SchedulerConfig],
};

/** SchedulerService.SubmitMessage: persist a queue message and decide what to spawn. */
@Module({
  controllers: [SchedulerController],
  providers: [schedulingServiceProvider, IngestService],
})
export class IngestModule {}
