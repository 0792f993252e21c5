import type { RunningPostgres } from './postgres';
import { registerWorkspaceAliases } from './workspace-aliases';

declare global {
  var __agentConductorTestPostgres: RunningPostgres | undefined;
}

/**
 * One migrated database per jest run. Workers inherit process.env from here,
 * so DATABASE_URL points every test file at it.
 */
export default async function globalSetup(): Promise<void> {
  registerWorkspaceAliases();
  const { startTestRun } = await import('./leftover-processes');
  startTestRun();
  const { startTestPostgres } = await import('./postgres');
  const postgres = await startTestPostgres();
  globalThis.__agentConductorTestPostgres = postgres;
  process.env['DATABASE_URL'] = postgres.databaseUrl;
}
