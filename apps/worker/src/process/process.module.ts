import { Module } from '@nestjs/common';
import { ProcessRunner } from './process-runner';

@Module({ providers: [ProcessRunner], exports: [ProcessRunner] })
export class ProcessModule {}
