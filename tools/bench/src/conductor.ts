/**
 * How the conductor holds up under many live workers: N simulated workers, each
 * a lightweight gRPC client with its own connection in this one process,
 * against the real conductor process (from dist/, with the scheduler, the SQS
 * endpoint and an embedded Postgres, as bench:ticket runs them).
 *
 *   npm run --silent bench:conductor -- [--workers N] [--seconds S] [--cpu-prof] [--conductor-env NAME=VALUE ...]   (--help)
 *
 * Jobs come in the real way (N tickets on the intake queue, through the
 * scheduler), and the conductor registers each worker as it always does (a row
 * with a launch token); WORKER_LAUNCHER=spool hands the launch spec to this
 * process instead of starting a process. Each simulated worker then does what
 * a real one does: Handshake with the launch token, DownloadTaskFiles,
 * Heartbeat at the interval the handshake gave, one small UploadResults,
 * Shutdown. Heartbeats run until every worker is connected and then for S more
 * seconds (default: three intervals), so all N are live at once.
 *
 * Prints p50 and p99 per RPC kind and the conductor's peak RSS and CPU; the
 * last line is JSON. Latencies are measured here, so they include this
 * process's own event-loop delay (reported too). `--cpu-prof` writes a V8 CPU
 * profile of the conductor into the printed directory; `--conductor-env` adds a
 * variable to the conductor's environment, for experiments (e.g. UV_THREADPOOL_SIZE).
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { CliUsageError, numberOption, startCli, type CliOptions, type CliSpec, type ParsedCli } from '@agent-conductor/cli-args';
import { packDirectory, readFileAsChunks, workerV1 } from '@agent-conductor/contracts';
import { createPrismaClient } from '@agent-conductor/db';
import { startLocalStack, WORKSPACE } from '@agent-conductor/dev-stack';
import { startTestPostgres, WorkerApiClient } from '@agent-conductor/testing';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

type RpcKind = 'handshake' | 'download' | 'heartbeat' | 'upload' | 'shutdown';
const RPC_KINDS: RpcKind[] = ['handshake', 'download', 'heartbeat', 'upload', 'shutdown'];

/** What WORKER_LAUNCHER=spool writes (apps/conductor/src/launch/spool.launcher.ts). */
interface SpooledLaunch {
  workerId: string;
  jobId: string;
  attempt: number;
  env: Record<string, string>;
}

interface Options {
  workers: number;
  seconds: number | undefined;
  cpuProf: boolean;
  conductorEnv: Record<string, string>;
}

const CLI = {
  name: 'bench:conductor',
  synopsis: 'npm run --silent bench:conductor -- [--workers N] [--seconds S] [--cpu-prof] [--conductor-env NAME=VALUE ...]',
  summary: 'N simulated workers against the real conductor process: RPC latency (p50, p99), peak RSS and CPU.',
  options: {
    workers: { type: 'string', value: 'N', description: 'simulated workers, all live at once (default 100)' },
    seconds: { type: 'string', value: 'S', description: 'heartbeats go on this long once all are connected (default: three intervals)' },
    'cpu-prof': { type: 'boolean', description: "write a V8 CPU profile of the conductor into the printed directory" },
    'conductor-env': { type: 'string', value: 'NAME=VALUE', multiple: true, description: "add a variable to the conductor's environment" },
  },
  notes: 'Progress goes to stderr; the last stdout line is one JSON object.',
} satisfies CliSpec<CliOptions>;

