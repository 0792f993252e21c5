import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyDatabase, query } from '../../test/support';
import {
  checksumOf,
  deployMigrations,
  findMigrationsDir,
  MigrationError,
  migrationStatus,
  readMigrations,
} from './migrator';

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  applied_steps_count: number;
}

describe('migrator', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup();
    }
  });

  async function freshDatabase(): Promise<string> {
    const database = await emptyDatabase('ac_migrator');
    cleanups.push(database.drop);
    return database.databaseUrl;
  }

  /** A private copy of prisma/migrations that a test may edit. */
  function copyOfMigrations(): string {
    const dir = mkdtempSync(join(tmpdir(), 'ac-migrations-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(findMigrationsDir(), dir, { recursive: true });
    return dir;
  }

  it('applies every migration once and records it the way prisma migrate deploy does', async () => {
    const databaseUrl = await freshDatabase();
    const local = readMigrations(findMigrationsDir());
    expect(local.length).toBeGreaterThan(0);

    const first = await deployMigrations({ databaseUrl });
    expect(first).toEqual({ applied: local.map((m) => m.name), alreadyApplied: [] });

    const rows = await query<MigrationRow>(
      databaseUrl,
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((row) => [row.migration_name, row.checksum, row.applied_steps_count])).toEqual(
      local.map((m) => [m.name, m.checksum, 1]),
    );
    expect(rows.every((row) => row.finished_at instanceof Date)).toBe(true);
    const tables = await query<{ tablename: string }>(databaseUrl, "SELECT tablename FROM pg_tables WHERE tablename = 'jobs'");
    expect(tables).toHaveLength(1);

    const second = await deployMigrations({ databaseUrl });
    expect(second).toEqual({ applied: [], alreadyApplied: local.map((m) => m.name) });
    expect(await query(databaseUrl, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(local.length);
    expect(await migrationStatus({ databaseUrl })).toEqual({
      applied: local.map((m) => m.name),
      pending: [],
      failed: [],
      modified: [],
      unknown: [],
    });
  });

  it('uses the sha256 of the migration file bytes as checksum', () => {
    const [first] = readMigrations(findMigrationsDir());
    expect(first?.checksum).toBe(checksumOf(first?.sql ?? ''));
    expect(first?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applies only the new migration on a later deploy, in name order', async () => {
    const databaseUrl = await freshDatabase();
    const dir = copyOfMigrations();
    await deployMigrations({ databaseUrl, migrationsDir: dir });
    for (const [name, sql] of [
      ['29990102000000_second', 'CREATE TABLE "later_two" ("id" INTEGER REFERENCES "later_one"("id"));'],
      ['29990101000000_first', 'CREATE TABLE "later_one" ("id" INTEGER PRIMARY KEY);'],
    ] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'migration.sql'), sql);
    }
    const result = await deployMigrations({ databaseUrl, migrationsDir: dir });
    expect(result.applied).toEqual(['29990101000000_first', '29990102000000_second']);
  });

  it('refuses to deploy when an applied migration was edited', async () => {
    const databaseUrl = await freshDatabase();
    const dir = copyOfMigrations();
    await deployMigrations({ databaseUrl, migrationsDir: dir });
    const [first] = readMigrations(dir);
    if (!first) {
      throw new Error('no migrations');
    }
    writeFileSync(join(dir, first.name, 'migration.sql'), `${first.sql}\n-- edited\n`);
    mkdirSync(join(dir, '29990101000000_pending'));
    writeFileSync(join(dir, '29990101000000_pending', 'migration.sql'), 'CREATE TABLE "never" ("id" INTEGER);');

    await expect(deployMigrations({ databaseUrl, migrationsDir: dir })).rejects.toThrow(/modified after they were applied/);
    expect(await query(databaseUrl, "SELECT 1 FROM pg_tables WHERE tablename = 'never'")).toHaveLength(0);
    expect((await migrationStatus({ databaseUrl, migrationsDir: dir })).modified).toEqual([first.name]);
  });

  it('rolls a failing migration back, records it as failed and refuses later deploys', async () => {
    const databaseUrl = await freshDatabase();
    const dir = copyOfMigrations();
    mkdirSync(join(dir, '29990101000000_broken'));
    writeFileSync(
      join(dir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT no_such_function();',
    );

    await expect(deployMigrations({ databaseUrl, migrationsDir: dir })).rejects.toThrow(MigrationError);
    expect(await query(databaseUrl, "SELECT 1 FROM pg_tables WHERE tablename = 'half_done'")).toHaveLength(0);
    const failed = await query<{ logs: string | null; finished_at: Date | null }>(
      databaseUrl,
      "SELECT logs, finished_at FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'",
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]?.finished_at).toBeNull();
    expect(failed[0]?.logs).toMatch(/no_such_function/);

    // Fixing the file is not enough: a failed migration needs `migrate resolve` first.
    writeFileSync(join(dir, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);');
    await expect(deployMigrations({ databaseUrl, migrationsDir: dir })).rejects.toThrow(/failed earlier/);

    await query(databaseUrl, "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '29990101000000_broken'");
    expect((await deployMigrations({ databaseUrl, migrationsDir: dir })).applied).toEqual(['29990101000000_broken']);
  });

  it('serializes concurrent deploys so each migration is applied exactly once', async () => {
    const databaseUrl = await freshDatabase();
    const results = await Promise.all(Array.from({ length: 4 }, () => deployMigrations({ databaseUrl })));
    const local = readMigrations(findMigrationsDir()).map((m) => m.name);
    expect(results.flatMap((result) => result.applied).sort()).toEqual(local);
    expect(results.filter((result) => result.applied.length > 0)).toHaveLength(1);
    expect(await query(databaseUrl, 'SELECT 1 FROM _prisma_migrations')).toHaveLength(local.length);
  });
});
