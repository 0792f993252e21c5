import { Module } from '@nestjs/common';
import { LaunchModule } from '../launch/launch.module';
import { ResultsModule } from '../results/results.module';
import { ResultUploadService } from './result-upload.service';
import { WorkerApiController } from './worker-api.controller';
import { WorkerAuthService } from './worker-auth.service';
import { WorkerShutdownService } from './worker-shutdown.service';

/** The gRPC WorkerService; mounted on the app's gRPC microservice. */
@Module({
  imports: [LaunchModule, ResultsModule],
  controllers: [WorkerApiController],
  providers: [WorkerAuthService, ResultUploadService, WorkerShutdownService],
})
export class WorkerApiModule {}
