import type { PrismaClient } from '@agent-conductor/db';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { INestApplication } from '@nestjs/common';
import { bootstrapConductor } from '../src/bootstrap';
import { IntakeService } from '../src/intake/intake.service';
import { acceptedTicket, startFakeScheduler, type FakeScheduler, type Submit } from './support/fake-scheduler';
import { testConfig, testPrisma } from './support/fixtures';

const MAX_RECEIVE_COUNT = 3;

/**
 * A message the scheduler fails on every time, for an infrastructure reason
 * and while everything else is healthy, must end up in the DLQ after
 * maxReceiveCount receives: never deleted, never dropped, and never holding
 * up the messages behind it.
 */
describe('intake: poison messages go to the dead-letter queue', () => {
  let prisma: PrismaClient;
  let sqsServer: LocalSqsServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let dlqUrl: string;
  let scheduler: FakeScheduler;
  let app: INestApplication;
  const submit: { current: Submit } = { current: () => Promise.reject(new Error('not set')) };

  async function counts(url: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes?.['ApproximateNumberOfMessages']), inFlight: Number(Attributes?.['ApproximateNumberOfMessagesNotVisible']) };
  }

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
    const { endpoint } = await sqsServer.start();
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'poison-dlq' }))).QueueUrl ?? '';
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'];
    queueUrl =
      (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: 'poison-intake',
            Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }) },
          }),
        )
      ).QueueUrl ?? '';
    scheduler = await startFakeScheduler(submit);
    app = await bootstrapConductor(
      {
        ...(await testConfig()),
        sqsQueueUrl: queueUrl,
        sqsEndpoint: endpoint,
        schedulerGrpcAddr: scheduler.address,
        schedulerCallTimeoutMs: 2000,
        sqsVisibilityTimeoutSeconds: 2,
        sqsWaitTimeSeconds: 1,
        intakeProbeIntervalMs: 200,
      },
      { listen: false },
    );
  });

  afterAll(async () => {
    await app?.close();
    await scheduler?.stop();
    sqs?.destroy();
    await sqsServer?.stop();
    await prisma?.$disconnect();
  });

  it('re-delivers a message the scheduler keeps failing on, then SQS moves it to the DLQ; the others flow past it', async () => {
    const attempts = new Map<string, number>();
    submit.current = async (request) => {
      attempts.set(request.body, (attempts.get(request.body) ?? 0) + 1);
      // What a scheduler answers when its transaction fails on a bug or a constraint it cannot handle.
      if (request.body.includes('poison')) throw new Error('could not commit the delivery: internal error');
      return acceptedTicket(`delivery-${request.messageId}`);
    };
    // One SendMessageBatch, so that one receive takes all four and they reach the scheduler in one SubmitMessages.
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ['{"key":"poison"}', '{"key":"OK-0"}', '{"key":"OK-1"}', '{"key":"OK-2"}'].map((MessageBody, index) => ({ Id: String(index), MessageBody })),
      }),
    );
    const ids = [0, 1, 2, 3].map((index) => sent.Successful?.find((entry) => entry.Id === String(index))?.MessageId ?? '');
    const poison = { MessageId: ids[0] };

    // The healthy messages were committed and deleted in the very batch the poison message failed in.
    await eventually('the healthy messages deleted', async () => {
      const { visible, inFlight } = await counts(queueUrl);
      return [0, 1, 2].every((i) => attempts.get(`{"key":"OK-${i}"}`) === 1) && visible + inFlight <= 1 ? true : undefined;
    });
    expect([...(scheduler.batches[0] ?? [])].sort()).toEqual([...ids].sort());

    const dead = await eventually(
      'the poison message in the DLQ',
      async () => {
        const { visible } = await counts(dlqUrl);
        return visible === 1 ? visible : undefined;
      },
      30_000,
    );
    expect(dead).toBe(1);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    expect(Messages?.map((m) => ({ id: m.MessageId, body: m.Body }))).toEqual([{ id: poison.MessageId, body: '{"key":"poison"}' }]);
    // Exactly maxReceiveCount attempts: each receive was handed to the scheduler, and none after the move.
    expect(attempts.get('{"key":"poison"}')).toBe(MAX_RECEIVE_COUNT);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    for (let i = 0; i < 3; i += 1) expect(attempts.get(`{"key":"OK-${i}"}`)).toBe(1);

    // The database and the scheduler were up all along: this was the message's own failure, not an outage.
    const intake = app.get(IntakeService);
    expect(intake.pausedReason).toBeUndefined();
    expect(intake.isRunning).toBe(true);
  });
});