function parseOptions({ values }: ParsedCli<typeof CLI.options>): Options {
  const seconds = values.seconds === undefined ? undefined : numberOption(values.seconds, 'seconds', { fallback: 0, min: 0 });
  const conductorEnv: Record<string, string> = {};
  for (const assignment of values['conductor-env'] ?? []) {
    const [name, ...value] = assignment.split('=');
    if (!name || value.length === 0) throw new CliUsageError(`--conductor-env takes NAME=VALUE, got ${JSON.stringify(assignment)}`);
    conductorEnv[name] = value.join('=');
  }
  return {
    workers: numberOption(values.workers, 'workers', { fallback: 100, whole: true, min: 1 }),
    seconds,
    cpuProf: values['cpu-prof'] ?? false,
    conductorEnv,
  };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (position - low);
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

/** Latency samples and failures per RPC kind. */
class Recorder {
  readonly samples = new Map<RpcKind, number[]>(RPC_KINDS.map((kind) => [kind, []]));
  readonly failures = new Map<RpcKind, string[]>(RPC_KINDS.map((kind) => [kind, []]));
  /** Heartbeats sent while every worker was connected and none was finishing: the steady state, without the launch burst. */
  readonly steadyHeartbeats: number[] = [];
  steady = false;

  async time<T>(kind: RpcKind, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const steady = this.steady;
    try {
      const result = await call();
      const elapsed = performance.now() - started;
      this.samples.get(kind)?.push(elapsed);
      if (steady && kind === 'heartbeat') this.steadyHeartbeats.push(elapsed);
      return result;
    } catch (error) {
      this.failures.get(kind)?.push(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  p99(kind: RpcKind): number {
    return round1(quantile([...(this.samples.get(kind) ?? [])].sort((a, b) => a - b), 0.99));
  }
}

/**
 * One worker's line to the conductor: its own channel, and its own connection
 * (a local subchannel pool; grpc-js would otherwise share one connection among
 * every client of the same address, which no fleet of real workers does).
 */
function simulatedWorkerClient(address: string): WorkerApiClient {
  return new WorkerApiClient(address, { options: { 'grpc.use_local_subchannel_pool': 1 }, deadlineMs: 60_000 });
}

/** A small results archive, as a worker uploads after publishing: packed once, sent by every worker. */
interface ResultsArchive {
  chunks: workerV1.TransferChunk[];
  bytes: number;
  sha256: string;
}

async function smallResultsArchive(base: string): Promise<ResultsArchive> {
  const dir = join(base, 'results-src');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'REPORT.md'), '# Bench\n\nNothing changed; this archive only exercises the upload path.\n');
  await writeFile(join(dir, 'transcript.jsonl'), `${JSON.stringify({ role: 'agent', text: 'x'.repeat(2000) })}\n`);
  const path = join(base, 'results.tar.gz');
  const { bytes, sha256 } = await packDirectory(dir, path);
  const chunks: workerV1.TransferChunk[] = [];
  for await (const chunk of readFileAsChunks(path)) chunks.push(chunk);
  return { chunks, bytes, sha256 };
}

interface Fleet {
  recorder: Recorder;
  connected: number;
  finished: number;
  failed: number;
  heartbeatIntervalMs: number;
  /** Resolves when the bench wants the workers to wrap up. */
  release: Promise<void>;
}

/** Handshake → download → heartbeats until released → upload → shutdown, then its spool file goes, as a process would exit. */
async function runWorker(
  launch: SpooledLaunch,
  spoolFile: string,
  archive: ResultsArchive,
  fleet: Fleet,
): Promise<void> {
  const address = launch.env['CONDUCTOR_GRPC_SERVER_ADDR'] ?? '';
  const client = simulatedWorkerClient(address);
  const { recorder } = fleet;
  let beats: NodeJS.Timeout | undefined;
  try {
    const handshake = await recorder.time('handshake', () =>
      client.handshake({
        credentials: { workerId: launch.workerId, token: launch.env['WORKER_TOKEN'] ?? '' },
        workerVersion: 'bench',
        hostname: 'bench',
      }),
    );
    const session = { workerId: launch.workerId, token: handshake.sessionToken };
    fleet.connected += 1;
    fleet.heartbeatIntervalMs = handshake.heartbeatIntervalMs;
    let inFlight = false;
    // As the real worker: a fixed interval from the handshake on, never two beats at once.
    beats = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      void recorder
        .time('heartbeat', () => client.heartbeat({ credentials: session, phase: workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING }))
        .catch(() => undefined)
        .finally(() => {
          inFlight = false;
        });
    }, handshake.heartbeatIntervalMs);
    const chunks = await recorder.time('download', () => client.download({ credentials: session }));
    const task = Buffer.concat(chunks.map((chunk) => chunk.data));
    const sha256 = createHash('sha256').update(task).digest('hex');
    if (sha256 !== handshake.taskArchiveSha256) throw new Error(`task archive of worker ${launch.workerId} does not match its handshake`);

    await fleet.release;
    // Real workers finish at different times: spread the uploads over one interval.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * handshake.heartbeatIntervalMs));
    await recorder.time('upload', () =>
      client.upload([{ header: { credentials: session, totalSize: archive.bytes, sha256: archive.sha256 } }, ...archive.chunks.map((chunk) => ({ chunk }))]),
    );
    clearInterval(beats);
    beats = undefined;
    await recorder.time('shutdown', () =>
      client.shutdown({
        credentials: session,
        outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED,
        error: '',
        result: { branch: `bench/${launch.jobId}`, title: 'bench', pullRequest: '', report: '', summary: '', agentThreadId: '', changes: [] },
      }),
    );
    fleet.finished += 1;
  } catch (error) {
    fleet.failed += 1;
    process.stderr.write(`worker ${launch.workerId}: ${error instanceof Error ? error.message : String(error)}\n`);
  } finally {
    if (beats) clearInterval(beats);
    client.close();
    await rm(spoolFile, { force: true });
  }
}

