/**
 * Scheduler throughput and latency as history grows: ingest + decide through
 * the real SchedulingService against Postgres, next to a raw-SQL reference
 * transaction of the same shape on the same database.
 *
 *   npm run --silent bench:scheduler -- [--history N] [--messages M] [--concurrency C] [--shared-buffers SIZE]   (--help)
 *
 * --shared-buffers (e.g. 1GB) starts the bench's own embedded cluster with that shared_buffers (production-like
 * memory: RDS gives ~25% of RAM) instead of Postgres's 128MB default; scheduler and reference share the cluster.
 *
 * Human-readable lines first; the LAST line is one JSON object:
 *   {"history":N,"messages":M,"concurrency":C,"throughputPerSec":…,"p50Ms":…,"p99Ms":…,"referencePerSec":…}
 * Seeding progress goes to stderr. The machine is shared: compare runs made back to back.
 */
import { CliUsageError, numberOption, startCli, type CliOptions, type CliSpec, type ParsedCli } from '@agent-conductor/cli-args';
import { IngestRepository, uuidv7 } from '@agent-conductor/db';
import { DEFAULT_INCIDENT_POLICY, SchedulingService } from '@agent-conductor/scheduling';
import { startTestPostgres } from '@agent-conductor/testing';
import { Pool } from 'pg';
import { cloudWatchAlarmBody, seededRandom } from './bench-messages';
import { accountId, BENCH_ACCOUNTS, historyShape, seedHistory } from './scheduler-seed';

interface Options {
  history: number;
  messages: number;
  concurrency: number;
  /** shared_buffers of the bench's cluster, e.g. "1GB"; undefined: Postgres's default (128MB). */
  sharedBuffers: string | undefined;
}

interface BenchMessage {
  messageId: string;
  body: string;
  receivedAt: Date;
  /** Account for alarms, ticket key for tickets: what the reference transaction locks and looks up. */
  lockKey: string;
  eventTime: Date;
}

const HISTORY_NOW = new Date('2026-06-01T00:00:00.000Z');
const WARM_UP = 100;

const CLI = {
  name: 'bench:scheduler',
  synopsis: 'npm run --silent bench:scheduler -- [--history N] [--messages M] [--concurrency C] [--shared-buffers SIZE]',
  summary: 'Scheduler throughput and latency after seeding N messages of history, next to a raw-SQL reference transaction.',
  options: {
    history: { type: 'string', value: 'N', description: 'messages of history seeded first (default 1000)' },
    messages: { type: 'string', value: 'M', description: 'messages measured (default 2000)' },
    concurrency: { type: 'string', value: 'C', description: 'concurrent submitters (default 8)' },
    'shared-buffers': { type: 'string', value: 'SIZE', description: "shared_buffers of the bench's own cluster, e.g. 1GB (default: Postgres's 128MB)" },
  },
  notes: 'The last stdout line is one JSON object; seeding progress goes to stderr.',
} satisfies CliSpec<CliOptions>;

function parseOptions({ values }: ParsedCli<typeof CLI.options>): Options {
  const sharedBuffers = values['shared-buffers'];
  if (sharedBuffers !== undefined && !/^\d+(kB|MB|GB)$/.test(sharedBuffers)) {
    throw new CliUsageError(`--shared-buffers needs a size like 512MB or 1GB, got ${JSON.stringify(sharedBuffers)}`);
  }
  return {
    history: numberOption(values.history, 'history', { fallback: 1000, whole: true, min: 0 }),
    messages: numberOption(values.messages, 'messages', { fallback: 2000, whole: true, min: 1 }),
    concurrency: numberOption(values.concurrency, 'concurrency', { fallback: 8, whole: true, min: 1 }),
    sharedBuffers,
  };
}

/**
 * 25% Jira tickets (one in five repeats an earlier key), 75% CloudWatch alarms over all the history's accounts,
 * 90% ALARM / 10% OK, event times over the two hours after the history's "now", a few seconds of delivery lag.
 */
