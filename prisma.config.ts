import { defineConfig } from 'prisma/config';

// The URL only matters to commands that connect (studio, migrate deploy);
// `prisma generate` runs without one. The fallback is the dev stack's
// embedded Postgres (DEV_POSTGRES_PORT in tools/dev-stack/src/config/env.validators.ts).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env['DATABASE_URL'] ?? 'postgresql://postgres:postgres@127.0.0.1:54329/agent_conductor',
  },
});
