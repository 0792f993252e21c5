import { Module } from '@nestjs/common';
import { ConductorModule } from '../conductor/conductor.module';
import { TaskFilesService } from './task-files.service';

@Module({ imports: [ConductorModule], providers: [TaskFilesService], exports: [TaskFilesService] })
export class TaskFilesModule {}
