export { createFreshDatabase, freePort, startDevPostgres, startTestPostgres } from './postgres';
export type { DevPostgresOptions, RunningPostgres } from './postgres';
export { resetDatabase } from './reset-database';
export { killLeftoverProcesses, testRunPrefix } from './leftover-processes';
export { startScriptedModel, toolOutputs, userTexts } from './scripted-model';
export type { ScriptedItem, ScriptedModel, ScriptedModelOptions, ScriptedRequest, ScriptedResponse, ScriptedTurn, ScriptedUsage } from './scripted-model';
