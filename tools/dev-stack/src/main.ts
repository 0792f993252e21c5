/**
 * The local stack behind `npm run dev` / `nx serve conductor`: Postgres,
 * an SQS endpoint and the sample git remote, each only when the environment
 * does not already point at a real one. It stays in the foreground until
 * interrupted, then stops what it started.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deployMigrations } from '@agent-conductor/db';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { startDevPostgres } from '@agent-conductor/testing';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureSampleRemote } from './sample-remote';

export const DEV_POSTGRES_PORT = 54329;
export const DEV_SQS_PORT = 9324;
export const INTAKE_QUEUE = 'agent-conductor-intake';
export const DEAD_LETTER_QUEUE = 'agent-conductor-intake-dlq';
export const MAX_RECEIVE_COUNT = 5;

function log(message: string): void {
  process.stdout.write(`[dev-stack] ${message}\n`);
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

async function main(): Promise<void> {
  const workspace = process.cwd();
  const devDir = resolve(workspace, '.dev');
  await mkdir(devDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];

  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    // Applies pending migrations itself, once, before anything connects.
    const postgres = await startDevPostgres({ dataDir: join(devDir, 'postgres'), port: DEV_POSTGRES_PORT, log });
    stops.push(() => postgres.stop());
    log(`embedded Postgres on 127.0.0.1:${DEV_POSTGRES_PORT} (data in .dev/postgres), migrations applied`);
  } else {
    await deployMigrations({ databaseUrl });
    log('using DATABASE_URL, migrations applied');
  }

  let queueUrl = process.env['SQS_QUEUE_URL'];
  if (!queueUrl) {
    const sqs = new LocalSqsServer({ port: DEV_SQS_PORT, host: '127.0.0.1' });
    const { endpoint } = await sqs.start();
    stops.push(() => sqs.stop());
    const queues = await createQueues(endpoint);
    queueUrl = queues.queueUrl;
    log(`local SQS endpoint ${endpoint}; intake ${queues.queueUrl}; dead letters ${queues.deadLetterQueueUrl} after ${MAX_RECEIVE_COUNT} receives`);
  } else {
    log(`using SQS_QUEUE_URL ${queueUrl}`);
  }

  const remote = join(devDir, 'remote', 'sample-app.git');
  const { created } = await ensureSampleRemote(remote);
  log(`${created ? 'created' : 'reusing'} sample remote ${remote}`);

  await writeFile(join(devDir, 'stack.json'), JSON.stringify({ queueUrl, sampleRemote: remote, pid: process.pid }, null, 2));
  log('ready');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    for (const stop of stops.reverse()) {
      await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // Keep the event loop alive even when nothing local was started.
  setInterval(() => undefined, 1 << 30);
}

main().catch((error: unknown) => {
  process.stderr.write(`[dev-stack] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
