import { Injectable } from '@nestjs/common';
import type { Job, Prisma, PrismaClient } from '../generated/prisma/client';

export interface JobResultRecord {
  branch: string;
  pullRequest?: string;
  report?: string;
  title: string;
  /** A bounded excerpt of the agent's ending report, shown to later agents on the repository. */
  summary?: string;
  /** Where the attempt's uploaded result archive is kept (a path, or s3://bucket/key). */
  resultArchive?: string;
  /** The Codex thread the agent ran in; its session is in the result archive under `agent-session/` (docs/context-reuse.md). */
  agentThreadId?: string;
}

/** What the agent spent on the job, as the worker reported it in its Shutdown. */
export interface JobUsageRecord {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  turns: number;
  durationMs: number;
  /** null when the agent used its own default model. */
  model: string | null;
  /** A follow-up's agent resumed the earlier job's thread: these tokens are what a resumed follow-up costs. */
  contextReused: boolean;
}

/** A claim given up because its launch never registered a worker: back in line, or ended as an operator asked. */
export interface ReleasedClaim {
  id: string;
  status: 'pending' | 'cancelled';
}

const TERMINAL: Job['status'][] = ['succeeded', 'failed', 'cancelled'];

/** The conductor's side of `jobs`: starting, retrying and finishing (AdmissionRepository claims). */
@Injectable()
export class JobRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * The newest succeeded job of a follow-up thread (its first job, or an earlier follow-up), other than `exceptJobId`:
   * the one whose agent session a new follow-up resumes.
   */
  newestSucceededInThread(threadJobId: string, exceptJobId: string): Promise<Job | null> {
    return this.prisma.job.findFirst({
      where: { OR: [{ id: threadJobId }, { followUpOfId: threadJobId }], status: 'succeeded', id: { not: exceptJobId } },
      orderBy: [{ finishedAt: 'desc' }, { createdAt: 'desc' }],
    });
  }

  findById(id: string, tx: Prisma.TransactionClient = this.prisma): Promise<Job | null> {
    return tx.job.findUnique({ where: { id } });
  }

  /** Whether an operator asked the job to stop (a heartbeat answers stop_requested while this holds). */
  async stopRequested(id: string): Promise<boolean> {
    const job = await this.prisma.job.findUnique({ where: { id }, select: { cancelRequestedAt: true } });
    return job?.cancelRequestedAt != null;
  }

  /** launching → running on the worker's handshake; a no-op for a job that already ended. */
  async markRunning(id: string): Promise<void> {
    await this.prisma.job.updateMany({
      where: { id, status: 'launching' },
      data: { status: 'running', startedAt: new Date() },
    });
  }

  /** Records the job's latest error without ending it (the worker's Shutdown decides the outcome). */
  async recordError(id: string, error: string): Promise<void> {
    await this.prisma.job.updateMany({
      where: { id, status: { notIn: TERMINAL } },
      data: { error },
    });
  }

  /**
   * Ends the job unless it already ended: the first outcome wins, so a late
   * process-exit notice cannot overwrite the result a worker reported. A job
   * an operator asked to stop ends `cancelled` whatever the worker reported;
   * what it reported (result, usage, error) is kept. Returns the status the
   * job ended with, or null when it had already ended.
   */
  async finish(
    id: string,
    outcome: {
      status: 'succeeded' | 'failed';
      error?: string | null;
      result?: JobResultRecord | null;
      usage?: JobUsageRecord | null;
      /** A follow-up's agent resumed the earlier job's thread (null: not a follow-up, or the worker did not say). */
      contextReused?: boolean | null;
    },
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<Job['status'] | null> {
    const data = {
      finishedAt: new Date(),
      waitingReason: null,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      ...(outcome.contextReused !== undefined ? { contextReused: outcome.contextReused } : {}),
      ...(outcome.result ? { result: { ...outcome.result } } : {}),
      // A review event finds its follow-up thread by the pull request the job opened or pushed to (docs/follow-ups.md).
      ...(outcome.result?.pullRequest ? { pullRequest: outcome.result.pullRequest } : {}),
      ...(outcome.usage ? { usage: { ...outcome.usage } } : {}),
    };
    const cancelled = await tx.job.updateMany({
      where: { id, status: { notIn: TERMINAL }, cancelRequestedAt: { not: null } },
      data: { ...data, status: 'cancelled' },
    });
    if (cancelled.count === 1) return 'cancelled';
    const { count } = await tx.job.updateMany({
      where: { id, status: { notIn: TERMINAL }, cancelRequestedAt: null },
      data: { ...data, status: outcome.status },
    });
    return count === 1 ? outcome.status : null;
  }

  async fail(id: string, error: string, tx?: Prisma.TransactionClient): Promise<boolean> {
    return (await this.finish(id, { status: 'failed', error }, tx)) !== null;
  }

  /**
   * Ends attempt `attempt` of the job after an infrastructure failure: back to
   * `pending` until `retryAt` while attempts remain, otherwise `failed` with
   * the reason. A job an operator asked to stop ends `cancelled` instead, and
   * is never retried. Only the job's current attempt may do this, so a late
   * notice about an older attempt cannot disturb a newer one.
   */
  async retryOrFail(
    id: string,
    attempt: number,
    reason: string,
    policy: { maxAttempts: number; retryAt: Date },
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<'retrying' | 'failed' | 'cancelled' | 'unchanged'> {
    const live = { id, attempts: attempt, status: { in: ['launching', 'running'] as Job['status'][] } };
    const cancelled = await tx.job.updateMany({
      where: { ...live, cancelRequestedAt: { not: null } },
      data: { status: 'cancelled', error: reason, finishedAt: new Date(), waitingReason: null },
    });
    if (cancelled.count === 1) return 'cancelled';
    const current = { ...live, cancelRequestedAt: null };
    if (attempt < policy.maxAttempts) {
      const { count } = await tx.job.updateMany({
        where: current,
        data: { status: 'pending', nextAttemptAt: policy.retryAt, error: reason },
      });
      return count === 1 ? 'retrying' : 'unchanged';
    }
    const { count } = await tx.job.updateMany({
      where: current,
      data: { status: 'failed', error: reason, finishedAt: new Date() },
    });
    return count === 1 ? 'failed' : 'unchanged';
  }

  /**
   * A launching or running job an operator asked to stop, ended `cancelled` by the conductor itself: when nothing
   * was launched for it, or after the grace period once its worker was killed. One guarded UPDATE.
   */
  async endCancelled(id: string, reason: string, tx: Prisma.TransactionClient = this.prisma): Promise<boolean> {
    const { count } = await tx.job.updateMany({
      where: { id, status: { in: ['launching', 'running'] }, cancelRequestedAt: { not: null } },
      data: { status: 'cancelled', error: reason, finishedAt: new Date(), waitingReason: null },
    });
    return count === 1;
  }

  /**
   * Jobs claimed (`launching`) whose attempt never got a worker row: the
   * conductor stopped between claim and register. They go back to `pending`
   * with the attempt given back, since nothing was started for it. Only rows
   * older than `olderThan` count, so a launch still under way elsewhere is left alone.
   * One an operator asked to stop ends `cancelled` rather than go back in line.
   * Each released job comes back with the status it now has, so callers can say which.
   */
  async releaseUnregisteredClaims(olderThan: Date): Promise<ReleasedClaim[]> {
    const rows = await this.prisma.$queryRaw<ReleasedClaim[]>`
      UPDATE "jobs" AS j
         SET "status" = CASE WHEN j."cancel_requested_at" IS NULL THEN 'pending' ELSE 'cancelled' END::"JobStatus",
             "finished_at" = CASE WHEN j."cancel_requested_at" IS NULL THEN NULL ELSE CURRENT_TIMESTAMP END,
             "attempts" = j."attempts" - 1, "updated_at" = CURRENT_TIMESTAMP
       WHERE j."status" = 'launching'
         AND j."updated_at" < ${olderThan}
         AND NOT EXISTS (SELECT 1 FROM "workers" AS w WHERE w."job_id" = j."id" AND w."attempt" = j."attempts")
      RETURNING j."id", j."status"::text AS "status"`;
    return rows.map((row) => ({ id: row.id, status: row.status }));
  }
}
