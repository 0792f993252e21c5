import { Module } from '@nestjs/common';
import { ConductorModule } from '../conductor/conductor.module';
import { ProcessModule } from '../process/process.module';
import { AgentAwsCredentials } from './agent-aws-credentials.service';

/** The AWS session of a read-only incident agent: its credentials file, refreshes and removal. */
@Module({ imports: [ConductorModule, ProcessModule], providers: [AgentAwsCredentials], exports: [AgentAwsCredentials] })
export class AgentAwsModule {}
