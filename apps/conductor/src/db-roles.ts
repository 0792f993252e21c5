/*
 * One-shot: creates or updates the migrate and app Postgres roles and their
 * grants (provisionDatabaseRoles), as the RDS master user. Run as the db-roles
 * ECS task (terraform/ecs.tf) before the migrate task; idempotent, so running
 * it before every migration is fine. Built next to main.js (webpack.config.js).
 */
import { provisionDatabaseRoles } from '@agent-conductor/db';
import { loadDbRolesConfig } from './config/env.validators';

async function main(): Promise<void> {
  const config = loadDbRolesConfig();
  await provisionDatabaseRoles({ ...config, log: (line) => console.log(line) });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`db-roles failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
