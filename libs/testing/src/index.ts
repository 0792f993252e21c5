export { createFreshDatabase, freePort, startDevPostgres, startTestPostgres } from './postgres';
export type { DevPostgresOptions, RunningPostgres } from './postgres';
export { resetDatabase } from './reset-database';
export { killLeftoverProcesses, testRunPrefix } from './leftover-processes';
export { FakeGitHub } from './fake-github';
export type { FakeAnswer, FakeGitHubOptions, FakeHandler, RecordedApiCall, RecordedGitCall } from './fake-github';
export { archiveWithTrailingData, END_OF_ARCHIVE, gzipRepeated, rawTar, zeroFilledArchive } from './hostile-archives';
export type { RawTarEntry } from './hostile-archives';
