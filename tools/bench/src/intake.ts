/**
 * How fast an alarm storm drains through the real intake path, next to the scheduler core on the same messages:
 * SQS (the local endpoint) → conductor → gRPC SubmitMessages → scheduler → Postgres → DeleteMessageBatch.
 *
 *   npm run --silent bench:intake -- --messages N --accounts A [--tickets T] [--core-concurrency C] [--cpu-prof]
 *                                    [--conductor-env NAME=VALUE ...]
 *
 * 1. Starts an embedded Postgres and the real scheduler and conductor from dist/ (as bench:ticket does), with the
 *    spool launcher: the jobs the storm decides are claimed and registered, but no agent process competes for the
 *    two cores.
 * 2. Sends N CloudWatch alarms (EventBridge, ALARM) of A accounts, event times within one hour, plus T Jira tickets,
 *    in SendMessageBatch calls, and measures from the first send until every message is stored (a deliveries row
 *    each) and the queue is empty. A message's age is from its send to its delivery row's commit time.
 * 3. Empties the database and decides the very same messages (ids and bodies) through SchedulingService directly,
 *    with C concurrent submitters (default 8, as bench:scheduler), in this process: the scheduler core's throughput.
 *
 * Human-readable lines first; the LAST line is one JSON object:
 *   {"messages":N,"accounts":A,"intakePerSec":…,"corePerSec":…,"ratio":…,"drainSeconds":…,"p99MessageAgeMs":…}
 * (`messages` counts the alarms; tickets, when asked for, come on top and are counted in the rates.)
 */
import { SendMessageBatchCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient, IngestRepository } from '@agent-conductor/db';
import { startLocalStack, WORKSPACE } from '@agent-conductor/dev-stack';
import { DEFAULT_INCIDENT_POLICY, SchedulingService } from '@agent-conductor/scheduling';
import { cloudWatchAlarmBody, seededRandom } from './bench-messages';
import { CliUsageError, numberOption, startCli, type ParsedCli } from '@agent-conductor/cli-args';
import { resetDatabase, startTestPostgres } from '@agent-conductor/testing';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const CLI = {
  name: 'bench:intake',
  synopsis: 'npm run --silent bench:intake -- --messages N --accounts A [--tickets T] [--core-concurrency C] [--cpu-prof] [--conductor-env NAME=VAL]',
  summary:
    'Drains N CloudWatch alarms of A accounts (plus T tickets) through the real conductor and scheduler, then decides\n' +
    'the same messages through SchedulingService directly.',
  options: {
    messages: { type: 'string', value: 'N', description: 'alarms to send (required, >= 1)' },
    accounts: { type: 'string', value: 'A', description: 'AWS accounts they come from (required, >= 1)' },
    tickets: { type: 'string', value: 'T', description: 'Jira tickets sent with them (default 0)' },
    'core-concurrency': { type: 'string', value: 'C', description: 'concurrent submitters of the core measurement (default 8)' },
    'cpu-prof': { type: 'boolean', description: 'write a V8 CPU profile of the conductor (directory printed at the end)' },
    'conductor-env': { type: 'string', value: 'NAME=VAL', description: "a variable for the conductor's environment, e.g. SQS_MAX_IN_FLIGHT=20", multiple: true },
  },
  notes: 'The last stdout line is one JSON object: {"messages","accounts","intakePerSec","corePerSec","ratio","drainSeconds","p99MessageAgeMs"}.',
} as const;

export interface IntakeBenchOptions {
  messages: number;
  accounts: number;
  tickets: number;
  coreConcurrency: number;
  cpuProf: boolean;
  conductorEnv: Record<string, string>;
}

function required(text: string | undefined, name: string): string {
  if (text === undefined) throw new CliUsageError(`--${name} is required`);
  return text;
}

