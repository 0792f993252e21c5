import type { PrismaClient } from '@agent-conductor/db';

type RawCapable = Pick<PrismaClient, '$queryRaw' | '$executeRawUnsafe'>;

/**
 * Empties every app table (Prisma's bookkeeping stays), for beforeEach.
 * The table list comes from the catalog so new tables need no edit here.
 */
export async function resetDatabase(prisma: RawCapable): Promise<void> {
  const tables = await prisma.$queryRaw<Array<{ tablename: string }>>`
    SELECT tablename FROM pg_tables
     WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`;
  if (tables.length === 0) {
    return;
  }
  const list = tables.map(({ tablename }) => `"${tablename.replace(/"/g, '""')}"`).join(', ');
  await prisma.$executeRawUnsafe(`TRUNCATE TABLE ${list} RESTART IDENTITY CASCADE`);
}
