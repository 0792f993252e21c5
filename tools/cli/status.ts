/**
 * Prints the scheduling state: jobs and their workers.
 *
 *   npm run status                    a readable table
 *   npm run --silent status -- --json one JSON document (stdout holds nothing else)
 */
import { createPrismaClient, StatusRepository, StatusSnapshot } from '@agent-conductor/db';
import { DEV_DATABASE_URL } from './dev-defaults';

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

async function main(argv: string[]): Promise<void> {
  const prisma = createPrismaClient(process.env['DATABASE_URL'] ?? DEV_DATABASE_URL);
  try {
    const snapshot = await new StatusRepository(prisma).snapshot();
    process.stdout.write(argv.includes('--json') ? `${JSON.stringify(snapshot)}\n` : renderStatus(snapshot));
  } finally {
    await prisma.$disconnect();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`status: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
