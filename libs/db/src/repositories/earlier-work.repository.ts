import { Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient } from '../generated/prisma/client';

/** An earlier job's pull request, as its worker reported it. Every text in it came from an agent: untrusted. */
export interface EarlierWorkRecord {
  jobId: string;
  jobKey: string;
  branch: string;
  pullRequest: string;
  title: string;
  /** Empty when the job ended before workers reported summaries. */
  summary: string;
}

export interface EarlierWorkQuery {
  /** The job about to start: never its own earlier work. */
  jobId: string;
  repository: string;
  /** The branch the job starts from; pull requests against other branches are someone else's business. */
  baseBranch: string;
  /** What a job row without a branch (from before routing) started from. */
  defaultBranch: string;
  limit: number;
}

function isJsonObject(value: Prisma.JsonValue | null): value is Prisma.JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text = (value: Prisma.JsonValue | undefined): string => (typeof value === 'string' ? value : '');

/** Reads what earlier agents left on a repository, for the next agent there. */
@Injectable()
export class EarlierWorkRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  /** Succeeded jobs on the same repository and base branch that opened a pull request, newest first. */
  async pullRequestsBefore(query: EarlierWorkQuery): Promise<EarlierWorkRecord[]> {
    const rows = await this.prisma.job.findMany({
      where: {
        repository: query.repository,
        status: 'succeeded',
        id: { not: query.jobId },
        OR: [{ branch: query.baseBranch }, ...(query.baseBranch === query.defaultBranch ? [{ branch: null }] : [])],
      },
      orderBy: [{ finishedAt: 'desc' }, { createdAt: 'desc' }],
      // A row whose result names no branch or pull request (an older writer's) is skipped below, not counted.
      take: query.limit * 2,
      select: { id: true, key: true, result: true },
    });
    const records: EarlierWorkRecord[] = [];
    for (const row of rows) {
      if (!isJsonObject(row.result)) continue;
      const branch = text(row.result['branch']);
      const pullRequest = text(row.result['pullRequest']);
      if (branch === '' || pullRequest === '') continue;
      records.push({ jobId: row.id, jobKey: row.key, branch, pullRequest, title: text(row.result['title']), summary: text(row.result['summary']) });
      if (records.length === query.limit) break;
    }
    return records;
  }
}
