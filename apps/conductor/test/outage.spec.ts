import { createPrismaClient, type PrismaClient } from '@agent-conductor/db';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { eventually, freePort } from '@agent-conductor/testing';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { INestApplication } from '@nestjs/common';
import { schedulerV1 } from '@agent-conductor/contracts';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapConductor } from '../src/bootstrap';
import { IntakeService } from '../src/intake/intake.service';
import { startPostgresProcess, type PostgresProcess } from './support/dev-postgres-process';
import { startFakeScheduler, type FakeScheduler, type Submit } from './support/fake-scheduler';
import { testConfig } from './support/fixtures';

const MAX_RECEIVE_COUNT = 2;
const VISIBILITY_SECONDS = 2;

/**
 * Postgres goes away under a running conductor and comes back. A real
 * embedded cluster is stopped and restarted on the same data directory and
 * port. The scheduler here is a stand-in that commits each message to the
 * same database, so it fails exactly when a real one would.
 */
describe('a Postgres outage under a running conductor', () => {
  let dataDir: string;
  let port: number;
  let postgres: PostgresProcess | undefined;
  let schedulerDb: PrismaClient;
  let sqsServer: LocalSqsServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let dlqUrl: string;
  let scheduler: FakeScheduler;
  let app: INestApplication;
  let health: string;
  const crashes: unknown[] = [];
  const recordCrash = (error: unknown): void => {
    crashes.push(error);
  };

  async function counts(url: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes?.['ApproximateNumberOfMessages']), inFlight: Number(Attributes?.['ApproximateNumberOfMessagesNotVisible']) };
  }

  /** What the real scheduler does, reduced to its durable part: delivery + job in one transaction, idempotent by message id. */
  const commitTicket: Submit = async (request) => {
    const key = (JSON.parse(request.body) as { key: string }).key;
    const job = await schedulerDb.$transaction(async (tx) => {
      const existing = await tx.delivery.findUnique({ where: { sqsMessageId: request.messageId }, include: { jobs: true } });
      if (existing) return existing.jobs[0];
      const delivery = await tx.delivery.create({
        data: { sqsMessageId: request.messageId, receivedAt: new Date(request.receivedAt), body: request.body, classification: 'ticket' },
      });
      return tx.job.create({ data: { kind: 'ticket', key, deliveryId: delivery.id, repository: 'https://example.invalid/repo.git', taskMarkdown: `# ${key}\n` } });
    });
    if (!job) throw new Error(`delivery ${request.messageId} has no job`);
    return {
      deliveryId: job.deliveryId,
      classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
      rejectionReason: '',
      duplicate: false,
      decisions: [{ jobId: job.id, kind: schedulerV1.SpawnKind.SPAWN_KIND_TICKET, key, repository: job.repository }],
    };
  };

  beforeAll(async () => {
    process.on('uncaughtException', recordCrash);
    process.on('unhandledRejection', recordCrash);
    dataDir = await mkdtemp(join(tmpdir(), 'conductor-outage-pg-'));
    port = await freePort();
    postgres = await startPostgresProcess(dataDir, port, 'outage');
    schedulerDb = createPrismaClient(postgres.databaseUrl);

    sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
    const { endpoint } = await sqsServer.start();
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'outage-dlq' }))).QueueUrl ?? '';
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'];
    queueUrl =
      (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: 'outage-intake',
            Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }) },
          }),
        )
      ).QueueUrl ?? '';
    scheduler = await startFakeScheduler({ current: commitTicket });

    app = await bootstrapConductor({
      ...(await testConfig()),
      databaseUrl: postgres.databaseUrl,
      sqsQueueUrl: queueUrl,
      sqsEndpoint: endpoint,
      schedulerGrpcAddr: scheduler.address,
      schedulerCallTimeoutMs: 3000,
      sqsVisibilityTimeoutSeconds: VISIBILITY_SECONDS,
      sqsWaitTimeSeconds: 1,
      intakeProbeIntervalMs: 250,
      pendingSweepIntervalMs: 300,
      workerCommand: `${process.execPath} -e "setTimeout(() => {}, 60000)"`,
      // Every job here is on one repository and its stand-in worker lives a minute: admission's limits would keep
      // all but one waiting, and this test is about what the outage does to intake, not about admission.
      maxActiveJobs: 50,
      repoMaxActiveJobs: 50,
    });
    health = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/health`;
  });

  afterAll(async () => {
    await app?.close();
    await scheduler?.stop();
    sqs?.destroy();
    await sqsServer?.stop();
    await schedulerDb?.$disconnect();
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
    process.off('uncaughtException', recordCrash);
    process.off('unhandledRejection', recordCrash);
  });

  async function launchedJobs(): Promise<Array<{ key: string; workers: number; status: string }>> {
    const jobs = await schedulerDb.job.findMany({ include: { workers: true }, orderBy: { key: 'asc' } });
    return jobs.map((job) => ({ key: job.key, workers: job.workers.length, status: job.status }));
  }

  it('keeps every message on the queue while the database is down, reports not ready, and catches up by itself', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"key":"OUT-0"}' }));
    await eventually('the first job to launch', async () => ((await launchedJobs()).some((j) => j.workers === 1) ? true : undefined));
    expect((await fetch(health)).status).toBe(200);

    await postgres?.stop();
    postgres = undefined;
    const during = ['OUT-1', 'OUT-2', 'OUT-3', 'OUT-4'];
    for (const key of during) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ key }) }));

    const intake = app.get(IntakeService);
    await eventually('the intake to pause', async () => intake.pausedReason, 20_000);
    expect(intake.pausedReason).toMatch(/database unreachable/);
    // Long enough for every message to have gone to the DLQ, had the intake kept receiving.
    await new Promise((resolve) => setTimeout(resolve, (MAX_RECEIVE_COUNT + 2) * VISIBILITY_SECONDS * 1000));

    const duringOutage = await fetch(health);
    expect(duringOutage.status).toBe(503);
    const main = await counts(queueUrl);
    expect(main.visible + main.inFlight).toBe(during.length);
    expect(await counts(dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(crashes).toEqual([]);

    postgres = await startPostgresProcess(dataDir, port, 'outage');

    const jobs = await eventually(
      'every message to become a launched job',
      async () => {
        const rows = await launchedJobs();
        return rows.length === 1 + during.length && rows.every((j) => j.workers === 1) ? rows : undefined;
      },
      45_000,
    );
    expect(jobs.map((j) => j.key)).toEqual(['OUT-0', ...during]);
    await eventually('the queue to empty', async () => {
      const left = await counts(queueUrl);
      return left.visible === 0 && left.inFlight === 0 ? true : undefined;
    });
    expect(await counts(dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(intake.pausedReason).toBeUndefined();
    expect(intake.isRunning).toBe(true);
    expect((await fetch(health)).status).toBe(200);
    // The conductor's own pool recovered too: it wrote the workers above, and it still answers.
    expect(await schedulerDb.delivery.count()).toBe(1 + during.length);
    expect(crashes).toEqual([]);
  });
});
