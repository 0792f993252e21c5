import { createSqsClient } from '@agent-conductor/aws';
import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { ResultsModule } from '../results/results.module';
import { ConsoleJobsController } from './console-jobs.controller';
import { ConsoleReadService } from './console-read.service';
import { ConsoleDeliveriesController, ConsoleIncidentsController } from './console-records.controller';
import { ConsoleSystemController } from './console-system.controller';
import { JobResultFiles } from './job-result-files';
import { CONSOLE_SQS_CLIENT, QueueDepthReader } from './queue-depths';

/** The console's read API under /api/v1 (ConsoleAuthModule's global guard protects it). */
@Module({
  imports: [ResultsModule],
  controllers: [ConsoleJobsController, ConsoleIncidentsController, ConsoleDeliveriesController, ConsoleSystemController],
  providers: [
    ConsoleReadService,
    JobResultFiles,
    QueueDepthReader,
    {
      provide: CONSOLE_SQS_CLIENT,
      useFactory: (config: Pick<ConductorConfig, 'awsRegion' | 'sqsEndpoint'>) =>
        createSqsClient({ region: config.awsRegion, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) }),
      inject: [CONDUCTOR_CONFIG],
    },
  ],
})
export class ConsoleApiModule {}
