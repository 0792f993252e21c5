import { Client } from 'pg';
import { JobKind, PrismaClient } from '../generated/prisma/client';
import { createPrismaClient } from '../prisma-client';
import { serverUrl, truncateAppTables } from '../../test/support';
import { AdmissionRepository } from './admission.repository';

const LIMITS = { maxActiveJobs: 10, claimMaxActiveJobs: 1 };
const T0 = new Date('2026-12-02T10:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

describe('AdmissionRepository (real Postgres)', () => {
  let prisma: PrismaClient;
  let admissions: AdmissionRepository;
  let sequence = 0;

  /** A pending job as the scheduler writes it; decided at `decidedAt`, its delivery received then too. */
  async function job(options: { kind?: JobKind; claim?: string | null; repository?: string; claimLimit?: number; decidedAt?: Date } = {}): Promise<string> {
    sequence += 1;
    const decidedAt = options.decidedAt ?? at(sequence);
    const delivery = await prisma.delivery.create({
      data: { sqsMessageId: `admission-${sequence}`, receivedAt: decidedAt, body: '{}', classification: options.kind === 'incident' ? 'alarm' : 'ticket' },
    });
    const repository = options.repository ?? 'repo-a.git';
    const created = await prisma.job.create({
      data: {
        kind: options.kind ?? 'ticket',
        key: `K-${sequence}`,
        deliveryId: delivery.id,
        repository,
        claimKey: options.claim === undefined ? repository : options.claim,
        ...(options.claimLimit !== undefined ? { claimLimit: options.claimLimit } : {}),
        taskMarkdown: '# task',
        createdAt: decidedAt,
      },
    });
    return created.id;
  }

  const statusOf = async (id: string) => prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true, attempts: true, waitingReason: true } });

  beforeAll(() => {
    prisma = createPrismaClient(serverUrl());
    admissions = new AdmissionRepository(prisma);
  });
  afterAll(() => prisma.$disconnect());
  beforeEach(() => truncateAppTables(serverUrl()));

  it('claims exactly the admitted jobs, in line order, and stores why the others wait', async () => {
    const first = await job();
    const second = await job();
    const other = await job({ repository: 'repo-b.git' });
    const incident = await job({ kind: 'incident', repository: 'repo-c.git' });

    const pass = await admissions.admit(LIMITS);

    expect(pass.admitted.map((admitted) => admitted.id)).toEqual([incident, first, other]);
    expect(pass.admitted.every((admitted) => admitted.status === 'launching' && admitted.attempts === 1)).toBe(true);
    expect(await statusOf(second)).toEqual({
      status: 'pending',
      attempts: 0,
      waitingReason: `waiting for repository claim repo-a.git (held by job ${first})`,
    });
    expect(await statusOf(first)).toEqual({ status: 'launching', attempts: 1, waitingReason: null });
  });

  it('counts launching and running jobs against the caps, and a finished one no more', async () => {
    const running = await job({ repository: 'repo-a.git' });
    const waiting = await job({ repository: 'repo-a.git' });
    const elsewhere = await job({ repository: 'repo-b.git' });
    await prisma.job.update({ where: { id: running }, data: { status: 'running', attempts: 1 } });

    const capped = await admissions.admit({ maxActiveJobs: 1, claimMaxActiveJobs: 1 });
    expect(capped.admitted).toEqual([]);
    expect((await statusOf(elsewhere)).waitingReason).toBe('waiting for a worker slot (1/1 active)');

    await prisma.job.update({ where: { id: running }, data: { status: 'succeeded' } });
    const freed = await admissions.admit({ maxActiveJobs: 1, claimMaxActiveJobs: 1 });
    expect(freed.admitted.map((admitted) => admitted.id)).toEqual([waiting]);
  });

  it("honours the job's own claim limit and claim key, and falls back to the repository for old rows", async () => {
    const wide = [await job({ claim: 'mono/billing', claimLimit: 2 }), await job({ claim: 'mono/billing', claimLimit: 2 }), await job({ claim: 'mono/billing', claimLimit: 2 })];
    const legacy = await job({ repository: 'legacy.git', claim: null });
    const legacyTwin = await job({ repository: 'legacy.git', claim: null });

    const pass = await admissions.admit(LIMITS);

    expect(pass.admitted.map((admitted) => admitted.id)).toEqual([wide[0], wide[1], legacy]);
    expect((await statusOf(wide[2] ?? '')).waitingReason).toBe(`waiting for repository claim mono/billing (held by jobs ${wide[0]}, ${wide[1]})`);
    expect((await statusOf(legacyTwin)).waitingReason).toBe(`waiting for repository claim legacy.git (held by job ${legacy})`);
  });

  it('skips a job in retry backoff without letting it hold its claim', async () => {
    const retried = await job();
    const next = await job();
    const until = new Date(Date.now() + 60_000);
    await prisma.job.update({ where: { id: retried }, data: { attempts: 1, nextAttemptAt: until } });

    const pass = await admissions.admit(LIMITS);

    expect(pass.admitted.map((admitted) => admitted.id)).toEqual([next]);
    expect((await statusOf(retried)).waitingReason).toBe(`waiting for retry backoff until ${until.toISOString()}`);
  });

  it('runs one pass at a time: a pass waits for the one holding the lock and sees what it committed', async () => {
    const ticket = await job({ repository: 'repo-a.git' });
    // Another conductor's pass, mid-transaction: it holds the admission lock and has claimed the ticket.
    const other = new Client({ connectionString: serverUrl() });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(hashtextextended('agent-conductor:admission', 0))`);
      await other.query(`UPDATE "jobs" SET "status" = 'launching', "attempts" = 1 WHERE "id" = $1`, [ticket]);

      let settled = false;
      const pass = admissions.admit({ maxActiveJobs: 1, claimMaxActiveJobs: 1 }).finally(() => {
        settled = true;
      });
      // An incident decided meanwhile: without the lock this pass would read the ticket as pending and admit the
      // incident beside it, two jobs against a cap of one.
      const incident = await job({ kind: 'incident', repository: 'repo-b.git' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);

      await other.query('COMMIT');
      expect((await pass).admitted).toEqual([]);
      expect((await statusOf(incident)).waitingReason).toBe('waiting for a worker slot (1/1 active)');
    } finally {
      await other.end();
    }
  });

  it('never exceeds a cap under concurrent passes from several clients while attempts end', async () => {
    const clients = Array.from({ length: 4 }, () => createPrismaClient(serverUrl()));
    try {
      const repos = ['r1.git', 'r2.git', 'r3.git'];
      for (let index = 0; index < 24; index += 1) await job({ repository: repos[index % repos.length], kind: index % 5 === 0 ? 'incident' : 'ticket' });
      const limits = { maxActiveJobs: 2, claimMaxActiveJobs: 1 };
      let peak = 0;
      let peakPerClaim = 0;
      const sample = async (): Promise<void> => {
        const byClaim = await admissions.activeByClaim();
        const total = [...byClaim.values()].reduce((sum, count) => sum + count, 0);
        peak = Math.max(peak, total);
        peakPerClaim = Math.max(peakPerClaim, ...byClaim.values());
      };
      const finishSome = async (): Promise<void> => {
        const active = await prisma.job.findMany({ where: { status: 'launching' }, take: 1 });
        for (const row of active) await prisma.job.updateMany({ where: { id: row.id, status: 'launching' }, data: { status: 'succeeded' } });
      };
      for (let round = 0; round < 12; round += 1) {
        await Promise.all([...clients.map((client) => new AdmissionRepository(client).admit(limits)), finishSome(), sample()]);
        await sample();
      }
      expect(peak).toBe(2);
      expect(peakPerClaim).toBe(1);
      // Every job was claimed at most once: attempts never went past 1.
      expect(await prisma.job.count({ where: { attempts: { gt: 1 } } })).toBe(0);
    } finally {
      await Promise.all(clients.map((client) => client.$disconnect()));
    }
  });
});
