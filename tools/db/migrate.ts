/*
 * `prisma migrate deploy` / `prisma migrate status` without Prisma's native
 * schema engine. Usage: tsx tools/db/migrate.ts deploy|status (npm run db:migrate, npm run db:status).
 */
import { CliUsageError, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { deployMigrations, findMigrationsDir, migrationStatus } from '@agent-conductor/db';

const DEFAULT_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54329/agent_conductor';
const COMMANDS = ['deploy', 'status'] as const;
type Command = (typeof COMMANDS)[number];

const CLI = {
  name: 'db',
  synopsis: 'npm run db:migrate | npm run db:status   (tsx tools/db/migrate.ts deploy|status)',
  summary:
    'db:migrate (deploy) applies the pending migrations under prisma/migrations; db:status prints which are applied,\n' +
    'pending, failed or modified, and exits 1 unless all are applied.',
  positionals: { names: 'deploy|status', min: 1, max: 1 },
  options: {},
  notes: "DATABASE_URL selects the database; unset, the dev stack's.",
} satisfies CliSpec<CliOptions>;

async function main(command: Command): Promise<number> {
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
  }
}

function command(text: string | undefined): Command {
  const found = COMMANDS.find((name) => name === text);
  if (!found) throw new CliUsageError(`unknown command ${JSON.stringify(text)} (expected ${COMMANDS.join(' or ')})`);
  return found;
}

main(startCli(CLI, ({ positionals }) => command(positionals[0]))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
