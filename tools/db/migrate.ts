/*
 * `prisma migrate deploy` / `prisma migrate status` without Prisma's native
 * schema engine. Usage: tsx tools/db/migrate.ts deploy|status
 */
import { deployMigrations, findMigrationsDir, migrationStatus } from '@agent-conductor/db';

const DEFAULT_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54329/agent_conductor';

async function main(command: string | undefined): Promise<number> {
  const databaseUrl = process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const migrationsDir = findMigrationsDir();
  const log = (line: string): void => console.log(line);
  switch (command) {
    case 'deploy': {
      const result = await deployMigrations({ databaseUrl, migrationsDir, log });
      console.log(
        result.applied.length === 0
          ? `No pending migrations (${result.alreadyApplied.length} applied).`
          : `Applied ${result.applied.length} migration(s): ${result.applied.join(', ')}`,
      );
      return 0;
    }
    case 'status': {
      const status = await migrationStatus({ databaseUrl, migrationsDir });
      console.log(JSON.stringify(status, null, 2));
      const healthy = status.pending.length + status.failed.length + status.modified.length === 0;
      return healthy ? 0 : 1;
    }
    default:
      console.error('usage: tsx tools/db/migrate.ts deploy|status   (DATABASE_URL selects the database)');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