export function parseOptions({ values }: ParsedCli<typeof CLI.options>): IntakeBenchOptions {
  const conductorEnv: Record<string, string> = {};
  for (const pair of values['conductor-env'] ?? []) {
    const separator = pair.indexOf('=');
    if (separator <= 0) throw new CliUsageError(`--conductor-env takes NAME=VALUE, got ${JSON.stringify(pair)}`);
    conductorEnv[pair.slice(0, separator)] = pair.slice(separator + 1);
  }
  return {
    messages: numberOption(required(values.messages, 'messages'), 'messages', { fallback: 0, whole: true, min: 1 }),
    accounts: numberOption(required(values.accounts, 'accounts'), 'accounts', { fallback: 0, whole: true, min: 1 }),
    tickets: numberOption(values.tickets, 'tickets', { fallback: 0, whole: true, min: 0 }),
    coreConcurrency: numberOption(values['core-concurrency'], 'core-concurrency', { fallback: 8, whole: true, min: 1 }),
    cpuProf: values['cpu-prof'] ?? false,
    conductorEnv,
  };
}

interface StormMessage {
  body: string;
  /** Known once SQS took it. */
  messageId?: string;
  sentAt?: number;
}

const accountOf = (index: number): string => String(100_000_000_000 + index * 7919).padStart(12, '0');

/** N alarms of A accounts within the last hour (an outage storm), and T tickets, interleaved. */
async function makeStorm(options: IntakeBenchOptions): Promise<StormMessage[]> {
  const next = seededRandom(20261203);
  const hourAgo = Date.now() - 3_600_000;
  const storm: StormMessage[] = [];
  for (let index = 0; index < options.messages; index += 1) {
    const account = accountOf(Math.floor(next() * options.accounts));
    const time = new Date(hourAgo + Math.floor(next() * 3_500_000));
    const alarmName = `svc-${Math.floor(next() * 23)}-5xx`;
    storm.push({
      body: cloudWatchAlarmBody({
        id: `storm-${index}`,
        account,
        time,
        region: 'eu-west-1',
        alarmName,
        state: 'ALARM',
        reason: 'Threshold Crossed: 3 datapoints were greater than the threshold (5.0).',
        metric: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', dimensions: { LoadBalancer: 'app/shop/1' }, stat: 'Sum' },
      }),
    });
  }
  if (options.tickets > 0) {
    const template = JSON.parse(await readFile(join(WORKSPACE, 'tools/e2e/fixtures/jira-issue.json'), 'utf8')) as Record<string, unknown>;
    const every = Math.max(1, Math.floor(storm.length / options.tickets));
    for (let index = 0; index < options.tickets; index += 1) {
      const body = JSON.stringify({ ...template, id: String(70_000 + index), key: `STORM-${index + 1}` });
      storm.splice(Math.min(storm.length, (index + 1) * every + index), 0, { body });
    }
  }
  return storm;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** CPU seconds (user + system) a process has used so far, from /proc. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds of the cluster's processes that are up now (pg_stat_activity lists the backends and the background
 * processes): the apps' pools keep their connections, so a difference over the drain is Postgres's share of it.
 */
async function postgresCpuSeconds(prisma: ReturnType<typeof createPrismaClient>): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ pid: number }>>`SELECT pid FROM pg_stat_activity`;
  let total = 0;
  for (const pid of new Set(rows.map((row) => Number(row.pid)))) {
    const seconds = await cpuSeconds(pid);
    if (Number.isFinite(seconds)) total += seconds;
  }
  return total;
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

/** Sends the storm in SendMessageBatch calls, a few at once (the bench's sending must not be what limits the drain). */
async function sendStorm(send: (entries: Array<{ Id: string; MessageBody: string }>) => Promise<Array<{ Id?: string; MessageId?: string }>>, storm: StormMessage[]): Promise<void> {
  const batches: StormMessage[][] = [];
  for (let first = 0; first < storm.length; first += 10) batches.push(storm.slice(first, first + 10));
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const batch = batches[next];
        next += 1;
        if (!batch) return;
        const sentAt = Date.now();
        const accepted = await send(batch.map((message, index) => ({ Id: String(index), MessageBody: message.body })));
        for (const entry of accepted) {
          const message = batch[Number(entry.Id)];
          if (!message || !entry.MessageId) continue;
          message.messageId = entry.MessageId;
          message.sentAt = sentAt;
        }
      }
    }),
  );
  const missing = storm.filter((message) => message.messageId === undefined).length;
  if (missing > 0) throw new Error(`SQS refused ${missing} message(s)`);
}

