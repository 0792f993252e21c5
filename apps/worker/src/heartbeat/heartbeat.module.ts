import { Module } from '@nestjs/common';
import { ConductorModule } from '../conductor/conductor.module';
import { HeartbeatService } from './heartbeat.service';

@Module({ imports: [ConductorModule], providers: [HeartbeatService], exports: [HeartbeatService] })
export class HeartbeatModule {}
