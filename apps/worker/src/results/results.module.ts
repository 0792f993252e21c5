import { Module } from '@nestjs/common';
import { ConductorModule } from '../conductor/conductor.module';
import { ResultsUploader } from './results-uploader.service';

@Module({ imports: [ConductorModule], providers: [ResultsUploader], exports: [ResultsUploader] })
export class ResultsModule {}
