import { Client } from 'pg';
import { CREATE_MIGRATIONS_TABLE } from '../migrations/migrator';

export interface RoleCredentials {
  name: string;
  password: string;
}

export interface DatabaseRolesOptions {
  /** A URL of the target database as its owner (on RDS, the master user). */
  adminUrl: string;
  /** Owns the schema: `prisma migrate deploy` connects as this role. */
  migrate: RoleCredentials;
  /** What the scheduler and conductor connect as: rows only, no DDL. */
  app: RoleCredentials;
  schema?: string;
  log?: (line: string) => void;
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates (or updates the passwords of) the migrate and app roles, and grants:
 *
 * - migrate: owns every table, sequence and type of the schema (those an
 *   earlier migration created as the admin are handed over) and may CREATE in
 *   it, so `prisma migrate deploy` works as migrate alone;
 * - app: USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on the tables and
 *   USAGE/SELECT on the sequences, now and (default privileges of migrate) for
 *   every table a later migration creates; nothing on `_prisma_migrations`
 *   but SELECT. Not owning anything, it can neither DROP, ALTER nor TRUNCATE.
 *   Advisory locks need no grant: pg_advisory_* are executable by PUBLIC.
 *
 * Idempotent: run it before every `migrate deploy`, and after a password rotation.
 */
export async function provisionDatabaseRoles(options: DatabaseRolesOptions): Promise<void> {
  const schema = options.schema ?? 'public';
  for (const role of [options.migrate, options.app]) {
    if (!ROLE_NAME.test(role.name)) throw new Error(`role name "${role.name}" must match ${ROLE_NAME}`);
    if (role.password.length < 16) throw new Error(`the password of role ${role.name} must be at least 16 characters`);
  }
  if (options.migrate.name === options.app.name) throw new Error('the migrate and app roles must differ');
  const log = options.log ?? (() => undefined);
  const client = new Client({ connectionString: options.adminUrl });
  await client.connect();
  try {
    const id = (name: string): string => client.escapeIdentifier(name);
    const migrate = id(options.migrate.name);
    const app = id(options.app.name);
    const schemaId = id(schema);
    const { rows } = await client.query<{ database: string; admin: string }>('SELECT current_database() AS database, current_user AS admin');
    const database = id(rows[0]?.database ?? '');
    const admin = id(rows[0]?.admin ?? '');

    await client.query('BEGIN');
    for (const role of [options.migrate, options.app]) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.name]);
      // Passwords are literals in the statement (roles take no parameters); escapeLiteral quotes them, and
      // nothing here logs a statement.
      const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
      await client.query(`${verb} ROLE ${id(role.name)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ${client.escapeLiteral(role.password)}`);
      log(`${verb === 'CREATE' ? 'created' : 'updated'} role ${role.name}`);
    }
    // The admin must be a member of migrate to hand objects over to it (ALTER ... OWNER TO) on RDS, where it is no superuser.
    await client.query(`GRANT ${migrate} TO ${admin}`);
    await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${migrate}, ${app}`);
    await client.query(`REVOKE CREATE ON SCHEMA ${schemaId} FROM PUBLIC`);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA ${schemaId} TO ${migrate}`);
    await client.query(`GRANT USAGE ON SCHEMA ${schemaId} TO ${app}`);

    const owned = await client.query<{ kind: string; name: string }>(
      `SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END AS kind, c.relname AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'S') AND pg_get_userbyid(c.relowner) <> $2
          -- A sequence owned by a column follows its table.
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
       UNION ALL
       SELECT 'TYPE', t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'c') AND pg_get_userbyid(t.typowner) <> $2
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)`,
      [schema, options.migrate.name],
    );
    for (const object of owned.rows) {
      await client.query(`ALTER ${object.kind} ${schemaId}.${id(object.name)} OWNER TO ${migrate}`);
    }
    if (owned.rows.length > 0) log(`handed ${owned.rows.length} object(s) of schema ${schema} to ${options.migrate.name}`);

    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schemaId} TO ${app}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schemaId} TO ${app}`);
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${migrate} IN SCHEMA ${schemaId} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`);
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${migrate} IN SCHEMA ${schemaId} GRANT USAGE, SELECT ON SEQUENCES TO ${app}`);
    // Created here, as migrate, if no deploy has yet: the grants above then cover it from the start, and the
    // app may read which migrations ran (a readiness check might) but never rewrite that history.
    await client.query(`SET LOCAL search_path TO ${schemaId}`);
    await client.query(`SET LOCAL ROLE ${migrate}`);
    await client.query(CREATE_MIGRATIONS_TABLE);
    await client.query('RESET ROLE');
    await client.query(`GRANT SELECT ON ${schemaId}."_prisma_migrations" TO ${app}`);
    await client.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${schemaId}."_prisma_migrations" FROM ${app}`);
    await client.query('COMMIT');
    log(`granted ${options.app.name} row access to schema ${schema}`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
