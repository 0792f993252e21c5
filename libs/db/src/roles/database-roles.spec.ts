import { randomBytes } from 'node:crypto';
import { Client, type DatabaseError } from 'pg';
import { emptyDatabase, query, serverUrl } from '../../test/support';
import { deployMigrations } from '../migrations/migrator';
import { PrismaService } from '../prisma.service';
import { AdmissionRepository } from '../repositories/admission.repository';
import { IngestRepository } from '../repositories/ingest.repository';
import { JobRepository } from '../repositories/job.repository';
import { StatusRepository } from '../repositories/status.repository';
import { WorkerRepository } from '../repositories/worker.repository';
import { provisionDatabaseRoles, type RoleCredentials } from './database-roles';

/** Roles are cluster-wide: each run names its own. */
function role(kind: string): RoleCredentials {
  return { name: `ac_${kind}_${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('base64url') };
}

function as(databaseUrl: string, credentials: RoleCredentials): string {
  const url = new URL(databaseUrl);
  url.username = credentials.name;
  url.password = credentials.password;
  return url.toString();
}

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(databaseUrl: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as DatabaseError).code ?? 'unknown';
  } finally {
    await client.end();
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';

describe('least-privilege database roles', () => {
  const created: RoleCredentials[] = [];
  const drops: Array<() => Promise<void>> = [];

  async function provisioned(options: { migrateAsAdminFirst?: boolean } = {}): Promise<{ databaseUrl: string; migrate: RoleCredentials; app: RoleCredentials }> {
    const database = await emptyDatabase('ac_roles');
    drops.push(database.drop);
    const migrate = role('migrate');
    const app = role('app');
    created.push(migrate, app);
    if (options.migrateAsAdminFirst) await deployMigrations({ databaseUrl: database.databaseUrl });
    await provisionDatabaseRoles({ adminUrl: database.databaseUrl, migrate, app });
    await deployMigrations({ databaseUrl: as(database.databaseUrl, migrate) });
    return { databaseUrl: database.databaseUrl, migrate, app };
  }

  afterAll(async () => {
    for (const drop of drops) await drop();
    for (const credentials of created) await query(serverUrl(), `DROP ROLE IF EXISTS "${credentials.name}"`);
  });

  it('lets the migrate role deploy every migration and own every table', async () => {
    const { databaseUrl, migrate } = await provisioned();
    const owners = await query<{ tablename: string; tableowner: string }>(databaseUrl, `SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'`);
    expect(owners.length).toBeGreaterThan(5);
    expect(owners.filter((table) => table.tableowner !== migrate.name)).toEqual([]);
  });

  it("runs the scheduler's and conductor's repositories as the app role: ingest and admission (advisory locks), workers, events, status", async () => {
    const { databaseUrl, app } = await provisioned();
    const appUrl = as(databaseUrl, app);
    const ingest = new IngestRepository({ databaseUrl: appUrl });
    const prisma = new PrismaService({ databaseUrl: appUrl });
    try {
      const recorded = await ingest.recordMessage({
        sqsMessageId: 'msg-roles-1',
        receivedAt: new Date(),
        body: '{}',
        classified: {
          classification: 'alarm',
          source: 'eventbridge',
          alarm: {
            account: '123456789012',
            region: 'us-west-2',
            alarmName: 'api-high-cpu',
            state: 'ALARM',
            reason: 'Threshold Crossed',
            eventTime: new Date(),
            alarmArn: 'arn:aws:cloudwatch:us-west-2:123456789012:alarm:api-high-cpu',
            metrics: [],
          },
        },
        repository: '/srv/git/sample-app.git',
      });
      const jobId = recorded.decisions[0]?.jobId ?? '';
      expect(jobId).not.toBe('');
      const jobs = new JobRepository(prisma);
      const workers = new WorkerRepository(prisma);
      // Admission claims the job under its advisory lock, as the conductor does.
      const pass = await new AdmissionRepository(prisma).admit({ maxActiveJobs: 10, claimMaxActiveJobs: 1 });
      expect(pass.admitted.map((job) => job.id)).toEqual([jobId]);
      const worker = await workers.register({ jobId, attempt: 1, launcher: 'local', tokenHash: 'h'.repeat(64) });
      await workers.appendEvent(worker.id, 'heartbeat', { phase: 'test' });
      await workers.transaction(async (tx) => {
        expect(await workers.end(worker.id, 'test', tx)).toBe(true);
        await jobs.finish(jobId, { status: 'succeeded', error: null, result: null, usage: null }, tx);
      });
      const snapshot = await new StatusRepository(prisma).snapshot();
      expect(snapshot.jobs.find((job) => job.id === jobId)?.status).toBe('succeeded');
    } finally {
      await ingest.close();
      await prisma.$disconnect();
    }
  });

  it('refuses the app role every kind of DDL, TRUNCATE, and rewriting migration history', async () => {
    const { databaseUrl, app } = await provisioned();
    const appUrl = as(databaseUrl, app);
    expect(await outcome(appUrl, 'DROP TABLE jobs')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await outcome(appUrl, 'ALTER TABLE jobs ADD COLUMN smuggled text')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await outcome(appUrl, 'ALTER TABLE jobs DROP COLUMN error')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await outcome(appUrl, 'CREATE TABLE smuggled (x int)')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await outcome(appUrl, 'TRUNCATE worker_events')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await outcome(appUrl, 'DELETE FROM "_prisma_migrations"')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await outcome(appUrl, 'SELECT count(*) FROM "_prisma_migrations"')).toBe('ok');
    expect(await outcome(appUrl, 'SELECT pg_advisory_lock(42), pg_advisory_unlock(42)')).toBe('ok');
  });

  it('grants the app role tables a later migration creates, without running the provisioning again', async () => {
    const { databaseUrl, migrate, app } = await provisioned();
    expect(await outcome(as(databaseUrl, migrate), 'CREATE TABLE later_feature (id serial PRIMARY KEY, note text)')).toBe('ok');
    expect(await outcome(as(databaseUrl, app), `INSERT INTO later_feature (note) VALUES ('fine')`)).toBe('ok');
    expect(await outcome(as(databaseUrl, app), 'DROP TABLE later_feature')).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it('takes over a database the admin migrated before the roles existed, and runs again unchanged', async () => {
    const { databaseUrl, migrate, app } = await provisioned({ migrateAsAdminFirst: true });
    const owners = await query<{ tableowner: string }>(databaseUrl, `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`);
    expect(owners.map((owner) => owner.tableowner)).toEqual([migrate.name]);
    const types = await query<{ owner: string }>(
      databaseUrl,
      `SELECT DISTINCT pg_get_userbyid(t.typowner) AS owner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'`,
    );
    expect(types.map((type) => type.owner)).toEqual([migrate.name]);
    await provisionDatabaseRoles({ adminUrl: databaseUrl, migrate, app });
    expect(await outcome(as(databaseUrl, app), `UPDATE jobs SET error = NULL WHERE false`)).toBe('ok');
    expect(await outcome(as(databaseUrl, app), 'DROP TABLE jobs')).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it('refuses unsafe role names and short passwords before touching the database', async () => {
    const adminUrl = 'postgresql://nobody@127.0.0.1:1/none';
    await expect(provisionDatabaseRoles({ adminUrl, migrate: { name: 'x"; DROP', password: 'p'.repeat(20) }, app: role('app') })).rejects.toThrow(/role name/);
    await expect(provisionDatabaseRoles({ adminUrl, migrate: role('migrate'), app: { name: 'ac_app', password: 'short' } })).rejects.toThrow(/at least 16/);
  });
});
