import { Module } from '@nestjs/common';
import { FollowUpSessionModule } from '../follow-up-session/follow-up-session.module';
import { EarlierWorkModule } from '../earlier-work/earlier-work.module';
import { FollowUpModule } from '../follow-up/follow-up.module';
import { InvestigationAccessModule } from '../investigation-access/investigation-access.module';
import { JiraModule } from '../jira/jira.module';
import { LaunchModule } from '../launch/launch.module';
import { ResultsModule } from '../results/results.module';
import { AgentCredentialsRefreshService } from './agent-credentials-refresh.service';
import { HeartbeatService } from './heartbeat.service';
import { ResultUploadService } from './result-upload.service';
import { WorkerApiController } from './worker-api.controller';
import { WorkerAuthService } from './worker-auth.service';
import { WorkerShutdownService } from './worker-shutdown.service';

/** The gRPC WorkerService; mounted on the app's gRPC microservice. */
@Module({
  imports: [LaunchModule, ResultsModule, EarlierWorkModule, JiraModule, FollowUpModule, FollowUpSessionModule, InvestigationAccessModule],
  controllers: [WorkerApiController],
  providers: [WorkerAuthService, HeartbeatService, ResultUploadService, WorkerShutdownService, AgentCredentialsRefreshService],
})
export class WorkerApiModule {}
