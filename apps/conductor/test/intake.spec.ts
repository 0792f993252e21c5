import { schedulerV1 } from '@agent-conductor/contracts';
import type { PrismaClient } from '@agent-conductor/db';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { status } from '@grpc/grpc-js';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { bootstrapConductor } from '../src/bootstrap';
import { IntakeService } from '../src/intake/intake.service';
import { startFakeScheduler, type FakeScheduler, type Submit } from './support/fake-scheduler';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

describe('intake: SQS → scheduler → launch (bootstrapConductor)', () => {
  let prisma: PrismaClient;
  let sqsServer: LocalSqsServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let scheduler: FakeScheduler;
  const submit: { current: Submit } = { current: () => Promise.reject(new Error('not set')) };
  const received: schedulerV1.SubmitMessageRequest[] = [];
  let app: INestApplication;

  async function queueCounts(): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes?.['ApproximateNumberOfMessages']), inFlight: Number(Attributes?.['ApproximateNumberOfMessagesNotVisible']) };
  }

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
    const { endpoint } = await sqsServer.start();
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'conductor-intake-spec' }))).QueueUrl ?? '';
    // Failures answer UNAVAILABLE, as a scheduler that is down would.
    scheduler = await startFakeScheduler(submit, { defaultErrorCode: status.UNAVAILABLE });
    const config = await testConfig();
    app = await bootstrapConductor({
      ...config,
      sqsQueueUrl: queueUrl,
      sqsEndpoint: endpoint,
      schedulerGrpcAddr: scheduler.address,
      schedulerCallTimeoutMs: 2000,
      workerCommand: `${process.execPath} -e "setTimeout(() => {}, 20000)"`,
    });
  });

  afterAll(async () => {
    await app.close();
    await scheduler.stop();
    sqs.destroy();
    await sqsServer.stop();
    await prisma.$disconnect();
  });

  it('answers /health', async () => {
    const address = app.getHttpServer().address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${address.port}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', draining: false, intake: 'receiving' });
  });

  it('submits a message, deletes it after the scheduler answered, and launches the decided job', async () => {
    const job = await createPendingJob(prisma, { key: 'SHOP-1' });
    submit.current = async (request) => {
      received.push(request);
      return {
        deliveryId: job.deliveryId,
        classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
        rejectionReason: '',
        duplicate: false,
        decisions: [{ jobId: job.id, kind: schedulerV1.SpawnKind.SPAWN_KIND_TICKET, key: 'SHOP-1', repository: job.repository }],
      };
    };
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"webhookEvent":"jira:issue_created"}' }));
    const launched = await eventually('the job to be launched', async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { workers: true } });
      return row.workers.length === 1 && row.workers[0]?.state === 'launched' ? row : undefined;
    });
    expect(launched.status).toBe('launching');
    expect(received.at(-1)).toMatchObject({ messageId: sent.MessageId, body: '{"webhookEvent":"jira:issue_created"}' });
    expect(Number.isNaN(Date.parse(received.at(-1)?.receivedAt ?? ''))).toBe(false);
    await eventually('the message to be deleted', async () => {
      const counts = await queueCounts();
      return counts.visible === 0 && counts.inFlight === 0 ? true : undefined;
    });
  });

  it('deletes a rejected message without launching anything', async () => {
    const before = await prisma.worker.count();
    let calls = 0;
    submit.current = async () => {
      calls += 1;
      return { deliveryId: 'd', classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_REJECTED, rejectionReason: 'not JSON', duplicate: false, decisions: [] };
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'garbage' }));
    await eventually('the scheduler call', async () => (calls > 0 ? true : undefined));
    await eventually('the message to be deleted', async () => {
      const counts = await queueCounts();
      return counts.visible === 0 && counts.inFlight === 0 ? true : undefined;
    });
    expect(await prisma.worker.count()).toBe(before);
  });

  it('leaves the message on the queue when the scheduler fails', async () => {
    let calls = 0;
    submit.current = async () => {
      calls += 1;
      throw new Error('scheduler is down');
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"key":"SHOP-2"}' }));
    await eventually('the scheduler call', async () => (calls > 0 ? true : undefined));
    // The intake has finished with the message (it no longer holds it) and paused on the outage: had it deleted
    // the message, it would have done so by now.
    const intake = app.get(IntakeService);
    await eventually('the intake to let go of the message and pause', async () => (intake.inFlight === 0 && intake.pausedReason !== undefined ? true : undefined));
    expect(intake.pausedReason).toMatch(/scheduler at .* unreachable: .*scheduler is down/);
    expect(await queueCounts()).toEqual({ visible: 0, inFlight: 1 });
  });
});
