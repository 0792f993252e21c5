import { AdmissionLimits, planAdmission, type JobKind as DomainJobKind, type WaitingJob } from '@agent-conductor/scheduling-domain';
import { Injectable } from '@nestjs/common';
import type { Job, PrismaClient } from '../generated/prisma/client';

export interface AdmissionPassResult {
  /** The jobs this pass moved pending → launching (attempt counted), in admission order: the caller launches them. */
  admitted: Job[];
  /** The pending jobs left waiting, in line order, with the reason now stored on each row. */
  waiting: WaitingJob[];
}

interface ActiveRow {
  id: string;
  claim: string;
  thread: string;
}

interface QueuedRow {
  id: string;
  kind: DomainJobKind;
  claim: string;
  claimLimit: number | null;
  decidedAt: Date;
  receivedAt: Date;
  nextAttemptAt: Date | null;
  awaitingApproval: boolean;
  followUpOf: string | null;
}

/*
 * Every admission pass of every conductor queues on this one transaction-level lock, so passes run one after another
 * and each reads what the previous one committed. Attempt ends are not under the lock: they only ever free a slot,
 * and each is followed by a pass of its own.
 */
const ADMISSION_LOCK_NAME = 'agent-conductor:admission';

/**
 * Admission in Postgres: which pending jobs may start, decided by the domain's planAdmission over the jobs' stored
 * state, and applied in the same transaction. A job is active (holds a slot and its claim) while its status is
 * `launching` or `running`; the claim key is `claim_key`, else the repository of a job from before admission. A
 * pending follow-up waits while any job of its thread (`follow_up_of`, or the first job itself) is active.
 */
@Injectable()
export class AdmissionRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * One pass: under the admission lock, read the active jobs and the whole line, plan, claim exactly the admitted
   * jobs (pending → launching, one UPDATE guarded by `pending`) and store every waiting job's reason.
   */
  admit(limits: AdmissionLimits, now: Date = new Date()): Promise<AdmissionPassResult> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT 1 AS "locked" FROM pg_advisory_xact_lock(hashtextextended(${ADMISSION_LOCK_NAME}, 0))`;
        // Read after the lock was granted: under READ COMMITTED each statement sees every pass committed before it.
        const active = await tx.$queryRaw<ActiveRow[]>`
          SELECT j."id", COALESCE(j."claim_key", j."repository") AS "claim", COALESCE(j."follow_up_of", j."id") AS "thread"
            FROM "jobs" j
           WHERE j."status" IN ('launching', 'running')`;
        const queued = await tx.$queryRaw<QueuedRow[]>`
          SELECT j."id", j."kind"::text AS "kind", COALESCE(j."claim_key", j."repository") AS "claim",
                 j."claim_limit" AS "claimLimit", j."created_at" AS "decidedAt", d."received_at" AS "receivedAt",
                 j."next_attempt_at" AS "nextAttemptAt", j."approval" = 'required' AS "awaitingApproval",
                 j."follow_up_of" AS "followUpOf"
            FROM "jobs" j
            JOIN "deliveries" d ON d."id" = j."delivery_id"
           WHERE j."status" = 'pending'`;
        const plan = planAdmission({
          active,
          queued: queued.map((row) => ({
            id: row.id,
            kind: row.kind,
            claim: row.claim,
            claimLimit: row.claimLimit,
            decidedAt: row.decidedAt,
            arrival: row.receivedAt.getTime(),
            notBefore: row.nextAttemptAt,
            awaitingApproval: row.awaitingApproval,
            followUpOf: row.followUpOf,
          })),
          limits,
          now,
        });

        const claimed =
          plan.admit.length === 0
            ? []
            : await tx.job.updateManyAndReturn({
                where: { id: { in: plan.admit }, status: 'pending' },
                data: { status: 'launching', attempts: { increment: 1 }, nextAttemptAt: null, waitingReason: null },
              });
        if (plan.waiting.length > 0) {
          // Only rows whose reason changed are written, so a steady line costs reads, not writes.
          await tx.$executeRaw`
            UPDATE "jobs" AS j
               SET "waiting_reason" = w."reason"
              FROM unnest(${plan.waiting.map((job) => job.id)}::uuid[], ${plan.waiting.map((job) => job.reason)}::text[]) AS w("id", "reason")
             WHERE j."id" = w."id" AND j."status" = 'pending' AND j."waiting_reason" IS DISTINCT FROM w."reason"`;
        }
        const order = new Map(plan.admit.map((id, index) => [id, index]));
        claimed.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
        return { admitted: claimed, waiting: plan.waiting };
      },
      // A pass may queue behind other conductors' passes for the lock; each pass itself takes milliseconds.
      { maxWait: 10_000, timeout: 30_000 },
    );
  }

  /** Active jobs per claim key right now (launching or running), for checks and the chaos harness. */
  async activeByClaim(): Promise<Map<string, number>> {
    const rows = await this.prisma.$queryRaw<Array<{ claim: string; active: number }>>`
      SELECT COALESCE("claim_key", "repository") AS "claim", count(*)::int AS "active"
        FROM "jobs"
       WHERE "status" IN ('launching', 'running')
       GROUP BY 1`;
    return new Map(rows.map((row) => [row.claim, row.active]));
  }
}