async function main(options: IntakeBenchOptions): Promise<void> {
  const storm = await makeStorm(options);
  const total = storm.length;
  const base = await mkdtemp(join(tmpdir(), 'bench-intake-'));
  const profileDir = join(base, 'cpu-profile');
  const postgres = await startTestPostgres();
  const prisma = createPrismaClient(postgres.databaseUrl);
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  try {
    stack = await startLocalStack(
      postgres.databaseUrl,
      {
        WORKER_LAUNCHER: 'spool',
        WORKER_SPOOL_DIR: join(base, 'spool'),
        // Nothing picks the spooled launches up; on SIGTERM the conductor exits at once instead of waiting for them.
        SHUTDOWN_MODE: 'handoff',
        ...options.conductorEnv,
      },
      { conductorNodeArgs: options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] },
    );
    const { sqs, queueUrl } = stack;
    const queueDepth = async (): Promise<number> => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return Number(out.Attributes?.['ApproximateNumberOfMessages'] ?? 0) + Number(out.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0);
    };

    progress(`sending ${options.messages} alarms of ${options.accounts} account(s)${options.tickets > 0 ? ` and ${options.tickets} tickets` : ''}`);
    const cpuBefore = {
      conductor: await cpuSeconds(stack.conductor.child.pid),
      scheduler: await cpuSeconds(stack.scheduler.child.pid),
      postgres: await postgresCpuSeconds(prisma),
      bench: process.cpuUsage(),
    };
    const started = performance.now();
    const startedAt = Date.now();
    const sending = sendStorm(async (entries) => {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      return out.Successful ?? [];
    }, storm);
    let sendSeconds = 0;
    void sending.then(() => {
      sendSeconds = (performance.now() - started) / 1000;
    });
    let stored = 0;
    let lastReport = 0;
    for (;;) {
      stored = await prisma.delivery.count();
      if (stored >= total && (await queueDepth()) === 0) break;
      if (stack.conductor.child.exitCode !== null) throw new Error(`the conductor exited; see ${stack.conductor.logFile}`);
      if (stack.scheduler.child.exitCode !== null) throw new Error(`the scheduler exited; see ${stack.scheduler.logFile}`);
      if (Date.now() - startedAt > Math.max(120_000, total * 100)) throw new Error(`only ${stored} of ${total} messages stored in time`);
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        progress(`  ${stored} of ${total} stored after ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const drainSeconds = (performance.now() - started) / 1000;
    await sending;
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const cpu = {
      conductor: (await cpuSeconds(stack.conductor.child.pid)) - cpuBefore.conductor,
      scheduler: (await cpuSeconds(stack.scheduler.child.pid)) - cpuBefore.scheduler,
      postgres: (await postgresCpuSeconds(prisma)) - cpuBefore.postgres,
      bench: (benchCpu.user + benchCpu.system) / 1e6,
    };

    const sentAt = new Map(storm.map((message) => [message.messageId ?? '', message.sentAt ?? startedAt]));
    const rows = await prisma.delivery.findMany({ select: { sqsMessageId: true, createdAt: true, classification: true } });
    const ages = rows.map((row) => row.createdAt.getTime() - (sentAt.get(row.sqsMessageId) ?? startedAt)).sort((a, b) => a - b);
    const byClass = new Map<string, number>();
    for (const row of rows) byClass.set(row.classification, (byClass.get(row.classification) ?? 0) + 1);
    const incidents = await prisma.incident.count();
    const jobs = await prisma.job.count();

    await stack.stop();
    stack = undefined;

    // The scheduler core on the same messages: an empty database, SchedulingService in this process.
    await resetDatabase(prisma);
    const ingest = new IngestRepository({ databaseUrl: postgres.databaseUrl });
    let coreSeconds: number;
    const coreCpuBefore = { postgres: await postgresCpuSeconds(prisma), bench: process.cpuUsage() };
    let coreCpu: { bench: number; postgres: number };
    try {
      const scheduling = new SchedulingService(ingest, { defaultRepositoryUrl: 'https://github.com/example/shop.git', incidentPolicy: DEFAULT_INCIDENT_POLICY });
      let next = 0;
      const coreStarted = performance.now();
      await Promise.all(
        Array.from({ length: options.coreConcurrency }, async () => {
          for (;;) {
            const message = storm[next];
            next += 1;
            if (!message) return;
            await scheduling.submit({ messageId: message.messageId ?? '', body: message.body, receivedAt: new Date() });
          }
        }),
      );
      coreSeconds = (performance.now() - coreStarted) / 1000;
      const bench = process.cpuUsage(coreCpuBefore.bench);
      coreCpu = { bench: (bench.user + bench.system) / 1e6, postgres: (await postgresCpuSeconds(prisma)) - coreCpuBefore.postgres };
    } finally {
      await ingest.close();
    }
    const coreIncidents = await prisma.incident.count();

    const intakePerSec = total / drainSeconds;
    const corePerSec = total / coreSeconds;
    say(`bench:intake  ${options.messages} alarms of ${options.accounts} account(s)${options.tickets > 0 ? ` + ${options.tickets} tickets` : ''}, ${total} messages`);
    say(`intake  drained in ${drainSeconds.toFixed(2)} s (sending took ${sendSeconds.toFixed(2)} s): ${intakePerSec.toFixed(1)} msg/s`);
    say(`        stored: ${[...byClass].map(([name, count]) => `${count} ${name}`).join(', ')}; ${incidents} incident(s), ${jobs} job(s)`);
    say(`        message age (send → commit): p50 ${quantile(ages, 0.5)} ms, p90 ${quantile(ages, 0.9)} ms, p99 ${quantile(ages, 0.99)} ms, max ${ages.at(-1)} ms`);
    say(
      `        CPU during the drain: conductor ${cpu.conductor.toFixed(2)} s, scheduler ${cpu.scheduler.toFixed(2)} s, postgres ${cpu.postgres.toFixed(2)} s, bench ${cpu.bench.toFixed(2)} s ` +
        `(${(((cpu.conductor + cpu.scheduler + cpu.postgres + cpu.bench) / drainSeconds) * 50).toFixed(0)}% of 2 cores)`,
    );
    say(`core    SchedulingService, ${options.coreConcurrency} submitters: ${coreSeconds.toFixed(2)} s, ${corePerSec.toFixed(1)} msg/s; ${coreIncidents} incident(s)`);
    const perMessage = (seconds: number): string => `${((seconds * 1000) / total).toFixed(2)} ms`;
    say(
      `CPU per message: intake ${perMessage(cpu.conductor + cpu.scheduler + cpu.postgres + cpu.bench)} (conductor ${perMessage(cpu.conductor)}, scheduler ${perMessage(cpu.scheduler)}, ` +
        `postgres ${perMessage(cpu.postgres)}, SQS endpoint and bench ${perMessage(cpu.bench)}); core ${perMessage(coreCpu.bench + coreCpu.postgres)} (SchedulingService ${perMessage(coreCpu.bench)}, postgres ${perMessage(coreCpu.postgres)})`,
    );
    say(`ratio   ${((100 * intakePerSec) / corePerSec).toFixed(1)}% of the core (target >= 50%)`);
    if (options.cpuProf) say(`conductor CPU profile: ${profileDir}`);
    say(
      JSON.stringify({
        messages: options.messages,
        accounts: options.accounts,
        ...(options.tickets > 0 ? { tickets: options.tickets } : {}),
        intakePerSec: round(intakePerSec, 1),
        corePerSec: round(corePerSec, 1),
        ratio: round(intakePerSec / corePerSec, 3),
        drainSeconds: round(drainSeconds, 2),
        p99MessageAgeMs: quantile(ages, 0.99),
      }),
    );
  } finally {
    await stack?.stop();
    await prisma.$disconnect();
    await postgres.stop();
    if (!options.cpuProf) await rm(base, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(startCli(CLI, parseOptions)).catch((error: unknown) => {
    process.stderr.write(`bench:intake: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
