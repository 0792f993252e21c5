import { Module } from '@nestjs/common';
import { ConductorClient } from './conductor-client';

@Module({ providers: [ConductorClient], exports: [ConductorClient] })
export class ConductorModule {}
