import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/*
 * libs/testing builds on this library, so db's own tests cannot import it
 * (that would be a dependency cycle); these are the few helpers they need.
 */

export function serverUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) {
    throw new Error('DATABASE_URL is not set: run through `nx test db` (libs/testing global setup)');
  }
  return url;
}

export async function query<T extends object>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** An empty database on the test server; drop() removes it. */
export async function emptyDatabase(prefix: string): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await query(serverUrl(), `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    drop: async () => {
      await query(serverUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

export async function truncateAppTables(databaseUrl: string): Promise<void> {
  await query(databaseUrl, 'TRUNCATE TABLE job_actions, worker_events, workers, alarms, incidents, jobs, deliveries, tickets RESTART IDENTITY CASCADE');
}
