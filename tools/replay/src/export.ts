/**
 * Writes recorded intake history from DATABASE_URL as a replay scenario.
 *
 *   DATABASE_URL=postgresql://… npm run --silent scenario:export -- [--since <ISO>] [--until <ISO>] > history.jsonl   (--help)
 *
 * --since is inclusive, --until exclusive, both on deliveries.received_at (and jobs.finished_at for job ends).
 */
import { dateOption, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { exportHistory } from './export-history';

const EXPORT_CLI = {
  name: 'scenario:export',
  synopsis: 'DATABASE_URL=postgresql://… npm run --silent scenario:export -- [--since ISO] [--until ISO] > history.jsonl',
  summary: 'Writes the intake history recorded in DATABASE_URL as a replay scenario.',
  options: {
    since: { type: 'string', value: 'ISO', description: 'first delivery to export, by received time (inclusive)' },
    until: { type: 'string', value: 'ISO', description: 'end of the export, by received time (exclusive)' },
  },
} satisfies CliSpec<CliOptions>;

async function main({ since, until }: { since: Date | undefined; until: Date | undefined }): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: it names the database whose history to export');
  const buffer: string[] = [];
  const flush = (): void => {
    if (buffer.length > 0) process.stdout.write(`${buffer.join('\n')}\n`);
    buffer.length = 0;
  };
  const count = await exportHistory({
    databaseUrl,
    since,
    until,
    write: (line) => {
      buffer.push(line);
      if (buffer.length >= 1000) flush();
    },
  });
  flush();
  process.stderr.write(`scenario:export: ${count} lines (deliveries and job ends)\n`);
}

main(startCli(EXPORT_CLI, ({ values }) => ({ since: dateOption(values.since, 'since'), until: dateOption(values.until, 'until') }))).catch((error: unknown) => {
  process.stderr.write(`scenario:export: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