/** The conductor's resident set (its peak as the kernel kept it) and CPU time, from /proc. */
class ProcessSampler {
  peakRssMb = 0;
  peakCpuPercent = 0;
  /** CPU seconds at each sample; the peak is taken over five samples, as one late timer would make a one-second window lie. */
  private readonly history: Array<{ at: number; cpuSeconds: number }> = [];
  private firstCpuSeconds: number | undefined;
  private lastCpuSeconds = 0;
  private lastAt = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly ticksPerSecond = 100;

  constructor(private readonly pid: number) {}

  start(): void {
    this.startedAt = Date.now();
    this.timer = setInterval(() => void this.sample().catch(() => undefined), 1000);
  }

  private async sample(): Promise<void> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    if (hwm) this.peakRssMb = Math.max(this.peakRssMb, Number(hwm) / 1024);
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, 12 and 13 after the command name.
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / this.ticksPerSecond;
    const now = Date.now();
    if (this.firstCpuSeconds === undefined) this.firstCpuSeconds = cpuSeconds;
    this.history.push({ at: now, cpuSeconds });
    const windowStart = this.history.at(-6);
    if (windowStart) {
      this.peakCpuPercent = Math.max(this.peakCpuPercent, ((cpuSeconds - windowStart.cpuSeconds) / ((now - windowStart.at) / 1000)) * 100);
    }
    this.lastCpuSeconds = cpuSeconds;
    this.lastAt = now;
  }

  async stop(): Promise<{ cpuSeconds: number; averageCpuPercent: number }> {
    clearInterval(this.timer);
    await this.sample().catch(() => undefined);
    const cpuSeconds = this.lastCpuSeconds - (this.firstCpuSeconds ?? this.lastCpuSeconds);
    const elapsed = (this.lastAt - this.startedAt) / 1000;
    return { cpuSeconds, averageCpuPercent: elapsed > 0 ? (cpuSeconds / elapsed) * 100 : 0 };
  }
}

/**
 * The conductor's own event-loop delay, from its /metrics (prom-client resets the histogram at each scrape, so each
 * sample covers the time since the last). A long delay means its one thread was busy; a short one while calls are
 * slow means it was waiting (on Postgres, the pool, the file system).
 */
