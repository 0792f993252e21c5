import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ensureSampleRemote } from './sample-remote';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE } from './workspace';

export { WORKSPACE } from './workspace';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** An app process from dist/, its output kept in a log file for post-mortems. */
export class AppProcess {
  private exitPromise: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exitPromise = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  /** `nodeArgs` go before the script: flags NODE_OPTIONS refuses, such as --cpu-prof. */
  static start(name: string, env: Record<string, string>, logDir: string, nodeArgs: string[] = []): AppProcess {
    const logFile = join(logDir, `${name}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [...nodeArgs, join(WORKSPACE, 'dist/apps', name, 'main.js')], {
      cwd: WORKSPACE,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), NODE_ENV: 'development', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Two streams into one file: neither may end it while the other still writes (write after end crashes the caller).
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('close', () => log.end());
    return new AppProcess(name, child, logFile);
  }

  /**
   * An app from dist/ for `npm run dev`: the whole environment passes through (the developer's settings), and its
   * output goes straight to the terminal, where each line already names the app.
   */
  static startInTerminal(name: string, env: NodeJS.ProcessEnv): AppProcess {
    const child = spawn(process.execPath, [join(WORKSPACE, 'dist/apps', name, 'main.js')], { cwd: WORKSPACE, env, stdio: ['ignore', 'inherit', 'inherit'] });
    return new AppProcess(name, child, 'its output above');
  }

  get exited(): Promise<number | null> {
    return this.exitPromise;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Where a local scheduler and conductor find each other and their surroundings. */
export interface LocalAppWiring {
  databaseUrl: string;
  schedulerAddr: string;
  schedulerHttpPort: number;
  repository: string;
  queueUrl: string;
  sqsEndpoint: string;
  conductorGrpc: string;
  conductorHttpPort: number;
  runDir: string;
  resultsDir: string;
}

export const WORKER_MAIN = join(WORKSPACE, 'dist/apps/worker/main.js');

/** The scheduler's environment for a local stack; callers add their own overrides. */
export function localSchedulerEnv(wiring: LocalAppWiring): Record<string, string> {
  return {
    DATABASE_URL: wiring.databaseUrl,
    SCHEDULER_GRPC_LISTEN_ADDR: wiring.schedulerAddr,
    // A free port rather than the default 8081: runs on one machine must not collide.
    SCHEDULER_HTTP_PORT: String(wiring.schedulerHttpPort),
    DEFAULT_REPOSITORY_URL: wiring.repository,
    DEFAULT_REPOSITORY_BRANCH: 'main',
  };
}

/** The conductor's environment for a local stack running the demo agent; callers add their own overrides. */
export function localConductorEnv(wiring: LocalAppWiring): Record<string, string> {
  return {
    DATABASE_URL: wiring.databaseUrl,
    SCHEDULER_GRPC_ADDR: wiring.schedulerAddr,
    SQS_QUEUE_URL: wiring.queueUrl,
    SQS_ENDPOINT: wiring.sqsEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    CONDUCTOR_GRPC_LISTEN_ADDR: wiring.conductorGrpc,
    CONDUCTOR_GRPC_DIAL_ADDR: wiring.conductorGrpc,
    CONDUCTOR_HTTP_PORT: String(wiring.conductorHttpPort),
    CONDUCTOR_RUN_DIR: wiring.runDir,
    RESULTS_DIR: wiring.resultsDir,
    WORKER_COMMAND: `${process.execPath} ${WORKER_MAIN}`,
    WORKER_AGENT_COMMAND: `bash ${join(WORKSPACE, 'tools/demo-agent/demo-agent.sh')}`,
  };
}

export interface LocalStackOptions {
  /** Added to (and overriding) the scheduler's environment. */
  extraSchedulerEnv?: Record<string, string>;
  /** The repository jobs default to; the sample remote under the stack's dir when unset. */
  repository?: string;
  /** The temp dir name prefix, e.g. testRunPrefix(...) so that a test run's teardown finds its workers. */
  dirPrefix?: string;
  /** Node options for the conductor process, e.g. --cpu-prof. */
  conductorNodeArgs?: string[];
}

export interface LocalStack {
  sqs: SQSClient;
  queueUrl: string;
  deadLetterQueueUrl: string;
  remote: string;
  runDir: string;
  resultsDir: string;
  /** Where the scheduler's and conductor's output goes (scheduler.log, conductor.log). */
  logDir: string;
  conductorHttp: string;
  scheduler: AppProcess;
  conductor: AppProcess;
  stop(): Promise<void>;
}

/**
 * Polls `probe` until it holds. Fails early, naming the app, when one of `processes` exits meanwhile, and at once
 * when `signal` aborts (the caller is stopping).
 */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, processes: AppProcess[], signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    for (const app of processes) {
      const { exitCode, signalCode } = app.child;
      if (exitCode !== null || signalCode !== null) {
        throw new Error(`${app.name} exited with ${exitCode ?? signalCode} while waiting for ${what}; see ${app.logFile}`);
      }
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
}

/**
 * The whole local path with real processes: the tools' SQS endpoint (in this
 * process), the scheduler and conductor from dist/, and workers the conductor
 * launches as child processes running the demo agent.
 */
export async function startLocalStack(
  databaseUrl: string,
  extraConductorEnv: Record<string, string> = {},
  options: LocalStackOptions = {},
): Promise<LocalStack> {
  const base = await mkdtemp(join(tmpdir(), options.dirPrefix ?? 'conductor-e2e-'));
  // Run as root, the worker starts the agent as its own uid, which must pass through (not list) the work dir's parents.
  await chmod(base, 0o711);
  const runDir = join(base, 'run');
  const resultsDir = join(base, 'results');
  const logDir = join(base, 'logs');
  await Promise.all([mkdir(runDir), mkdir(resultsDir), mkdir(logDir)]);

  const remote = join(base, 'remote', 'sample-app.git');
  await ensureSampleRemote(remote);

  const sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
  const { endpoint } = await sqsServer.start();
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'e2e-intake-dlq' }));
  const deadLetterQueueUrl = dlq.QueueUrl ?? '';
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'];
  const intake = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'e2e-intake',
      Attributes: { VisibilityTimeout: '30', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) },
    }),
  );
  const queueUrl = intake.QueueUrl ?? '';

  const wiring: LocalAppWiring = {
    databaseUrl,
    schedulerAddr: `127.0.0.1:${await freePort()}`,
    schedulerHttpPort: await freePort(),
    repository: options.repository ?? remote,
    queueUrl,
    sqsEndpoint: endpoint,
    conductorGrpc: `127.0.0.1:${await freePort()}`,
    conductorHttpPort: await freePort(),
    runDir,
    resultsDir,
  };
  const httpPort = wiring.conductorHttpPort;
  const scheduler = AppProcess.start('scheduler', { ...localSchedulerEnv(wiring), ...options.extraSchedulerEnv }, logDir);
  const conductor = AppProcess.start(
    'conductor',
    { ...localConductorEnv(wiring), PENDING_SWEEP_INTERVAL_MS: '1000', ...extraConductorEnv },
    logDir,
    options.conductorNodeArgs ?? [],
  );
  const conductorHttp = `http://127.0.0.1:${httpPort}`;
  await waitFor('conductor /health', async () => (await fetch(`${conductorHttp}/health`)).ok, 60000, [scheduler, conductor]);

  return {
    sqs,
    queueUrl,
    deadLetterQueueUrl,
    remote,
    runDir,
    resultsDir,
    logDir,
    conductorHttp,
    scheduler,
    conductor,
    async stop() {
      await conductor.stop();
      await scheduler.stop();
      sqs.destroy();
      await sqsServer.stop();
      if (!process.env['KEEP_E2E_DIR']) await rm(base, { recursive: true, force: true });
    },
  };
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
