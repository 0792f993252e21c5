import { IngestRepository } from '@agent-conductor/db';
import { SchedulingService } from '@agent-conductor/scheduling';
import { FactoryProvider, Logger, Module } from '@nestjs/common';
import { SchedulerConfig } from '../config/config.module';
import { IngestService } from './ingest.service';
import { SchedulerController } from './scheduler.controller';

// A factory: SchedulingService is plain TypeScript shared with the replay tool, without Nest metadata.
const schedulingServiceProvider: FactoryProvider<SchedulingService> = {
  provide: SchedulingService,
  useFactory: (ingest: IngestRepository, config: SchedulerConfig) => {
    const logger = new Logger('Routing');
    if (config.routing) {
      const { routing } = config;
      logger.log(
        `routing from ${config.routingFile ?? 'ROUTING_FILE'}: ${routing.tickets.length} ticket rule(s), ${routing.incidents.length} incident rule(s), ` +
          `default ${routing.default.repository} (${routing.default.branch}); DEFAULT_REPOSITORY_URL/BRANCH are not used`,
      );
    } else {
      logger.log(`no ROUTING_FILE: every job goes to ${config.defaultRepositoryUrl} (${config.defaultRepositoryBranch})`);
    }
    return new SchedulingService(ingest, {
      defaultRepositoryUrl: config.defaultRepositoryUrl,
      defaultRepositoryBranch: config.defaultRepositoryBranch,
      incidentPolicy: config.incidentPolicy,
      followUpPolicy: config.followUpPolicy,
      ...(config.routing ? { routing: config.routing } : {}),
    });
  },
  inject: [IngestRepository, SchedulerConfig],
};

/** SchedulerService.SubmitMessage: persist a queue message and decide what to spawn. */
@Module({
  controllers: [SchedulerController],
  providers: [schedulingServiceProvider, IngestService],
})
export class IngestModule {}
