import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import { RESULT_ARCHIVE_STORE, selectResultArchiveStore } from './result-archive.store';

/** The result archive store chosen by RESULT_STORE. */
@Module({
  providers: [{ provide: RESULT_ARCHIVE_STORE, useFactory: selectResultArchiveStore, inject: [CONDUCTOR_CONFIG] }],
  exports: [RESULT_ARCHIVE_STORE],
})
export class ResultsModule {}