class ConductorLoopSampler {
  worstP99Ms = 0;
  maxMs = 0;
  steadyWorstP99Ms = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metricsUrl: string,
    private readonly recorder: Recorder,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample().catch(() => undefined), 2000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const text = await (await fetch(this.metricsUrl)).text();
    const value = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)`, 'm').exec(text)?.[1] ?? 0) * 1000;
    const p99 = value('nodejs_eventloop_lag_p99_seconds');
    this.worstP99Ms = Math.max(this.worstP99Ms, p99);
    this.maxMs = Math.max(this.maxMs, value('nodejs_eventloop_lag_max_seconds'));
    if (this.recorder.steady) this.steadyWorstP99Ms = Math.max(this.steadyWorstP99Ms, p99);
  }
}

/**
 * How many Postgres sessions (the conductor's pool of 10, the scheduler's) were running a statement at each sample:
 * near the pool size while calls are slow means they queue for the database or its connections.
 */
class DatabaseBusySampler {
  readonly active: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly prisma: ReturnType<typeof createPrismaClient>) {}

  start(): void {
    this.timer = setInterval(() => void this.sample().catch(() => undefined), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const [row] = await this.prisma.$queryRaw<Array<{ active: bigint }>>`
      SELECT count(*) AS active FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()`;
    this.active.push(Number(row?.active ?? 0));
  }
}

interface DatabaseActivity {
  transactions: number;
  inserted: number;
  updated: number;
  fetched: number;
}

/** The database's own counters (every connection, the scheduler's too): how much the run asked of Postgres. */
async function databaseActivity(prisma: ReturnType<typeof createPrismaClient>): Promise<DatabaseActivity> {
  const [row] = await prisma.$queryRaw<Array<{ xact_commit: bigint; tup_inserted: bigint; tup_updated: bigint; tup_fetched: bigint }>>`
    SELECT xact_commit, tup_inserted, tup_updated, tup_fetched FROM pg_stat_database WHERE datname = current_database()`;
  return {
    transactions: Number(row?.xact_commit ?? 0),
    inserted: Number(row?.tup_inserted ?? 0),
    updated: Number(row?.tup_updated ?? 0),
    fetched: Number(row?.tup_fetched ?? 0),
  };
}

function subtractActivity(after: DatabaseActivity, before: DatabaseActivity): DatabaseActivity {
  return {
    transactions: after.transactions - before.transactions,
    inserted: after.inserted - before.inserted,
    updated: after.updated - before.updated,
    fetched: after.fetched - before.fetched,
  };
}

async function sendTickets(send: (entries: Array<{ Id: string; MessageBody: string }>) => Promise<void>, count: number): Promise<void> {
  const template = JSON.parse(await readFile(join(WORKSPACE, 'tools/e2e/fixtures/jira-issue.json'), 'utf8')) as Record<string, unknown>;
  for (let first = 0; first < count; first += 10) {
    const entries = [];
    for (let index = first; index < Math.min(count, first + 10); index += 1) {
      entries.push({ Id: String(index), MessageBody: JSON.stringify({ ...template, id: String(30000 + index), key: `LOAD-${index + 1}` }) });
    }
    await send(entries);
  }
}

async function main(options: Options): Promise<void> {
  const log = (line: string): boolean => process.stderr.write(`${line}\n`);
  const base = await mkdtemp(join(tmpdir(), 'bench-conductor-'));
  const spoolDir = join(base, 'spool');
  const profileDir = join(base, 'cpu-profile');
  const archive = await smallResultsArchive(base);

  const postgres = await startTestPostgres();
  const prisma = createPrismaClient(postgres.databaseUrl);
  const stack = await startLocalStack(postgres.databaseUrl, {
    WORKER_LAUNCHER: 'spool',
    WORKER_SPOOL_DIR: spoolDir,
    // Admission caps (global and per repository) must not hold back the fleet under test.
    MAX_ACTIVE_JOBS: String(options.workers),
    REPO_MAX_ACTIVE_JOBS: String(options.workers),
    // The bench ends its workers itself; on SIGTERM the conductor exits at once (and writes its CPU profile) instead of draining.
    SHUTDOWN_MODE: 'handoff',
    ...options.conductorEnv,
  }, { conductorNodeArgs: options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  const databaseBefore = await databaseActivity(prisma);
  const pid = stack.conductor.child.pid;
  if (pid === undefined) throw new Error('the conductor has no pid');
  const sampler = new ProcessSampler(pid);
  sampler.start();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  let releaseFleet: () => void = () => undefined;
  const fleet: Fleet = {
    recorder: new Recorder(),
    connected: 0,
    finished: 0,
    failed: 0,
    heartbeatIntervalMs: 0,
    release: new Promise<void>((resolve) => {
      releaseFleet = resolve;
    }),
  };
  const conductorLoop = new ConductorLoopSampler(`${stack.conductorHttp}/metrics`, fleet.recorder);
  conductorLoop.start();
  const databaseBusy = new DatabaseBusySampler(prisma);
  databaseBusy.start();
  const running: Array<Promise<void>> = [];
  const seen = new Set<string>();
  const startedAt = Date.now();
  let polling = true;
  const poll = async (): Promise<void> => {
    while (polling) {
      const names = await readdir(spoolDir).catch(() => [] as string[]);
      for (const name of names) {
        if (name.startsWith('.') || !name.endsWith('.json') || seen.has(name)) continue;
        seen.add(name);
        const file = join(spoolDir, name);
        const launch = JSON.parse(await readFile(file, 'utf8')) as SpooledLaunch;
        running.push(runWorker(launch, file, archive, fleet));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const poller = poll();

  let outcome: { succeeded: number; other: number };
  let cpu: { cpuSeconds: number; averageCpuPercent: number };
  let database: DatabaseActivity;
  let heartbeatEvents: number;
  try {
    await sendTickets(async (entries) => {
      const sent = await stack.sqs.send(new SendMessageBatchCommand({ QueueUrl: stack.queueUrl, Entries: entries }));
      if ((sent.Failed ?? []).length > 0) throw new Error(`SQS refused ${sent.Failed?.length} tickets`);
    }, options.workers);
    log(`${options.workers} tickets sent; waiting for every worker to connect`);
    const rampDeadline = Date.now() + Math.max(120_000, options.workers * 1000);
    let lastReport = 0;
    while (fleet.connected + fleet.failed < options.workers) {
      if (Date.now() > rampDeadline) throw new Error(`only ${fleet.connected} of ${options.workers} workers connected in time`);
      if (stack.conductor.child.exitCode !== null) throw new Error(`the conductor exited; see ${stack.conductor.logFile}`);
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        log(`  ${fleet.connected} connected after ${Math.round((Date.now() - startedAt) / 1000)} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const rampSeconds = (Date.now() - startedAt) / 1000;
    const steadyMs = options.seconds !== undefined ? options.seconds * 1000 : 3 * fleet.heartbeatIntervalMs;
    log(`all ${fleet.connected} connected after ${rampSeconds.toFixed(1)} s; ${steadyMs / 1000} s of heartbeats with all of them live`);
    fleet.recorder.steady = true;
    await new Promise((resolve) => setTimeout(resolve, steadyMs));
    fleet.recorder.steady = false;
    releaseFleet();
    await Promise.all(running);
    cpu = await sampler.stop();
    conductorLoop.stop();
    databaseBusy.stop();
    database = subtractActivity(await databaseActivity(prisma), databaseBefore);
    heartbeatEvents = await prisma.workerEvent.count({ where: { type: 'heartbeat' } });
    const jobs = await prisma.job.groupBy({ by: ['status'], _count: true });
    const succeeded = jobs.find((row) => row.status === 'succeeded')?._count ?? 0;
    outcome = { succeeded, other: jobs.reduce((sum, row) => sum + row._count, 0) - succeeded };
  } finally {
    polling = false;
    await poller;
    loopDelay.disable();
    await stack.stop();
    await prisma.$disconnect();
    await postgres.stop();
  }

  const { recorder } = fleet;
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(`conductor under ${options.workers} simulated workers (heartbeat every ${fleet.heartbeatIntervalMs} ms)`);
  out('rpc         calls  failed     p50 ms     p99 ms     max ms');
  for (const kind of RPC_KINDS) {
    const sorted = [...(recorder.samples.get(kind) ?? [])].sort((a, b) => a - b);
    const failed = recorder.failures.get(kind)?.length ?? 0;
    out(
      `${kind.padEnd(10)} ${String(sorted.length).padStart(6)} ${String(failed).padStart(7)} ${round1(quantile(sorted, 0.5)).toFixed(1).padStart(10)} ${round1(quantile(sorted, 0.99)).toFixed(1).padStart(10)} ${round1(sorted.at(-1) ?? Number.NaN).toFixed(1).padStart(10)}`,
    );
  }
  for (const kind of RPC_KINDS) {
    const first = recorder.failures.get(kind)?.[0];
    if (first) out(`  first ${kind} failure: ${first}`);
  }
  const steady = [...recorder.steadyHeartbeats].sort((a, b) => a - b);
  out(
    `heartbeat with all ${options.workers} live (after the launch burst): ${steady.length} calls, p50 ${round1(quantile(steady, 0.5))} ms, p99 ${round1(quantile(steady, 0.99))} ms`,
  );
  out(
    `postgres: ${database.transactions} transactions, ${database.inserted} rows inserted, ${database.updated} updated, ${database.fetched} fetched; ${heartbeatEvents} heartbeat events stored`,
  );
  out(`jobs: ${outcome.succeeded} succeeded, ${outcome.other} not; workers: ${fleet.finished} finished, ${fleet.failed} failed`);
  out(`conductor: peak RSS ${sampler.peakRssMb.toFixed(0)} MB, CPU ${cpu.cpuSeconds.toFixed(1)} s (average ${cpu.averageCpuPercent.toFixed(0)}%, peak ${sampler.peakCpuPercent.toFixed(0)}% of one core over 5 s)`);
  const busy = [...databaseBusy.active].sort((a, b) => a - b);
  out(`postgres sessions running a statement, per second: median ${quantile(busy, 0.5)}, p90 ${quantile(busy, 0.9)}, max ${busy.at(-1) ?? 0}`);
  out(
    `conductor event-loop delay: worst 2 s p99 ${conductorLoop.worstP99Ms.toFixed(1)} ms (${conductorLoop.steadyWorstP99Ms.toFixed(1)} ms with all live), max ${conductorLoop.maxMs.toFixed(1)} ms`,
  );
  out(`bench process event-loop delay: p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`);
  if (options.cpuProf) out(`conductor CPU profile: ${profileDir}`);
  out(
    JSON.stringify({
      workers: options.workers,
      heartbeatP99Ms: recorder.p99('heartbeat'),
      downloadP99Ms: recorder.p99('download'),
      uploadP99Ms: recorder.p99('upload'),
      conductorPeakRssMb: Math.round(sampler.peakRssMb),
      // Not in the list: heartbeats while all N were live, without the launch burst's.
      heartbeatSteadyP99Ms: round1(quantile(steady, 0.99)),
    }),
  );
  if (!options.cpuProf) await rm(base, { recursive: true, force: true });
}

main(startCli(CLI, parseOptions)).catch((error: unknown) => {
  process.stderr.write(`bench:conductor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
