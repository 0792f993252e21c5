export { createFreshDatabase, freePort, startDevPostgres, startTestPostgres } from './postgres';
export type { DevPostgresOptions, RunningPostgres } from './postgres';
export { resetDatabase } from './reset-database';
export { killLeftoverProcesses, testRunPrefix } from './leftover-processes';
export { startScriptedModel, toolOutputs, userTexts } from './scripted-model';
export type { ScriptedItem, ScriptedModel, ScriptedModelOptions, ScriptedRequest, ScriptedResponse, ScriptedTurn, ScriptedUsage } from './scripted-model';
export { archiveWithTrailingData, END_OF_ARCHIVE, gzipRepeated, rawTar, zeroFilledArchive } from './hostile-archives';
export type { RawTarEntry } from './hostile-archives';
