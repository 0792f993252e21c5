import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

/*
 * Applies prisma/migrations the way `prisma migrate deploy` does, because the
 * Prisma 7 CLI needs a native schema engine that cannot be downloaded here.
 * The bookkeeping (table, checksums, lock id) is Prisma's own, so a database
 * migrated by either tool can be taken over by the other.
 */

/** Prisma's advisory lock id: concurrent `migrate deploy` runs of either tool serialize on it. */
export const PRISMA_MIGRATE_LOCK_ID = 72707369;

/** Prisma's own bookkeeping table, as `prisma migrate deploy` creates it. */
export const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  /** sha256 hex of migration.sql's bytes, as Prisma records it. */
  checksum: string;
  sql: string;
}

export interface AppliedMigration {
  id: string;
  name: string;
  checksum: string;
  finishedAt: Date | null;
  rolledBackAt: Date | null;
  logs: string | null;
}

export interface MigratorOptions {
  databaseUrl: string;
  /** Defaults to {@link findMigrationsDir}. */
  migrationsDir?: string;
  log?: (line: string) => void;
}

export interface DeployResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Recorded as started but never finished nor rolled back. */
  failed: string[];
  /** Applied, but the local migration.sql no longer has the recorded checksum. */
  modified: string[];
  /** Recorded in the database, missing from the migrations directory. */
  unknown: string[];
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** prisma/migrations of the workspace; MIGRATIONS_DIR overrides. */
export function findMigrationsDir(): string {
  const candidates = [
    process.env['MIGRATIONS_DIR'],
    resolve(__dirname, '../../../../prisma/migrations'),
    resolve(process.cwd(), 'prisma/migrations'),
  ].filter((dir): dir is string => typeof dir === 'string' && dir.length > 0);
  const found = candidates.find((dir) => existsSync(join(dir, 'migration_lock.toml')));
  if (!found) {
    throw new MigrationError(`Cannot find prisma/migrations; looked in ${candidates.join(', ')}. Set MIGRATIONS_DIR.`);
  }
  return found;
}

export function checksumOf(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Migration folders in name order, which is the order Prisma applies them in. */
export function readMigrations(migrationsDir: string): MigrationFile[] {
  return readdirSync(migrationsDir)
    .filter((entry) => statSync(join(migrationsDir, entry)).isDirectory())
    .sort()
    .flatMap((name) => {
      const file = join(migrationsDir, name, 'migration.sql');
      if (!existsSync(file)) {
        return [];
      }
      const bytes = readFileSync(file);
      return [{ name, checksum: checksumOf(bytes), sql: bytes.toString('utf8') }];
    });
}

async function withLockedClient<T>(databaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Session-level lock: held across the per-migration transactions below.
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_ID]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      return await work(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_ID]);
    }
  } finally {
    await client.end();
  }
}

interface MigrationRow {
  id: string;
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

async function readApplied(client: Client): Promise<AppliedMigration[]> {
  const { rows } = await client.query<MigrationRow>(
    `SELECT id, migration_name, checksum, finished_at, rolled_back_at, logs
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.migration_name,
    checksum: row.checksum,
    finishedAt: row.finished_at,
    rolledBackAt: row.rolled_back_at,
    logs: row.logs,
  }));
}

function computeStatus(local: MigrationFile[], recorded: AppliedMigration[]): MigrationStatus {
  // A rolled-back row is history only: Prisma applies that migration again.
  const live = recorded.filter((row) => row.rolledBackAt === null);
  const localNames = new Set(local.map((migration) => migration.name));
  const status: MigrationStatus = { applied: [], pending: [], failed: [], modified: [], unknown: [] };
  for (const row of live) {
    if (row.finishedAt === null) {
      status.failed.push(row.name);
    } else if (!localNames.has(row.name)) {
      status.unknown.push(row.name);
    }
  }
  for (const migration of local) {
    const finished = live.find((row) => row.name === migration.name && row.finishedAt !== null);
    if (!finished) {
      if (!status.failed.includes(migration.name)) {
        status.pending.push(migration.name);
      }
    } else {
      status.applied.push(migration.name);
      if (finished.checksum !== migration.checksum) {
        status.modified.push(migration.name);
      }
    }
  }
  return status;
}

export async function migrationStatus(options: MigratorOptions): Promise<MigrationStatus> {
  const local = readMigrations(options.migrationsDir ?? findMigrationsDir());
  return withLockedClient(options.databaseUrl, async (client) => computeStatus(local, await readApplied(client)));
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * Applies pending migrations in name order, each in its own transaction.
 * Refuses to touch the database while a migration is recorded as failed or an
 * applied one was edited afterwards: both need a human decision.
 */
export async function deployMigrations(options: MigratorOptions): Promise<DeployResult> {
  const migrationsDir = options.migrationsDir ?? findMigrationsDir();
  const log = options.log ?? (() => undefined);
  const local = readMigrations(migrationsDir);
  return withLockedClient(options.databaseUrl, async (client) => {
    const status = computeStatus(local, await readApplied(client));
    if (status.failed.length > 0) {
      throw new MigrationError(
        `Migration(s) ${status.failed.join(', ')} failed earlier and are not resolved; ` +
          'inspect the database, then mark them with `prisma migrate resolve --rolled-back|--applied <name>`.',
      );
    }
    if (status.modified.length > 0) {
      throw new MigrationError(
        `Migration(s) ${status.modified.join(', ')} were modified after they were applied (checksum mismatch); ` +
          'add a new migration instead of editing an applied one.',
      );
    }
    for (const name of status.unknown) {
      log(`warning: migration ${name} is recorded in the database but missing from ${migrationsDir}`);
    }
    const applied: string[] = [];
    for (const migration of local.filter((candidate) => status.pending.includes(candidate.name))) {
      log(`applying ${migration.name}`);
      const id = randomUUID();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), 0)`,
          [id, migration.checksum, migration.name],
        );
        await client.query(migration.sql);
        await client.query(
          `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        // Recorded like Prisma records a failure, so the next deploy stops here too.
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
           VALUES ($1, $2, $3, $4, now(), 0)`,
          [id, migration.checksum, migration.name, errorText(error)],
        );
        throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${errorText(error)}`);
      }
      applied.push(migration.name);
    }
    return { applied, alreadyApplied: status.applied };
  });
}