function makeMessages(count: number, prefix: string): BenchMessage[] {
  const next = seededRandom(20260601);
  const messages: BenchMessage[] = [];
  let tickets = 0;
  for (let index = 0; index < count; index += 1) {
    const eventTime = new Date(HISTORY_NOW.getTime() + Math.floor((index / count) * 7_200_000 + next() * 300_000));
    const receivedAt = new Date(eventTime.getTime() + 2000 + Math.floor(next() * 5000));
    const messageId = `${prefix}-${index}`;
    if (next() < 0.25) {
      tickets += 1;
      const key = tickets > 5 && next() < 0.2 ? `LIVE-${1 + Math.floor(next() * (tickets - 1))}` : `LIVE-${tickets}`;
      const body = JSON.stringify({
        id: String(50_000 + tickets),
        key,
        fields: {
          summary: `Checkout button unresponsive on Safari (${key})`,
          description: {
            type: 'doc',
            version: 1,
            content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Clicking Pay does nothing; the console shows a CSP error.' }] }],
          },
          issuetype: { name: 'Bug' },
          project: { key: 'LIVE' },
          priority: { name: 'High' },
          labels: ['checkout'],
          components: [{ name: 'Frontend' }],
        },
      });
      messages.push({ messageId, body, receivedAt, lockKey: key, eventTime });
      continue;
    }
    const account = accountId(Math.floor(next() * BENCH_ACCOUNTS));
    const alarmName = `svc-${Math.floor(next() * 17)}-high-cpu`;
    const state = next() < 0.9 ? 'ALARM' : 'OK';
    const body = cloudWatchAlarmBody({
      id: `event-${prefix}-${index}`,
      account,
      time: eventTime,
      region: 'us-east-1',
      alarmName,
      state,
      reason: 'Threshold Crossed: 1 datapoint [97.5] was greater than the threshold (80.0).',
      metric: { namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { InstanceId: 'i-0abc123def4567890' }, stat: 'Average' },
    });
    messages.push({ messageId, body, receivedAt, lockKey: account, eventTime });
  }
  return messages;
}

