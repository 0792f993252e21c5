import { Module } from '@nestjs/common';
import { AgentModule } from '../agent/agent.module';
import { AgentAwsModule } from '../agent-aws/agent-aws.module';
import { ConductorModule } from '../conductor/conductor.module';
import { EarlierWorkModule } from '../earlier-work/earlier-work.module';
import { HeartbeatModule } from '../heartbeat/heartbeat.module';
import { MultiRepositoryModule } from '../multi-repo/multi-repository.module';
import { ProcessModule } from '../process/process.module';
import { PublishModule } from '../publish/publish.module';
import { ResultsModule } from '../results/results.module';
import { TaskFilesModule } from '../task-files/task-files.module';
import { ValidationModule } from '../validation/validation.module';
import { WorkspaceModule } from '../workspace/workspace.module';
import { WorkerRunner } from './worker-runner.service';

@Module({
  imports: [ConductorModule, HeartbeatModule, TaskFilesModule, WorkspaceModule, AgentModule, ValidationModule, PublishModule, ResultsModule, EarlierWorkModule, ProcessModule, AgentAwsModule, MultiRepositoryModule],
  providers: [WorkerRunner],
  exports: [WorkerRunner],
})
export class RunnerModule {}
