/**
 * Prints the scheduling state: jobs and their workers.
 *
 *   npm run status                                   a readable table
 *   npm run status -- --status failed --limit 20     the 20 newest failed jobs
 *   npm run --silent status -- --json                one JSON document (stdout holds nothing else)
 */
import { CliUsageError, numberOption, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { createPrismaClient, JobKind, JobStatus, StatusRepository, type StatusFilter, type StatusSnapshot } from '@agent-conductor/db';
import { DEV_DATABASE_URL } from './dev-defaults';

const STATUSES = Object.values(JobStatus);
const KINDS = Object.values(JobKind);

const CLI = {
  name: 'status',
  synopsis: 'npm run status -- [--status STATUS] [--kind KIND] [--limit N] [--json]',
  summary: 'Prints jobs (oldest first) with their latest worker, and their workers.',
  options: {
    status: { type: 'string', value: 'STATUS', description: `only jobs in this status: ${STATUSES.join(', ')}` },
    kind: { type: 'string', value: 'KIND', description: `only jobs of this kind: ${KINDS.join(', ')}` },
    limit: { type: 'string', value: 'N', description: 'only the newest N jobs (a whole number from 1)' },
    json: { type: 'boolean', description: 'one JSON document instead of the tables' },
  },
  notes: "DATABASE_URL selects the database (default: the dev stack's). Exit 2 on a bad argument.",
} satisfies CliSpec<CliOptions>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((text, column) => text.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function renderStatus(snapshot: StatusSnapshot): string {
  const jobs = table(
    ['JOB', 'KIND', 'KEY', 'STATUS', 'ATTEMPTS', 'WORKER', 'RESULT', 'ERROR', 'WAITING'],
    snapshot.jobs.map((job) => {
      const result = job.result === null ? null : 'pullRequest' in job.result ? job.result.pullRequest : job.result.report;
      return [
        job.id,
        job.kind,
        job.key,
        job.status,
        String(job.attempts),
        cell(job.workerId),
        cell(result ?? job.result?.branch),
        cell(job.error),
        cell(job.waiting),
      ];
    }),
  );
  const workers = table(
    ['WORKER', 'JOB', 'STATE', 'LAST EVENT'],
    snapshot.workers.map((worker) => [worker.id, worker.jobId, worker.state, worker.lastEventAt]),
  );
  return `${snapshot.jobs.length} job(s)\n${jobs}\n\n${snapshot.workers.length} worker(s)\n${workers}\n`;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new CliUsageError(`--${flag} ${value}: expected one of ${allowed.join(', ')}`);
  return found;
}

export function statusFilter(values: { status?: string | undefined; kind?: string | undefined; limit?: string | undefined }): StatusFilter {
  const status = oneOf('status', values.status, STATUSES);
  const kind = oneOf('kind', values.kind, KINDS);
  const limit = values.limit === undefined ? undefined : numberOption(values.limit, 'limit', { fallback: 1, whole: true, min: 1, max: Number.MAX_SAFE_INTEGER });
  return { ...(status ? { status } : {}), ...(kind ? { kind } : {}), ...(limit !== undefined ? { limit } : {}) };
}

async function main({ filter, json }: { filter: StatusFilter; json: boolean }): Promise<void> {
  const prisma = createPrismaClient(process.env['DATABASE_URL'] ?? DEV_DATABASE_URL);
  try {
    const snapshot = await new StatusRepository(prisma).snapshot(filter);
    process.stdout.write(json ? `${JSON.stringify(snapshot)}\n` : renderStatus(snapshot));
  } finally {
    await prisma.$disconnect();
  }
}

main(startCli(CLI, ({ values }) => ({ filter: statusFilter(values), json: values.json === true }))).catch((error: unknown) => {
  process.stderr.write(`status: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
