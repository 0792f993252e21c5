/**
 * Secrets the worker is handed while it runs: the agent's AWS sessions (docs/incident-access.md). Process-wide,
 * because the redactors that must hide them (the logger, the transcript, the artifacts, every message to the
 * conductor) are built before the handshake; a worker process runs one job, so the list only grows until it exits.
 */
const learned = new Set<string>();

export function learnSecrets(values: readonly string[]): void {
  for (const value of values) if (value !== '') learned.add(value);
}

export function learnedSecrets(): string[] {
  return [...learned];
}
