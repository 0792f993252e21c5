/**
 * The operator console's read queries (ConsoleQueryRepository) against a seeded history, as an operator's browser
 * asks them: first pages, filtered pages, a page deep in the history by cursor, a job's detail (a ticket's, an
 * incident's, a follow-up's in a thread of 20, and a ticket's whose thread has 100 comments not acted on), admission
 * and the 24 h overview.
 *
 *   npm run --silent bench:console -- --history <N> [--runs <R>]
 *
 * Seeds the same history as bench:scheduler (20% tickets with their jobs, 80% alarms in incidents of 8 with one job
 * each) in the bench's own embedded cluster, runs every query R times after one unmeasured run, and prints each
 * query's median and p90 in ms. The LAST line is one JSON object: {"history":N,"jobs":J,"medianMs":{query: ms, …}}.
 * Seeding progress goes to stderr. The machine is shared: compare runs made back to back.
 */
import { numberOption, startCli, type ParsedCli } from '@agent-conductor/cli-args';
import { ConsoleQueryRepository, createPrismaClient, encodeCursor, type Job, type PrismaClient } from '@agent-conductor/db';
import { startTestPostgres } from '@agent-conductor/testing';
import { historyShape, seedHistory } from './scheduler-seed';

const HISTORY_NOW = new Date('2026-06-01T00:00:00.000Z');

const CLI = {
  name: 'bench:console',
  synopsis: 'npm run --silent bench:console -- [--history N] [--runs R]',
  summary: "The operator console's read queries against a seeded history: median and p90 per query.",
  options: {
    history: { type: 'string', value: 'N', description: 'messages of history seeded first (default 100000)' },
    runs: { type: 'string', value: 'R', description: 'measured runs per query after one unmeasured run (default 25)' },
  },
  notes: 'The last stdout line is one JSON object; seeding progress goes to stderr.',
} as const;

interface Options {
  history: number;
  runs: number;
}