/** C submitters draining one queue in order; returns each message's latency and the wall time. */
async function drive(messages: BenchMessage[], concurrency: number, submit: (message: BenchMessage) => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const message = messages[next];
        next += 1;
        if (message === undefined) return;
        const sent = performance.now();
        await submit(message);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/**
 * The physical reference: what one alarm costs Postgres at minimum. BEGIN; insert the message; lock the account;
 * look up its open incident through incidents (account, last_event_at); update it or insert it; COMMIT.
 * Ids are time-ordered (UUIDv7) like the scheduler's, so both sides pay the same for their index inserts.
 */
async function referenceTransaction(pool: Pool, message: BenchMessage): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO deliveries (id, sqs_message_id, received_at, body, classification)
       VALUES ($4, $1, $2, $3, 'alarm') ON CONFLICT (sqs_message_id) DO NOTHING RETURNING id`,
      [message.messageId, message.receivedAt.toISOString(), message.body, uuidv7()],
    );
    const deliveryId = inserted.rows[0]?.id;
    if (deliveryId === undefined) {
      await client.query('COMMIT');
      return;
    }
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`incident:${message.lockKey}`]);
    const t = message.eventTime.toISOString();
    const open = await client.query<{ id: string }>(
      `SELECT id FROM incidents
        WHERE account = $1 AND last_event_at BETWEEN $2::timestamptz - interval '1 hour' AND $2::timestamptz + interval '24 hours'
          AND first_event_at BETWEEN $2::timestamptz - interval '24 hours' AND $2::timestamptz + interval '1 hour'
        ORDER BY first_event_at, id LIMIT 1`,
      [message.lockKey, t],
    );
    const incidentId = open.rows[0]?.id;
    if (incidentId !== undefined) {
      await client.query(
        `UPDATE incidents SET first_event_at = LEAST(first_event_at, $2), last_event_at = GREATEST(last_event_at, $2),
                alarm_count = alarm_count + 1, updated_at = now() WHERE id = $1`,
        [incidentId, t],
      );
    } else {
      await client.query(
        `WITH job AS (
           INSERT INTO jobs (id, kind, key, delivery_id, repository, status, task_markdown, updated_at)
           VALUES ($4, 'incident', $1, $2, 'bench://reference', 'pending', '# reference', now()) RETURNING id)
         INSERT INTO incidents (id, account, first_event_at, last_event_at, alarm_count, job_id, updated_at)
         SELECT $5, $1, $3, $3, 1, job.id, now() FROM job`,
        [message.lockKey, deliveryId, t, uuidv7(), uuidv7()],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function explainLookup(pool: Pool): Promise<string[]> {
  const plan = await pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
     SELECT i.id FROM incidents i JOIN jobs j ON j.id = i.job_id
      WHERE i.account = $1 AND i.last_event_at BETWEEN $2::timestamptz - interval '1 hour' AND $2::timestamptz + interval '24 hours'
        AND i.first_event_at BETWEEN $2::timestamptz - interval '24 hours' AND $2::timestamptz + interval '1 hour'
      ORDER BY i.first_event_at, i.id LIMIT 1`,
    [accountId(7), new Date(HISTORY_NOW.getTime() - 86_400_000).toISOString()],
  );
  return plan.rows.map((row) => row['QUERY PLAN']);
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(options: Options): Promise<void> {
  if (options.sharedBuffers !== undefined && process.env['DATABASE_URL']) {
    throw new Error('--shared-buffers applies to the bench\'s own cluster; unset DATABASE_URL');
  }
  const postgres = await startTestPostgres({
    postgresFlags: options.sharedBuffers === undefined ? [] : ['-c', `shared_buffers=${options.sharedBuffers}`],
  });
  // One pool per side, each big enough that no submitter waits for a connection; both are closed before the
  // cluster stops.
  const ingest = new IngestRepository({ databaseUrl: postgres.databaseUrl, poolSize: options.concurrency + 2 });
  const pool = new Pool({ connectionString: postgres.databaseUrl, max: options.concurrency + 2 });
  let closing = false;
  pool.on('error', (error) => {
    if (!closing) progress(`idle connection lost: ${error.message}`);
  });
  try {
    const shape = historyShape(options.history, HISTORY_NOW);
    progress(`seeding ${shape.deliveries} deliveries (${shape.tickets} tickets, ${shape.alarms} alarms in ${shape.incidents} incidents over ${shape.accounts} accounts)`);
    const seedStarted = performance.now();
    await seedHistory(postgres.databaseUrl, shape, progress);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const scheduler = new SchedulingService(ingest, {
      defaultRepositoryUrl: 'https://github.com/example/app.git',
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
    });
    const submit = async (message: BenchMessage): Promise<void> => {
      await scheduler.submit({ messageId: message.messageId, body: message.body, receivedAt: message.receivedAt });
    };
    // Connections, prepared plans and JIT warm up on messages that are not measured.
    await drive(makeMessages(WARM_UP, 'warm'), options.concurrency, submit);
    // Client CPU per message: on a shared 2-core box the Node side competes with Postgres for the same cores.
    const cpuBefore = process.cpuUsage();
    const measured = await drive(makeMessages(options.messages, 'live'), options.concurrency, submit);
    const cpuScheduler = process.cpuUsage(cpuBefore);

    await drive(makeMessages(WARM_UP, 'ref-warm'), options.concurrency, (message) => referenceTransaction(pool, message));
    const cpuBeforeReference = process.cpuUsage();
    const reference = await drive(makeMessages(options.messages, 'ref'), options.concurrency, (message) => referenceTransaction(pool, message));
    const cpuReference = process.cpuUsage(cpuBeforeReference);
    const cpuPerMessage = (usage: NodeJS.CpuUsage): number => round((usage.user + usage.system) / 1000 / options.messages, 2);

    const sorted = [...measured.latencies].sort((a, b) => a - b);
    const result = {
      history: options.history,
      messages: options.messages,
      concurrency: options.concurrency,
      throughputPerSec: round(options.messages / measured.seconds, 1),
      p50Ms: round(quantile(sorted, 0.5), 2),
      p99Ms: round(quantile(sorted, 0.99), 2),
      referencePerSec: round(options.messages / reference.seconds, 1),
    };
    const refSorted = [...reference.latencies].sort((a, b) => a - b);
    const sharedBuffers = (await pool.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]?.shared_buffers ?? '?';
    say(`bench:scheduler  history ${options.history} (seeded in ${seedSeconds.toFixed(1)} s)  messages ${options.messages}  concurrency ${options.concurrency}  shared_buffers ${sharedBuffers}`);
    say(`scheduler  ${result.throughputPerSec} msg/s  p50 ${result.p50Ms} ms  p90 ${round(quantile(sorted, 0.9), 2)} ms  p99 ${result.p99Ms} ms  max ${round(sorted.at(-1) ?? 0, 2)} ms`);
    say(`reference  ${result.referencePerSec} tx/s   p50 ${round(quantile(refSorted, 0.5), 2)} ms  p99 ${round(quantile(refSorted, 0.99), 2)} ms`);
    say(`node cpu   scheduler ${cpuPerMessage(cpuScheduler)} ms/msg, reference ${cpuPerMessage(cpuReference)} ms/msg`);
    say(`ratio      ${round((100 * result.throughputPerSec) / result.referencePerSec, 1)}% of the reference (target >= 60%)`);
    say('incident lookup plan (EXPLAIN ANALYZE):');
    for (const line of await explainLookup(pool)) say(`  ${line}`);
    say(JSON.stringify(result));
  } finally {
    closing = true;
    await ingest.close().catch(() => undefined);
    await pool.end();
    await postgres.stop();
  }
}

main(startCli(CLI, parseOptions)).catch((error: unknown) => {
  process.stderr.write(`bench:scheduler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
