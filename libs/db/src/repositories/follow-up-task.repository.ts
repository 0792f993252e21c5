import { Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient } from '../generated/prisma/client';

/** The job whose branch and pull request a follow-up continues, as its worker reported them. */
export interface FollowUpThreadRecord {
  jobId: string;
  key: string;
  /** The title its agent gave the pull request ('' when none was recorded). */
  title: string;
  /** The pull request's head branch (result.branch; null when the job recorded none). */
  headBranch: string | null;
  /** jobs.pull_request, else result.pullRequest (null when neither is set). */
  pullRequest: string | null;
}

/** A comment batched into the follow-up job. Everything in it was written by a person on the thread: untrusted. */
export interface FollowUpRequestRecord {
  author: string;
  body: string;
  path: string | null;
  line: number | null;
  url: string | null;
  commentedAt: Date;
}

export interface FollowUpTaskRecord {
  thread: FollowUpThreadRecord;
  requests: FollowUpRequestRecord[];
}

function isJsonObject(value: Prisma.JsonValue | null): value is Prisma.JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text = (value: Prisma.JsonValue | undefined): string => (typeof value === 'string' ? value : '');

/** What the conductor launches a follow-up job from (docs/follow-up-runs.md); the scheduler writes the rows. */
@Injectable()
export class FollowUpTaskRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  /** The thread and the comments of a follow-up job, oldest first; null when the job is not a follow-up. */
  async forJob(jobId: string): Promise<FollowUpTaskRecord | null> {
    const job = await this.prisma.job.findUnique({
      where: { id: jobId },
      select: {
        followUpOf: { select: { id: true, key: true, result: true, pullRequest: true } },
        followUpRequests: {
          orderBy: [{ commentedAt: 'asc' }, { createdAt: 'asc' }],
          select: { author: true, body: true, path: true, line: true, url: true, commentedAt: true },
        },
      },
    });
    const first = job?.followUpOf;
    if (!job || !first) return null;
    const result = isJsonObject(first.result) ? first.result : {};
    const headBranch = text(result['branch']);
    const pullRequest = first.pullRequest ?? text(result['pullRequest']);
    return {
      thread: { jobId: first.id, key: first.key, title: text(result['title']), headBranch: headBranch || null, pullRequest: pullRequest || null },
      requests: job.followUpRequests,
    };
  }

  /**
   * Keeps the TASK.md an attempt was launched with on the job, for the console. Guarded: only while the attempt is
   * being launched, so a job that ended meanwhile keeps what it ran with.
   */
  async storeTaskMarkdown(jobId: string, taskMarkdown: string): Promise<boolean> {
    const { count } = await this.prisma.job.updateMany({ where: { id: jobId, status: 'launching', followUpOfId: { not: null } }, data: { taskMarkdown } });
    return count === 1;
  }
}