function parseOptions({ values }: ParsedCli<typeof CLI.options>): Options {
  return {
    history: numberOption(values.history, 'history', { fallback: 100_000, whole: true, min: 1 }),
    runs: numberOption(values.runs, 'runs', { fallback: 25, whole: true, min: 1 }),
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const round = (value: number): number => Math.round(value * 100) / 100;
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

const THREAD_FOLLOW_UPS = 20;
const REQUESTS_PER_FOLLOW_UP = 5;

/**
 * The seeded history has no follow-ups: give one ticket job a thread of THREAD_FOLLOW_UPS ended follow-ups, each
 * answering REQUESTS_PER_FOLLOW_UP comments, as the scheduler would have (docs/follow-ups.md). Returns the last one.
 */
async function seedThread(prisma: PrismaClient, first: Job): Promise<string> {
  const pullRequest = `https://github.com/acme/orders-api/pull/${first.key}`;
  await prisma.job.update({ where: { id: first.id }, data: { pullRequest } });
  let last = '';
  for (let index = 0; index < THREAD_FOLLOW_UPS; index += 1) {
    const followUp = await prisma.job.create({
      data: {
        kind: first.kind,
        key: first.key,
        deliveryId: first.deliveryId,
        repository: first.repository,
        taskMarkdown: '# Follow-up',
        status: 'succeeded',
        followUpOfId: first.id,
        pullRequest,
        createdAt: new Date(HISTORY_NOW.getTime() + index * 60_000),
      },
    });
    await prisma.followUpRequest.createMany({
      data: Array.from({ length: REQUESTS_PER_FOLLOW_UP }, (_, request) => ({
        deliveryId: first.deliveryId,
        source: 'github',
        externalId: `github:review-comment:${index}-${request}`,
        threadJobId: first.id,
        followUpJobId: followUp.id,
        author: 'reviewer',
        body: `@agent fix this, comment ${request} `.repeat(40),
        path: 'src/app.ts',
        line: request + 1,
        commentedAt: new Date(HISTORY_NOW.getTime() + index * 60_000 + request),
      })),
    });
    last = followUp.id;
  }
  return last;
}

const REFUSED_COMMENTS = 100;
/** A GitHub pull_request_review_comment delivery weighs 15–30 KB, mostly the pull request and repository objects. */
const DELIVERY_PADDING = 16_000;

/**
 * Comments on `first`'s thread that started nothing, stored as the scheduler stores them (docs/follow-ups.md,
 * "Comments not acted on"): rejected deliveries of realistic size linked by thread_job_id, which the job page
 * reads and parses again.
 */
async function seedRefusedComments(prisma: PrismaClient, first: Job): Promise<void> {
  const pullRequest = `https://github.com/acme/orders-api/pull/${first.key}`;
  await prisma.job.update({ where: { id: first.id }, data: { pullRequest } });
  await prisma.delivery.createMany({
    data: Array.from({ length: REFUSED_COMMENTS }, (_, index) => ({
      sqsMessageId: `refused-${first.id}-${index}`,
      receivedAt: new Date(HISTORY_NOW.getTime() + index * 1000),
      classification: 'rejected' as const,
      rejectionReason: `github pull_request_review_comment github:review-comment:${index} by drive-by: the author has no write access to the repository`,
      threadJobId: first.id,
      body: JSON.stringify({
        githubWebhook: { deliveryId: `refused-${index}`, event: 'pull_request_review_comment' },
        payload: {
          action: 'created',
          pull_request: { html_url: pullRequest, state: 'open', merged: false, merged_at: null, body: 'x'.repeat(DELIVERY_PADDING) },
          comment: {
            id: index,
            body: `@agent please fix this too, comment ${index} `.repeat(20),
            path: 'src/app.ts',
            line: index + 1,
            user: { login: 'drive-by' },
            author_association: 'NONE',
            created_at: new Date(HISTORY_NOW.getTime() + index * 1000).toISOString(),
            html_url: `${pullRequest}#discussion_r${index}`,
          },
        },
      }),
    })),
  });
}

async function main(options: Options): Promise<void> {
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
    const followUp = await seedThread(prisma, ticketJob);
    // Two more ticket jobs without follow-ups: one whose thread has comments not acted on, one without, to compare.
    const [refusedJob, plainJob] = await prisma.job.findMany({ where: { kind: 'ticket', followUpOfId: null, id: { not: ticketJob.id } }, orderBy: { createdAt: 'desc' }, take: 2 });
    if (!refusedJob || !plainJob) throw new Error('bench:console needs a history with at least three tickets');
    await seedRefusedComments(prisma, refusedJob);

    const queries: Array<[string, () => Promise<unknown>]> = [
      ['jobs first page (50)', () => query.jobs({}, { limit: 50 })],
      ['jobs second page', () => query.jobs({}, { limit: 50, cursor: nextCursor })],
      ['jobs page mid-history', () => query.jobs({}, { limit: 50, cursor: deepCursor })],
      ['jobs status=failed (none)', () => query.jobs({ status: 'failed' }, { limit: 50 })],
      ['jobs kind=incident', () => query.jobs({ kind: 'incident' }, { limit: 50 })],
      ['jobs key=<ticket>', () => query.jobs({ key: ticketJob.key }, { limit: 50 })],
      ['job detail', () => query.job(ticketJob.id)],
      ['incident job detail', () => query.job(incident.jobId)],
      ['follow-up job detail', () => query.job(followUp)],
      ['job detail, no thread', () => query.job(plainJob.id)],
      ['job detail, 100 not acted on', () => query.job(refusedJob.id)],
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
    say("a job's thread plan (EXPLAIN ANALYZE): its follow-ups, the requests they answer, its comments not acted on");
    const threadPlans = [
      await prisma.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(
        'EXPLAIN ANALYZE SELECT "id", "status" FROM "jobs" WHERE "follow_up_of" = $1::uuid ORDER BY "created_at", "id" LIMIT 101',
        ticketJob.id,
      ),
      await prisma.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(
        'EXPLAIN ANALYZE SELECT * FROM "follow_up_requests" WHERE "follow_up_job_id" = $1::uuid ORDER BY "commented_at", "created_at", "id" LIMIT 101',
        followUp,
      ),
      await prisma.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(
        'EXPLAIN ANALYZE SELECT "id", "body" FROM "deliveries" WHERE "thread_job_id" = $1::uuid ORDER BY "received_at" DESC, "id" DESC LIMIT 101',
        refusedJob.id,
      ),
    ];
    for (const line of threadPlans.flat()) say(`  ${line['QUERY PLAN']}`);
    say(JSON.stringify({ history: options.history, jobs, medianMs: medians }));
  } finally {
    await prisma.$disconnect();
    await postgres.stop();
  }
}

main(startCli(CLI, parseOptions)).catch((error: unknown) => {
  progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
