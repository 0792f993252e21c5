export default async function globalTeardown(): Promise<void> {
  const { killLeftoverProcesses } = await import('./leftover-processes');
  killLeftoverProcesses();
  const postgres = globalThis.__agentConductorTestPostgres;
  globalThis.__agentConductorTestPostgres = undefined;
  await postgres?.stop();
}
