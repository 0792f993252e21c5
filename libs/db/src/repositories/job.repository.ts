import { Injectable } from '@nestjs/common';
import type { Job, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

export interface JobResultRecord {
  branch: string;
  pullRequest?: string;
  report?: string;
  title: string;
}

const TERMINAL: Job['status'][] = ['succeeded', 'failed'];

/** The conductor's side of `jobs`: claiming, starting and finishing. */
@Injectable()
export class JobRepository {
  constructor(private readonly prisma: PrismaService) {}

  findById(id: string): Promise<Job | null> {
    return this.prisma.job.findUnique({ where: { id } });
  }

  /**
   * pending → launching in one UPDATE. Postgres re-checks the WHERE after a
   * concurrent writer commits, so of two conductors (or two calls) exactly one
   * gets the row back; the other gets null and must not launch.
   */
  async claim(id: string): Promise<Job | null> {
    const [claimed] = await this.prisma.job.updateManyAndReturn({
      where: { id, status: 'pending' },
      data: { status: 'launching', attempts: { increment: 1 } },
    });
    return claimed ?? null;
  }

  /** Oldest first, so a backlog drains in arrival order. */
  async findPendingIds(limit: number): Promise<string[]> {
    const rows = await this.prisma.job.findMany({
      where: { status: 'pending' },
      orderBy: { createdAt: 'asc' },
      take: limit,
      select: { id: true },
    });
    return rows.map((row) => row.id);
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
   * process-exit notice cannot overwrite the result a worker reported.
   */
  async finish(
    id: string,
    outcome: { status: 'succeeded' | 'failed'; error?: string | null; result?: JobResultRecord | null },
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<boolean> {
    const { count } = await tx.job.updateMany({
      where: { id, status: { notIn: TERMINAL } },
      data: {
        status: outcome.status,
        finishedAt: new Date(),
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
        ...(outcome.result ? { result: { ...outcome.result } } : {}),
      },
    });
    return count === 1;
  }

  fail(id: string, error: string, tx?: Prisma.TransactionClient): Promise<boolean> {
    return this.finish(id, { status: 'failed', error }, tx);
  }
}
