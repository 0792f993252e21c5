import { Module } from '@nestjs/common';
import { AgentSandbox } from './agent-sandbox';
import { ProcessRunner } from './process-runner';

@Module({ providers: [ProcessRunner, AgentSandbox], exports: [ProcessRunner, AgentSandbox] })
export class ProcessModule {}
