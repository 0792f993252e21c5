import { Module } from '@nestjs/common';
import { GitCli } from './git-cli';

@Module({ providers: [GitCli], exports: [GitCli] })
export class GitModule {}
