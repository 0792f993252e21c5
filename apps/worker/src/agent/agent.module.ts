import { Module } from '@nestjs/common';
import { ProcessModule } from '../process/process.module';
import { AGENT_RUNNER } from './agent-runner';
import { CommandAgentRunner } from './command-agent-runner';

@Module({
  imports: [ProcessModule],
  providers: [CommandAgentRunner, { provide: AGENT_RUNNER, useExisting: CommandAgentRunner }],
  exports: [AGENT_RUNNER],
})
export class AgentModule {}
