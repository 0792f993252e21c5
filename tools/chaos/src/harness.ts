import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ensureSampleRemote, localConductorEnv, localSchedulerEnv, WORKER_MAIN, type LocalAppWiring } from '@agent-conductor/dev-stack';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { freePort } from '@agent-conductor/testing';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { findRunDescendants, findWorkers, killPids } from './procs';
import { countDuplicateJobs, expectedJobs } from './reference';
import { Rng } from './rng';
import { ACCOUNTS, generateScenario, type ScenarioMessage } from './scenario';
import { RestartablePostgres, SupervisedApp, type Log } from './stack';

export interface ChaosOptions {
  messages: number;
  kills: number;
  seed: number;
  /** Kills and the Postgres restart happen at random moments within this window from the first send. */
  flowWindowMs: number;
  /** Upper bound on waiting for everything to settle once sending is done. */
  settleTimeoutMs: number;
  restartPostgres: boolean;
  /** Keep the run directory (logs, data) for a post-mortem. */
  keep: boolean;
}

export interface ChaosResult {
  messages: number;
  kills: number;
  expectedJobs: number;
  jobs: number;
  duplicateJobs: number;
  lostMessages: number;
  orphanedWorkers: number;
  unfinishedJobs: number;
  /** The most jobs ever active at once beyond either admission cap (global or a claim's), sampled throughout the run. */
  capViolations: number;
}

const ACTIVE_JOB_STATUSES = ['pending', 'launching', 'running'];
const FINAL_JOB_STATUSES = ['succeeded', 'failed'];
const MAX_RECEIVE_COUNT = 5;
/** A serial alarm waits this long for its predecessor to be persisted before it is sent anyway. */
const PREDECESSOR_WAIT_MS = 180_000;

/*
 * Admission caps of the run. Tickets claim the repository, incidents a claim of their own (routing file), so both the
 * per-claim limit and the global cap bind: 3 + 3 claimable, 4 allowed.
 */
const MAX_ACTIVE_JOBS = 4;
const REPO_MAX_ACTIVE_JOBS = 3;
const INCIDENT_CLAIM = 'chaos/incidents';
const CAP_SAMPLE_INTERVAL_MS = 250;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function defaultFlowWindowMs(messages: number): number {
  return 8000 + messages * 150;
}

export function defaultSettleTimeoutMs(messages: number): number {
  return 180_000 + messages * 2000;
}

/** Everything that must go when the run ends, however it ends; safe to call more than once. */
export class Cleanup {
  private readonly sync: Array<() => void> = [];
  private readonly async: Array<() => Promise<void>> = [];

  onSync(step: () => void): void {
    this.sync.push(step);
  }

  onAsync(step: () => Promise<void>): void {
    this.async.push(step);
  }

  /** Only what can be done synchronously: for signal and exit handlers. */
  runSync(): void {
    for (const step of this.sync.splice(0).reverse()) {
      try {
        step();
      } catch {
        // Best effort: the remaining steps still run.
      }
    }
  }

  async run(log: Log): Promise<void> {
    for (const step of this.async.splice(0).reverse()) {
      await step().catch((error: unknown) => log(`cleanup step failed: ${String(error)}`));
    }
    this.runSync();
  }
}

/** Postgres being away (refused, restarting, shutting down) as opposed to a wrong query. */
function isConnectionError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const sqlState = /^[0-9A-Z]{5}$/.test(code) && !/^E[A-Z]+$/.test(code);
  return !sqlState || code.startsWith('08') || code.startsWith('57');
}

class Database {
  readonly pool: Pool;

  constructor(url: string) {
    this.pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 3000, idleTimeoutMillis: 1000 });
    // Idle clients error out when Postgres restarts; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /** Retries through a Postgres outage until `timeoutMs`. */
  async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = [], timeoutMs = 60_000): Promise<R[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return (await this.pool.query<R>(sql, params)).rows;
      } catch (error) {
        if (!isConnectionError(error) || Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  }
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = attrs.Attributes ?? {};
  return Number(a['ApproximateNumberOfMessages'] ?? 0) + Number(a['ApproximateNumberOfMessagesNotVisible'] ?? 0) + Number(a['ApproximateNumberOfMessagesDelayed'] ?? 0);
}

