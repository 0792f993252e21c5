export default async function globalTeardown(): Promise<void> {
  const postgres = globalThis.__agentConductorTestPostgres;
  globalThis.__agentConductorTestPostgres = undefined;
  await postgres?.stop();
}
