import { Module } from '@nestjs/common';
import { ConductorModule } from '../conductor/conductor.module';
import { ProcessModule } from '../process/process.module';
import { ResultsUploader } from './results-uploader.service';

@Module({ imports: [ConductorModule, ProcessModule], providers: [ResultsUploader], exports: [ResultsUploader] })
export class ResultsModule {}
