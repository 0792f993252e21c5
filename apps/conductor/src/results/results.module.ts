import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import { RESULT_ARCHIVE_STORE, selectResultArchiveStore } from './result-archive.store';
import { ResultRetentionService } from './result-retention.service';
import { UploadedResults } from './uploaded-results';

/** Uploaded results: the archive store chosen by RESULT_STORE, their checked extraction, and its retention. */
@Module({
  providers: [
    { provide: RESULT_ARCHIVE_STORE, useFactory: selectResultArchiveStore, inject: [CONDUCTOR_CONFIG] },
    UploadedResults,
    ResultRetentionService,
  ],
  exports: [RESULT_ARCHIVE_STORE, UploadedResults],
})
export class ResultsModule {}
