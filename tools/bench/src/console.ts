/**
 * The operator console's read queries (ConsoleQueryRepository) against a seeded history, as an operator's browser
 * asks them: first pages, filtered pages, a page deep in the history by cursor, a job's detail, admission and the
 * 24 h overview.
 *
 *   npm run --silent bench:console -- --history <N> [--runs <R>]
 *
 * Seeds the same history as bench:scheduler (20% tickets with their jobs, 80% alarms in incidents of 8 with one job
 * each) in the bench's own embedded cluster, runs every query R times after one unmeasured run, and prints each
 * query's median and p90 in ms. The LAST line is one JSON object: {"history":N,"jobs":J,"medianMs":{query: ms, …}}.
 * Seeding progress goes to stderr. The machine is shared: compare runs made back to back.
 */
import { ConsoleQueryRepository, createPrismaClient, encodeCursor } from '@agent-conductor/db';
import { startTestPostgres } from '@agent-conductor/testing';
import { historyShape, seedHistory } from './scheduler-seed';

const HISTORY_NOW = new Date('2026-06-01T00:00:00.000Z');

function parseOptions(argv: string[]): { history: number; runs: number } {
  const args = argv.filter((argument) => argument !== '--');
  const value = (name: string, fallback: number): number => {
    const index = args.indexOf(`--${name}`);
    if (index < 0) return fallback;
    const parsed = Number(args[index + 1]);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} needs a whole number of at least 1, got ${args[index + 1]}`);
    return parsed;
  };
  return { history: value('history', 100_000), runs: value('runs', 25) };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const round = (value: number): number => Math.round(value * 100) / 100;
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const postgres = await startTestPostgres();
  const prisma = createPrismaClient(postgres.databaseUrl);
  try {
    const shape = historyShape(options.history, HISTORY_NOW);
    progress(`seeding ${shape.deliveries} deliveries (${shape.tickets} tickets, ${shape.alarms} alarms in ${shape.incidents} incidents)`);
    await seedHistory(postgres.databaseUrl, shape, progress);
    const query = new ConsoleQueryRepository(prisma);
    const jobs = await prisma.job.count();

    // A cursor half-way through the history: what "next page" costs after paging a while.
    const middle = await prisma.job.findFirstOrThrow({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: Math.floor(jobs / 2), select: { id: true, createdAt: true } });
    const deepCursor = encodeCursor({ at: middle.createdAt, id: middle.id });
    const nextCursor = (await query.jobs({}, { limit: 50 })).nextCursor ?? undefined;
    const incident = await prisma.incident.findFirstOrThrow({ orderBy: { createdAt: 'desc' } });
    const ticketJob = await prisma.job.findFirstOrThrow({ where: { kind: 'ticket' }, orderBy: { createdAt: 'desc' } });
    const since = new Date(HISTORY_NOW.getTime() - 24 * 3_600_000);

    const queries: Array<[string, () => Promise<unknown>]> = [
      ['jobs first page (50)', () => query.jobs({}, { limit: 50 })],
      ['jobs second page', () => query.jobs({}, { limit: 50, cursor: nextCursor })],
      ['jobs page mid-history', () => query.jobs({}, { limit: 50, cursor: deepCursor })],
      ['jobs status=failed (none)', () => query.jobs({ status: 'failed' }, { limit: 50 })],
      ['jobs kind=incident', () => query.jobs({ kind: 'incident' }, { limit: 50 })],
      ['jobs key=<ticket>', () => query.jobs({ key: ticketJob.key }, { limit: 50 })],
      ['job detail', () => query.job(ticketJob.id)],
      ['incidents first page', () => query.incidents({ limit: 50 })],
      ['incident detail', () => query.incident(incident.id)],
      ['deliveries first page', () => query.deliveries({}, { limit: 50 })],
      ['deliveries rejected', () => query.deliveries({ rejected: true }, { limit: 50 })],
      ['workers active', () => query.workers({ active: true }, { limit: 50 })],
      ['admission', () => query.admission()],
      ['overview 24 h stats', () => query.jobStats(since)],
    ];
    const medians: Record<string, number> = {};
    say(`bench:console  history ${options.history}  jobs ${jobs}  runs ${options.runs}`);
    for (const [name, run] of queries) {
      await run();
      const times: number[] = [];
      for (let index = 0; index < options.runs; index += 1) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      medians[name] = round(quantile(times, 0.5));
      say(`${name.padEnd(28)} median ${String(medians[name]).padStart(8)} ms   p90 ${String(round(quantile(times, 0.9))).padStart(8)} ms`);
    }
    say('jobs first page plan (EXPLAIN ANALYZE):');
    const plan = await prisma.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(
      'EXPLAIN ANALYZE SELECT * FROM "jobs" ORDER BY "created_at" DESC, "id" DESC LIMIT 51',
    );
    for (const line of plan) say(`  ${line['QUERY PLAN']}`);
    say(JSON.stringify({ history: options.history, jobs, medianMs: medians }));
  } finally {
    await prisma.$disconnect();
    await postgres.stop();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
