import { createS3Client, DirectoryResultStore, S3ResultStore, type ResultStore } from '@agent-conductor/aws';
import { join } from 'node:path';
import type { ConductorConfig } from '../config/env.validators';

export const RESULT_ARCHIVE_STORE = Symbol('RESULT_ARCHIVE_STORE');

/**
 * RESULT_STORE picks where each attempt's uploaded archive is kept, as one
 * object: `<RESULTS_DIR>/archives/<jobId>/attempt-<n>-<workerId>.tar.gz`
 * locally, `s3://<RESULTS_BUCKET>/<prefix>results/...` on AWS.
 */
export function selectResultArchiveStore(config: ConductorConfig): ResultStore {
  const selected = config.resultStore;
  if (selected.kind === 's3') return new S3ResultStore(createS3Client(selected.client), selected.store);
  return new DirectoryResultStore({ directory: join(config.resultsDir, 'archives') });
}
