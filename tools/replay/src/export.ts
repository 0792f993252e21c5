/**
 * Writes recorded intake history from DATABASE_URL as a replay scenario.
 *
 *   DATABASE_URL=postgresql://… npm run --silent scenario:export -- [--since <ISO>] [--until <ISO>] > history.jsonl
 *
 * --since is inclusive, --until exclusive, both on deliveries.received_at.
 */
import { dateFlag, parseFlags } from './args';
import { exportHistory } from './export-history';

async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, ['since', 'until']);
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: it names the database whose history to export');
  const buffer: string[] = [];
  const flush = (): void => {
    if (buffer.length > 0) process.stdout.write(`${buffer.join('\n')}\n`);
    buffer.length = 0;
  };
  const count = await exportHistory({
    databaseUrl,
    since: dateFlag(flags, 'since'),
    until: dateFlag(flags, 'until'),
    write: (line) => {
      buffer.push(line);
      if (buffer.length >= 1000) flush();
    },
  });
  flush();
  process.stderr.write(`scenario:export: ${count} deliveries\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`scenario:export: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
