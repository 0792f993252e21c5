import { Module } from '@nestjs/common';
import { ProcessModule } from '../process/process.module';
import { GitCli } from './git-cli';

@Module({ imports: [ProcessModule], providers: [GitCli], exports: [GitCli] })
export class GitModule {}