/** Message ids in the DLQ. Nothing else consumes it, so taking them out is harmless. */
async function drainDeadLetters(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600 }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return ids;
    for (const message of messages) if (message.MessageId) ids.push(message.MessageId);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, n) => ({ Id: String(n), ReceiptHandle: message.ReceiptHandle ?? '' })),
      }),
    );
  }
}

export async function runChaos(options: ChaosOptions, log: Log, cleanup: Cleanup): Promise<ChaosResult> {
  const rng = new Rng(options.seed);
  const scenario = generateScenario(options.messages, options.seed);
  const expected = expectedJobs(scenario.messages.map((message) => message.fact));
  const tickets = new Set(scenario.messages.flatMap((m) => (m.fact.kind === 'ticket' ? [m.fact.key] : [])));
  log(
    `scenario (seed ${options.seed}): ${scenario.messages.length} messages — ` +
      `${scenario.messages.filter((m) => m.fact.kind === 'ticket').length} ticket deliveries over ${tickets.size} keys, ` +
      `${scenario.messages.filter((m) => m.fact.kind === 'alarm').length} alarms, ` +
      `${scenario.messages.filter((m) => m.fact.kind === 'garbage').length} garbage; expecting ${expected.total} jobs ` +
      `(${tickets.size} tickets + ${expected.total - tickets.size} incidents)`,
  );

  const base = await mkdtemp(join(tmpdir(), 'agent-conductor-chaos-'));
  // Postgres runs as the `postgres` user when the harness is root: it must be able to reach its data dir.
  chmodSync(base, 0o755);
  cleanup.onSync(() => {
    if (options.keep) log(`kept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  });
  const dirs = { pg: join(base, 'postgres'), run: join(base, 'run'), results: join(base, 'results'), logs: join(base, 'logs'), work: join(base, 'workers') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  log(`run directory ${base} (app logs in ${dirs.logs}, worker logs in ${join(dirs.run, 'logs')})`);
  const workerMain = WORKER_MAIN;
  // Workers outlive a killed conductor; these find them by their WORK_DIR under this run's root.
  cleanup.onSync(() => killPids(findRunDescendants(dirs.work)));

  const remote = join(base, 'remote', 'sample-app.git');
  await ensureSampleRemote(remote);
  const routingFile = join(base, 'routing.json');
  writeFileSync(
    routingFile,
    JSON.stringify({ default: { repository: remote }, incidents: ACCOUNTS.map((account) => ({ account, repository: remote, claim: INCIDENT_CLAIM })) }),
  );

  const postgres = new RestartablePostgres(dirs.pg, await freePort());
  cleanup.onAsync(() => postgres.stop());
  const databaseUrl = await postgres.start();
  log(`embedded Postgres up (${dirs.pg}), migrations applied`);
  const db = new Database(databaseUrl);
  cleanup.onAsync(() => db.pool.end());

  const sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
  const { endpoint } = await sqsServer.start();
  cleanup.onAsync(() => sqsServer.stop());
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  cleanup.onSync(() => sqs.destroy());
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'chaos-intake-dlq' }))).QueueUrl ?? '';
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'];
  const queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'chaos-intake',
          Attributes: { VisibilityTimeout: '30', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }) },
        }),
      )
    ).QueueUrl ?? '';
  log(`SQS endpoint ${endpoint} (in the harness, survives the kills); dead letters after ${MAX_RECEIVE_COUNT} receives`);

  const wiring: LocalAppWiring = {
    databaseUrl,
    schedulerAddr: `127.0.0.1:${await freePort()}`,
    schedulerHttpPort: await freePort(),
    repository: remote,
    queueUrl,
    sqsEndpoint: endpoint,
    conductorGrpc: `127.0.0.1:${await freePort()}`,
    conductorHttpPort: await freePort(),
    runDir: dirs.run,
    resultsDir: dirs.results,
  };
  const httpPort = wiring.conductorHttpPort;
  const scheduler = new SupervisedApp(
    'scheduler',
    { ...localSchedulerEnv(wiring), DB_CONNECT_TIMEOUT_MS: '60000', ROUTING_FILE: routingFile },
    join(dirs.logs, 'scheduler.log'),
    log,
  );
  const conductor = new SupervisedApp(
    'conductor',
    {
      ...localConductorEnv(wiring),
      DB_CONNECT_TIMEOUT_MS: '60000',
      SCHEDULER_CALL_TIMEOUT_MS: '5000',
      WORKER_WORK_ROOT: dirs.work,
      // Short timeouts so that recovery happens within a CI-sized run.
      PENDING_SWEEP_INTERVAL_MS: '500',
      WORKER_HEARTBEAT_INTERVAL_MS: '1000',
      HEARTBEAT_TIMEOUT_MS: '5000',
      HEARTBEAT_GRACE_MS: '5000',
      // Generous: dozens of workers boot at once on two shared cores.
      HANDSHAKE_DEADLINE_MS: '45000',
      ORPHAN_CHECK_INTERVAL_MS: '1000',
      RETRY_BASE_MS: '500',
      RETRY_MAX_MS: '5000',
      MAX_JOB_ATTEMPTS: '5',
      // A killed conductor's in-flight messages come back after this, not after the default minute.
      SQS_VISIBILITY_TIMEOUT_SECONDS: '10',
      // Passed on to workers: keep retrying a restarting conductor, give up well within the settle timeout.
      CONDUCTOR_RETRY_WINDOW_MS: '30000',
      CONDUCTOR_LOST_EXIT_MS: '30000',
      MAX_ACTIVE_JOBS: String(MAX_ACTIVE_JOBS),
      REPO_MAX_ACTIVE_JOBS: String(REPO_MAX_ACTIVE_JOBS),
    },
    join(dirs.logs, 'conductor.log'),
    log,
  );
  cleanup.onSync(() => {
    conductor.killNow();
    scheduler.killNow();
  });
  cleanup.onAsync(async () => {
    await conductor.shutdown();
    await scheduler.shutdown();
  });
  scheduler.start();
  conductor.start();
  const bootDeadline = Date.now() + 90_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/health`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > bootDeadline) throw new Error(`the conductor did not become healthy in 90 s; see ${dirs.logs}`);
    await sleep(250);
  }
  log(`scheduler ${wiring.schedulerAddr} and conductor ${wiring.conductorGrpc} (health :${httpPort}) up`);

  // --- Admission caps, sampled from here to the end of the settle. ---
  let capViolations = 0;
  let capSamples = 0;
  let sampling = true;
  const sampleCaps = (async () => {
    while (sampling) {
      try {
        const rows = (
          await db.pool.query<{ claim: string; active: number; claim_limit: number | null }>(
            `SELECT COALESCE(claim_key, repository) AS claim, count(*)::int AS active, min(claim_limit) AS claim_limit
               FROM jobs WHERE status IN ('launching', 'running') GROUP BY 1`,
          )
        ).rows;
        capViolations = Math.max(capViolations, capExcess(rows));
        capSamples++;
      } catch {
        // Postgres restarting: no sample this time.
      }
      await sleep(CAP_SAMPLE_INTERVAL_MS);
    }
  })();

  // --- Traffic, kills and the Postgres restart, all at once. ---
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const sentIds = new Map<number, string>();
  let persisted = new Set<string>();
  let sendingDone = false;

  const pollPersisted = (async () => {
    while (!sendingDone) {
      try {
        const rows = (await db.pool.query<{ sqs_message_id: string }>('SELECT sqs_message_id FROM deliveries')).rows;
        persisted = new Set(rows.map((row) => row.sqs_message_id));
      } catch {
        // Postgres restarting: keep the last view.
      }
      await sleep(300);
    }
  })();

  const send = async (message: ScenarioMessage): Promise<void> => {
    for (;;) {
      try {
        const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.body }));
        if (!out.MessageId) throw new Error('SendMessage returned no MessageId');
        sentIds.set(message.index, out.MessageId);
        return;
      } catch (error) {
        log(`send of message ${message.index} failed (${String(error)}); retrying`);
        await sleep(200);
      }
    }
  };

  const sendWindowMs = options.flowWindowMs * 0.6;
  const free = rng.shuffle(scenario.messages.filter((m) => m.after === undefined));
  const serial = scenario.messages.filter((m) => m.after !== undefined);
  const pace = sendWindowMs / Math.max(1, scenario.messages.length);
  let lateSerial = 0;
  const sendFree = (async () => {
    for (const message of free) {
      await send(message);
      await sleep(rng.next() * 2 * pace);
    }
  })();
  const sendSerial = Promise.all(
    serial.map(async (message) => {
      const after = message.after as number;
      const deadline = Date.now() + PREDECESSOR_WAIT_MS;
      for (;;) {
        const predecessor = sentIds.get(after);
        if (predecessor !== undefined && persisted.has(predecessor)) break;
        if (Date.now() > deadline) {
          lateSerial++;
          log(`message ${message.index} (${message.label}): predecessor ${after} not persisted after ${PREDECESSOR_WAIT_MS / 1000} s; sending anyway`);
          break;
        }
        await sleep(200);
      }
      await send(message);
    }),
  );

  const killPlan = Array.from({ length: options.kills }, () => 1000 + rng.next() * (options.flowWindowMs - 1000)).sort((a, b) => a - b);
  // Both apps get killed when there is more than one kill; the rest at random.
  const targets = killPlan.map((_, n) => (n === 0 ? 'conductor' : n === 1 ? 'scheduler' : rng.next() < 0.5 ? 'conductor' : 'scheduler'));
  const shuffledTargets = rng.shuffle(targets);
  const chaos = (async () => {
    for (const [n, at] of killPlan.entries()) {
      await sleep(Math.max(0, started + at - Date.now()));
      const app = shuffledTargets[n] === 'conductor' ? conductor : scheduler;
      const downMs = rng.int(200, 1500);
      const pid = await app.killAndRestart(downMs);
      log(`${elapsed()} kill -9 ${app.name} (pid ${pid ?? 'none: it was restarting'}), restarted after ${downMs} ms  [${n + 1}/${options.kills}]`);
    }
  })();
  const postgresRestart = (async () => {
    if (!options.restartPostgres) return;
    const at = options.flowWindowMs * (0.3 + rng.next() * 0.4);
    const downMs = rng.int(1500, 4000);
    await sleep(Math.max(0, started + at - Date.now()));
    log(`${elapsed()} stopping Postgres for ${downMs} ms`);
    await postgres.stop();
    await sleep(downMs);
    await postgres.start();
    log(`${elapsed()} Postgres is back`);
  })();

  await Promise.all([sendFree, sendSerial]);
  log(`${elapsed()} all ${sentIds.size} messages sent`);
  await Promise.all([chaos, postgresRestart]);
  sendingDone = true;
  await pollPersisted;

  // --- Settle. ---
  const settleDeadline = Date.now() + options.settleTimeoutMs;
  let settled = false;
  let lastReport = 0;
  for (;;) {
    const [depth, active, workers] = await Promise.all([
      queueDepth(sqs, queueUrl),
      db.query<{ n: string }>('SELECT count(*) AS n FROM jobs WHERE status::text = ANY($1::text[])', [ACTIVE_JOB_STATUSES]).then((rows) => Number(rows[0]?.n ?? 0)),
      Promise.resolve(findWorkers(dirs.work, workerMain).length),
    ]);
    if (depth === 0 && active === 0 && workers === 0) {
      settled = true;
      break;
    }
    if (Date.now() - lastReport > 10_000) {
      log(`${elapsed()} settling: ${depth} message(s) on the intake queue, ${active} active job(s), ${workers} worker process(es)`);
      lastReport = Date.now();
    }
    if (Date.now() > settleDeadline) break;
    await sleep(1000);
  }
  log(settled ? `${elapsed()} settled` : `${elapsed()} did NOT settle within ${options.settleTimeoutMs / 1000} s; measuring as is`);
  sampling = false;
  await sampleCaps;
  log(`admission caps (${MAX_ACTIVE_JOBS} active, ${REPO_MAX_ACTIVE_JOBS} per claim): ${capSamples} samples, most jobs beyond a cap ${capViolations}`);

  // --- Measure. ---
  const deadLetters = new Set(await drainDeadLetters(sqs, dlqUrl));
  const deliveries = await db.query<{ sqs_message_id: string; classification: string }>('SELECT sqs_message_id, classification FROM deliveries');
  const stored = new Set(deliveries.map((row) => row.sqs_message_id));
  const lost = scenario.messages.filter((m) => {
    const id = sentIds.get(m.index);
    return id === undefined || (!stored.has(id) && !deadLetters.has(id));
  });
  const jobs = await db.query<{ id: string; kind: string; key: string; status: string; attempts: number; error: string | null }>(
    'SELECT id, kind::text AS kind, key, status::text AS status, attempts, error FROM jobs',
  );
  const workerRows = await db.query<{ id: string; job_id: string; state: string }>('SELECT id, job_id, state::text AS state FROM workers');
  const jobStatusById = new Map(jobs.map((job) => [job.id, job.status]));
  const jobOfWorker = new Map(workerRows.map((worker) => [worker.id, worker.job_id]));
  const alive = findWorkers(dirs.work, workerMain);
  const orphans = alive.filter((worker) => {
    const jobId = worker.workerId === undefined ? undefined : jobOfWorker.get(worker.workerId);
    const status = jobId === undefined ? undefined : jobStatusById.get(jobId);
    return status === undefined || !ACTIVE_JOB_STATUSES.includes(status);
  });
  const unfinished = jobs.filter((job) => !FINAL_JOB_STATUSES.includes(job.status));

  const byStatus = new Map<string, number>();
  for (const job of jobs) byStatus.set(job.status, (byStatus.get(job.status) ?? 0) + 1);
  const workersPerJob = new Map<string, number>();
  for (const worker of workerRows) workersPerJob.set(worker.job_id, (workersPerJob.get(worker.job_id) ?? 0) + 1);
  const duplicateJobs = countDuplicateJobs(expected, jobs);

  log(`kills: conductor ${conductor.kills}, scheduler ${scheduler.kills}; crashes the harness did not cause: conductor ${conductor.crashes}, scheduler ${scheduler.crashes}`);
  log(
    `deliveries stored: ${deliveries.length} (${deliveries.filter((d) => d.classification === 'rejected').length} rejected; ` +
      `garbage sent: ${scenario.messages.filter((m) => m.fact.kind === 'garbage').length}); in the DLQ: ${deadLetters.size}; lost: ${lost.length}`,
  );
  for (const message of lost.slice(0, 20)) log(`  lost: message ${message.index} ${sentIds.get(message.index) ?? '(never sent)'} — ${message.label}`);
  log(`jobs: ${jobs.length} of ${expected.total} expected; by status ${JSON.stringify(Object.fromEntries(byStatus))}; duplicates ${duplicateJobs}`);
  log(
    `workers: ${workerRows.length} rows for ${workersPerJob.size} jobs; jobs with more than one attempt: ` +
      `${[...workersPerJob.values()].filter((count) => count > 1).length}; processes still alive: ${alive.length}, orphaned: ${orphans.length}`,
  );
  if (lateSerial > 0) log(`${lateSerial} serial alarm(s) were sent before their predecessor was persisted: the expectation assumed that order`);
  for (const job of unfinished.slice(0, 20)) log(`  unfinished: ${job.kind} ${job.key} ${job.status} (attempts ${job.attempts}) ${job.error ?? ''}`);
  for (const job of jobs.filter((j) => j.status === 'failed').slice(0, 10)) log(`  failed: ${job.kind} ${job.key}: ${job.error ?? ''}`);
  const missing = [...expected.byKey].filter(([key, count]) => jobs.filter((job) => `${job.kind}:${job.key}` === key).length < count);
  for (const [key, count] of missing.slice(0, 20)) log(`  missing: ${key} (expected ${count})`);

  return {
    messages: options.messages,
    kills: options.kills,
    expectedJobs: expected.total,
    jobs: jobs.length,
    duplicateJobs,
    lostMessages: lost.length,
    orphanedWorkers: orphans.length,
    unfinishedJobs: unfinished.length,
    capViolations,
  };
}

/** How far one sample of active jobs per claim goes beyond the caps: the larger excess of the global and any claim cap. */
export function capExcess(rows: ReadonlyArray<{ active: number; claim_limit: number | null }>, caps = { max: MAX_ACTIVE_JOBS, perClaim: REPO_MAX_ACTIVE_JOBS }): number {
  const total = rows.reduce((sum, row) => sum + row.active, 0);
  const perClaim = rows.map((row) => row.active - (row.claim_limit ?? caps.perClaim));
  return Math.max(0, total - caps.max, ...perClaim);
}
