import { Injectable } from '@nestjs/common';
import type { JiraReport, Prisma, PrismaClient } from '../generated/prisma/client';

export interface NewJiraReport {
  jobId: string;
  attempt: number;
  issueKey: string;
  outcome: 'succeeded' | 'failed';
  body: string;
  /** Applied by name before the comment; absent: none. */
  transition?: string | null;
}

/**
 * The Jira outbox (`jira_reports`): a row is written in the transaction that ends a ticket job, then delivered by one
 * conductor at a time. Unique per (job, attempt), so a repeated end notice cannot queue a second comment.
 */
@Injectable()
export class JiraReportRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Queues the report unless the attempt already has one; returns whether this call queued it. */
  async record(report: NewJiraReport, tx: Prisma.TransactionClient = this.prisma): Promise<boolean> {
    const { count } = await tx.jiraReport.createMany({ data: [report], skipDuplicates: true });
    return count === 1;
  }

  /**
   * Takes up to `limit` undone reports whose time has come, counting a try on each and pushing next_try_at past
   * `leaseMs` so another conductor (or a later pass) leaves them alone while this one delivers.
   */
  claimDue(limit: number, leaseMs: number): Promise<JiraReport[]> {
    return this.prisma.$queryRaw<JiraReport[]>`
      UPDATE "jira_reports" AS r
         SET "tries" = r."tries" + 1,
             "next_try_at" = CURRENT_TIMESTAMP + make_interval(secs => ${leaseMs / 1000}::double precision)
       WHERE r."id" IN (
         SELECT "id" FROM "jira_reports"
          WHERE "comment_id" IS NULL AND "gave_up_at" IS NULL AND "next_try_at" <= CURRENT_TIMESTAMP
          ORDER BY "next_try_at"
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
      RETURNING r."id", r."job_id" AS "jobId", r."attempt", r."issue_key" AS "issueKey", r."outcome", r."body", r."transition", r."tries",
                r."next_try_at" AS "nextTryAt", r."last_error" AS "lastError", r."comment_id" AS "commentId",
                r."posted_at" AS "postedAt", r."gave_up_at" AS "gaveUpAt", r."created_at" AS "createdAt"`;
  }

  /** Done: the comment's id is stored once; a second writer changes nothing. */
  async markPosted(id: string, commentId: string): Promise<boolean> {
    const { count } = await this.prisma.jiraReport.updateMany({
      where: { id, commentId: null },
      data: { commentId, postedAt: new Date(), lastError: null },
    });
    return count === 1;
  }

  async markFailed(id: string, error: string, nextTryAt: Date): Promise<void> {
    await this.prisma.jiraReport.updateMany({ where: { id, commentId: null }, data: { lastError: error, nextTryAt } });
  }

  async giveUp(id: string, error: string): Promise<void> {
    await this.prisma.jiraReport.updateMany({ where: { id, commentId: null }, data: { lastError: error, gaveUpAt: new Date() } });
  }

  findByJob(jobId: string): Promise<JiraReport[]> {
    return this.prisma.jiraReport.findMany({ where: { jobId }, orderBy: { attempt: 'asc' } });
  }
}
