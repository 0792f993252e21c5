import { Module } from '@nestjs/common';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import { ModelProxyModule } from '../model-proxy/model-proxy.module';
import { ProcessModule } from '../process/process.module';
import { AGENT_RUNNER, type AgentRunner } from './agent-runner';
import { CodexAgentRunner } from './codex-agent-runner';
import { CommandAgentRunner } from './command-agent-runner';

@Module({
  imports: [ProcessModule, ModelProxyModule],
  providers: [
    CommandAgentRunner,
    CodexAgentRunner,
    {
      provide: AGENT_RUNNER,
      inject: [WORKER_CONFIG, CommandAgentRunner, CodexAgentRunner],
      useFactory: (config: WorkerConfig, command: CommandAgentRunner, codex: CodexAgentRunner): AgentRunner => (config.agentKind === 'codex' ? codex : command),
    },
  ],
  exports: [AGENT_RUNNER],
})
export class AgentModule {}
