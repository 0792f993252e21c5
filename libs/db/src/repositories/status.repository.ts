import { Injectable } from '@nestjs/common';
import { JobKind, JobStatus, Prisma, PrismaClient, WorkerState } from '../generated/prisma/client';
import type { JobUsageRecord } from './job.repository';

export type StatusJobResult =
  | { branch: string | null; pullRequest: Prisma.JsonValue }
  | { branch: string | null; report: Prisma.JsonValue };

/** What the job's agent spent; null until a worker reported it. */
export type StatusJobUsage = JobUsageRecord;

export interface StatusJob {
  id: string;
  kind: JobKind;
  key: string;
  status: JobStatus;
  attempts: number;
  repository: string;
  /** The job's latest worker. */
  workerId: string | null;
  result: StatusJobResult | null;
  usage: StatusJobUsage | null;
  error: string | null;
  /** Why a pending job has not started, as admission last saw it (e.g. `waiting for a worker slot (10/10 active)`); null otherwise. */
  waiting: string | null;
}

export interface StatusWorker {
  id: string;
  jobId: string;
  state: WorkerState;
  /** ISO-8601. */
  lastEventAt: string;
}

export interface StatusSnapshot {
  jobs: StatusJob[];
  workers: StatusWorker[];
}

function isJsonObject(value: Prisma.JsonValue | null): value is Prisma.JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Narrows the stored result to what status readers show; title and extras stay in the row. */
export function toStatusResult(stored: Prisma.JsonValue | null): StatusJobResult | null {
  if (!isJsonObject(stored)) {
    return null;
  }
  const branch = typeof stored['branch'] === 'string' ? stored['branch'] : null;
  const pullRequest = stored['pullRequest'];
  if (pullRequest !== undefined && pullRequest !== null) {
    return { branch, pullRequest };
  }
  return { branch, report: stored['report'] ?? null };
}

const count = (value: Prisma.JsonValue | undefined): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** The stored usage, with every field present whatever an older writer left out. */
export function toStatusUsage(stored: Prisma.JsonValue | null): StatusJobUsage | null {
  if (!isJsonObject(stored)) {
    return null;
  }
  return {
    inputTokens: count(stored['inputTokens']),
    cachedInputTokens: count(stored['cachedInputTokens']),
    outputTokens: count(stored['outputTokens']),
    turns: count(stored['turns']),
    durationMs: count(stored['durationMs']),
    model: typeof stored['model'] === 'string' ? stored['model'] : null,
    contextReused: stored['contextReused'] === true,
  };
}

export interface StatusFilter {
  status?: JobStatus;
  kind?: JobKind;
  /** The newest this many jobs (still listed oldest first). */
  limit?: number;
}

/** Read model for status endpoints and the CLI. */
@Injectable()
export class StatusRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Jobs oldest first, each with its latest worker, and their workers. Filters narrow the jobs (and the workers to
   * theirs); `limit` keeps the newest that many.
   */
  async snapshot(filter: StatusFilter = {}): Promise<StatusSnapshot> {
    const where: Prisma.JobWhereInput = {
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.kind ? { kind: filter.kind } : {}),
    };
    const narrowed = filter.status !== undefined || filter.kind !== undefined || filter.limit !== undefined;
    // One repeatable-read snapshot, so jobs and workers agree with each other.
    const { jobs, workers } = await this.prisma.$transaction(
      async (tx) => {
        const newest = await tx.job.findMany({
          where,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          ...(filter.limit !== undefined ? { take: filter.limit } : {}),
          include: { workers: { orderBy: [{ attempt: 'desc' }, { createdAt: 'desc' }], take: 1, select: { id: true } } },
        });
        const listed = newest.reverse();
        const workerRows = await tx.worker.findMany({
          ...(narrowed ? { where: { jobId: { in: listed.map((job) => job.id) } } } : {}),
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        });
        return { jobs: listed, workers: workerRows };
      },
      { isolationLevel: 'RepeatableRead' },
    );
    return {
      jobs: jobs.map((job) => ({
        id: job.id,
        kind: job.kind,
        key: job.key,
        status: job.status,
        attempts: job.attempts,
        repository: job.repository,
        workerId: job.workers[0]?.id ?? null,
        result: toStatusResult(job.result),
        usage: toStatusUsage(job.usage),
        error: job.error,
        waiting: job.status === 'pending' ? job.waitingReason : null,
      })),
      workers: workers.map((worker) => ({
        id: worker.id,
        jobId: worker.jobId,
        state: worker.state,
        lastEventAt: worker.lastEventAt.toISOString(),
      })),
    };
  }
}
