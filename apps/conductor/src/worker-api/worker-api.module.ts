import { Module } from '@nestjs/common';
import { EarlierWorkModule } from '../earlier-work/earlier-work.module';
import { LaunchModule } from '../launch/launch.module';
import { ResultsModule } from '../results/results.module';
import { HeartbeatService } from './heartbeat.service';
import { ResultStore } from './result-store';
import { WorkerApiController } from './worker-api.controller';
import { WorkerAuthService } from './worker-auth.service';

/** The gRPC WorkerService; mounted on the app's gRPC microservice. */
@Module({
  imports: [LaunchModule, ResultsModule, EarlierWorkModule],
  controllers: [WorkerApiController],
  providers: [WorkerAuthService, HeartbeatService, ResultStore],
})
export class WorkerApiModule {}
