/**
 * The stack `npm run dev` runs once its build is done: Postgres, an SQS endpoint and the sample git remote, each
 * only when the environment does not already point at a real one, then the scheduler and the conductor from dist/.
 * Everything started is owned by the supervisor, which stops it all however the run ends.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deployMigrations } from '@agent-conductor/db';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { startDevPostgres } from '@agent-conductor/testing';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudWatchFixtureServer, TELEMETRY_FIXTURE_DIR } from './cloudwatch-fixture';
import type { DevStackConfig } from './config/env.validators';
import { fixtureRoutingTable, SAMPLE_ALARM_ACCOUNT } from './fixture-routing';
import { AppProcess, waitFor } from './local-stack';
import { ensureSampleRemote } from './sample-remote';
import type { Supervisor } from './supervisor';
import { WORKSPACE } from './workspace';

export const INTAKE_QUEUE = 'agent-conductor-intake';
export const DEAD_LETTER_QUEUE = 'agent-conductor-intake-dlq';
export const MAX_RECEIVE_COUNT = 5;

/** What `npm run dev` leaves in .dev/stack.json while it runs, for the CLIs and for finding its processes. */
export interface StackFile {
  pid: number;
  queueUrl: string;
  sampleRemote: string;
  scheduler: { pid: number | undefined; http: string; grpc: string };
  conductor: { pid: number | undefined; http: string };
}

async function createQueues(endpoint: string): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: DEAD_LETTER_QUEUE }));
    const deadLetterQueueUrl = dlq.QueueUrl ?? '';
    const dlqAttributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
    const intake = await sqs.send(
      new CreateQueueCommand({
        QueueName: INTAKE_QUEUE,
        Attributes: {
          VisibilityTimeout: '60',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqAttributes.Attributes?.['QueueArn'], maxReceiveCount: MAX_RECEIVE_COUNT }),
        },
      }),
    );
    return { queueUrl: intake.QueueUrl ?? '', deadLetterQueueUrl };
  } finally {
    sqs.destroy();
  }
}

async function answersOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

