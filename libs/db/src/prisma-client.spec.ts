import { emptyDatabase, query } from '../test/support';
import { deployMigrations } from './migrations/migrator';
import { createPrismaClient } from './prisma-client';

describe('createPrismaClient', () => {
  it('stores and reads back the same instant when the database does not default to UTC', async () => {
    const database = await emptyDatabase('timezone');
    const prisma = createPrismaClient(database.databaseUrl);
    try {
      await deployMigrations({ databaseUrl: database.databaseUrl });
      const name = new URL(database.databaseUrl).pathname.slice(1);
      await query(database.databaseUrl, `ALTER DATABASE "${name}" SET timezone TO 'Asia/Kolkata'`);

      const instant = new Date('2026-05-12T20:58:58.130Z');
      const created = await prisma.delivery.create({
        data: { sqsMessageId: 'tz-1', receivedAt: instant, body: '{}', classification: 'rejected', rejectionReason: 'test' },
      });

      const [stored] = await query<{ utc: string }>(
        database.databaseUrl,
        `SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS utc FROM deliveries WHERE id = $1`,
        [created.id],
      );
      expect(stored?.utc).toBe('2026-05-12T20:58:58.130');
      const readBack = await prisma.delivery.findUniqueOrThrow({ where: { id: created.id } });
      expect(readBack.receivedAt.toISOString()).toBe(instant.toISOString());
    } finally {
      await prisma.$disconnect();
      await database.drop();
    }
  });
});