export async function startDevStack(config: DevStackConfig, supervisor: Supervisor, log: (line: string) => void): Promise<void> {
  const devDir = join(WORKSPACE, '.dev');
  await mkdir(devDir, { recursive: true });
  const appEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: process.env['NODE_ENV'] || 'development' };

  const databaseUrl = await supervisor.step(async () => {
    if (config.databaseUrl) {
      await deployMigrations({ databaseUrl: config.databaseUrl });
      log('using DATABASE_URL, migrations applied');
      return config.databaseUrl;
    }
    // Applies pending migrations itself, once, before anything connects.
    const postgres = await startDevPostgres({ dataDir: join(devDir, 'postgres'), port: config.postgresPort, log });
    supervisor.own('Postgres', () => postgres.stop());
    log(`embedded Postgres on 127.0.0.1:${config.postgresPort} (data in .dev/postgres), migrations applied`);
    return postgres.databaseUrl;
  });
  appEnv['DATABASE_URL'] = databaseUrl;

  const queueUrl = await supervisor.step(async () => {
    if (config.queueUrl) {
      log(`using SQS_QUEUE_URL ${config.queueUrl}`);
      return config.queueUrl;
    }
    const sqs = new LocalSqsServer({ port: config.sqsPort, host: '127.0.0.1' });
    const { endpoint } = await sqs.start();
    supervisor.own('the SQS endpoint', () => sqs.stop());
    const queues = await createQueues(endpoint);
    appEnv['SQS_ENDPOINT'] = endpoint;
    log(`local SQS endpoint ${endpoint}; intake ${queues.queueUrl}; dead letters ${queues.deadLetterQueueUrl} after ${MAX_RECEIVE_COUNT} receives`);
    return queues.queueUrl;
  });
  appEnv['SQS_QUEUE_URL'] = queueUrl;

  const fixtureLogGroups = await supervisor.step(async () => {
    if (process.env['CLOUDWATCH_ENDPOINT']) {
      log(`using CLOUDWATCH_ENDPOINT ${process.env['CLOUDWATCH_ENDPOINT']} for incident evidence`);
      return [];
    }
    // Fixture mode: the sample alarm's recorded telemetry, so its incident job gets a real evidence pack and chart.
    const fixture = await CloudWatchFixtureServer.fromDirectory();
    const { endpoint } = await fixture.start();
    supervisor.own('the CloudWatch fixture', () => fixture.stop());
    appEnv['CLOUDWATCH_ENDPOINT'] = endpoint;
    log(`CloudWatch fixture ${endpoint} serving the telemetry in ${TELEMETRY_FIXTURE_DIR}`);
    return fixture.recordedLogGroups;
  });
  // On by default in dev, so pushing the sample alarm shows the evidence pack; INCIDENT_EVIDENCE=off turns it off.
  appEnv['INCIDENT_EVIDENCE'] ||= 'on';

  const remote = join(devDir, 'remote', 'sample-app.git');
  const { created } = await supervisor.step(() => ensureSampleRemote(remote));
  log(`${created ? 'created' : 'reusing'} sample remote ${remote}`);

  if (fixtureLogGroups.length > 0 && !process.env['ROUTING_FILE']) {
    // The recorded logs reach a pack only through a route's "logs" query; a ROUTING_FILE of your own replaces this one.
    const routingFile = join(devDir, 'routing.json');
    const table = fixtureRoutingTable({
      repository: process.env['DEFAULT_REPOSITORY_URL'] || remote,
      branch: process.env['DEFAULT_REPOSITORY_BRANCH'] || 'main',
      logGroups: fixtureLogGroups,
    });
    await writeFile(routingFile, `${JSON.stringify(table, null, 2)}\n`);
    appEnv['ROUTING_FILE'] = routingFile;
    log(`routing file ${routingFile}: the sample alarm's account (${SAMPLE_ALARM_ACCOUNT}) queries the recorded logs`);
  }

  // The apps' own defaults, made explicit: the stack must probe the ports they listen on.
  Object.assign(appEnv, {
    SCHEDULER_GRPC_LISTEN_ADDR: config.schedulerGrpcListenAddr,
    SCHEDULER_HTTP_PORT: String(config.schedulerHttpPort),
    CONDUCTOR_HTTP_PORT: String(config.conductorHttpPort),
  });
  appEnv['SCHEDULER_GRPC_ADDR'] ||= config.schedulerGrpcListenAddr;

  const startApp = (name: 'scheduler' | 'conductor', httpPort: number, stopSignal: NodeJS.Signals): Promise<AppProcess> =>
    supervisor.step(async () => {
      const app = AppProcess.startInTerminal(name, appEnv);
      supervisor.own(name, async () => {
        await app.stop(stopSignal, config.stopGraceMs);
      });
      const health = `http://127.0.0.1:${httpPort}/health`;
      await waitFor(`${name} to answer ${health}`, () => answersOk(health), config.readyTimeoutMs, [app], supervisor.signal);
      // A stack with a dead app is no use, and its other parts would hold their ports for nothing.
      void app.exited.then((code) => {
        if (!supervisor.isStopping) void supervisor.stop(`${name} exited with ${code ?? app.child.signalCode}`, 1);
      });
      log(`${name} healthy at ${health}`);
      return app;
    });

  // The scheduler first: the conductor hands it every message.
  const scheduler = await startApp('scheduler', config.schedulerHttpPort, 'SIGTERM');
  // SIGINT, not SIGTERM: in dev the conductor stops at once instead of draining its workers through the shutdown gate.
  const conductor = await startApp('conductor', config.conductorHttpPort, 'SIGINT');

  const stackFile: StackFile = {
    pid: process.pid,
    queueUrl,
    sampleRemote: remote,
    scheduler: { pid: scheduler.child.pid, http: `http://127.0.0.1:${config.schedulerHttpPort}`, grpc: config.schedulerGrpcListenAddr },
    conductor: { pid: conductor.child.pid, http: `http://127.0.0.1:${config.conductorHttpPort}` },
  };
  await writeFile(join(devDir, 'stack.json'), JSON.stringify(stackFile, null, 2));
  log(`ready: conductor ${stackFile.conductor.http}, scheduler ${stackFile.scheduler.http}. Ctrl-C stops everything.`);
}
