import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  BatchEntryIdsNotDistinct,
  type Message,
} from '@aws-sdk/client-sqs';
import { LocalSqsServer } from '../src';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}`);
  return value;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('LocalSqsServer with the real @aws-sdk/client-sqs', () => {
  let server: LocalSqsServer;
  let endpoint: string;
  let sqs: SQSClient;
  let counter = 0;

  beforeAll(async () => {
    server = new LocalSqsServer({ port: 0 });
    ({ endpoint } = await server.start());
    sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials });
  });

  afterAll(async () => {
    sqs.destroy();
    await server.stop();
  });

  async function newQueue(attributes?: Record<string, string>, name = `q-${++counter}`): Promise<string> {
    const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return must(out.QueueUrl, 'QueueUrl');
  }

  async function receive(queueUrl: string, extra: { wait?: number; max?: number; visibility?: number } = {}): Promise<Message[]> {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: extra.max ?? 10,
        WaitTimeSeconds: extra.wait ?? 0,
        VisibilityTimeout: extra.visibility,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return out.Messages ?? [];
  }

  async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return {
      visible: Number(must(out.Attributes?.ApproximateNumberOfMessages, 'ApproximateNumberOfMessages')),
      inFlight: Number(must(out.Attributes?.ApproximateNumberOfMessagesNotVisible, 'ApproximateNumberOfMessagesNotVisible')),
    };
  }

  it('hands out queue URLs under the account path and resolves them with GetQueueUrl', async () => {
    const url = await newQueue(undefined, 'named-queue');
    expect(url).toBe(`${endpoint}/000000000000/named-queue`);
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName: 'named-queue' }));
    expect(out.QueueUrl).toBe(url);
  });

  it('reports a missing queue as the SDK typed QueueDoesNotExist error', async () => {
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: `${endpoint}/000000000000/no-such-queue`, MessageBody: 'x' })),
    ).rejects.toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
  });

  it('sends, receives and deletes a message; the SDK body MD5 checks pass', async () => {
    const url = await newQueue();
    const body = JSON.stringify({ ticket: 'T-1', text: 'grüße 🚀' });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);

    const [msg, ...rest] = await receive(url);
    expect(rest).toHaveLength(0);
    expect(must(msg, 'message')).toMatchObject({ MessageId: sent.MessageId, Body: body, MD5OfBody: sent.MD5OfMessageBody });
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 1 });

    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: must(msg?.ReceiptHandle, 'ReceiptHandle') }));
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('is checked by the SDK MD5 middleware (a client hashing differently rejects our response)', async () => {
    const url = await newQueue();
    class WrongMd5 {
      update(): void {
        /* ignores input so the digest cannot match the server's */
      }
      async digest(): Promise<Uint8Array> {
        return new Uint8Array(16);
      }
    }
    const skeptical = new SQSClient({ region: 'us-east-1', endpoint, credentials, md5: WrongMd5 });
    try {
      await expect(skeptical.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hello' }))).rejects.toThrow('InvalidChecksumError');
    } finally {
      skeptical.destroy();
    }
  });

  it('passes message attributes through with their MD5', async () => {
    const url = await newQueue();
    const MessageAttributes = {
      kind: { DataType: 'String', StringValue: 'ticket' },
      priority: { DataType: 'Number', StringValue: '3' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3, 250]) },
    };
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'with attributes', MessageAttributes }));
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    const [msg] = await receive(url);
    expect(msg?.MessageAttributes?.['kind']).toEqual({ DataType: 'String', StringValue: 'ticket' });
    expect(msg?.MessageAttributes?.['priority']).toEqual({ DataType: 'Number', StringValue: '3' });
    expect(Array.from(must(msg?.MessageAttributes?.['blob']?.BinaryValue, 'BinaryValue'))).toEqual([1, 2, 3, 250]);
    expect(msg?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
  });

  it('sends and deletes in batches, reporting per-entry failures', async () => {
    const url = await newQueue();
    const Entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` }));
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    expect(sent.Successful).toHaveLength(10);
    expect(sent.Failed ?? []).toHaveLength(0);

    const received = await receive(url, { max: 10 });
    expect(received.map((m) => m.Body).sort()).toEqual(Entries.map((e) => e.MessageBody).sort());

    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          ...received.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: must(m.ReceiptHandle, 'ReceiptHandle') })),
        ].slice(0, 9)
          .concat([{ Id: 'bad', ReceiptHandle: 'not-a-receipt-handle' }]),
      }),
    );
    expect(deleted.Successful).toHaveLength(9);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 1 });

    await expect(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'x' }, { Id: 'a', MessageBody: 'y' }] })),
    ).rejects.toBeInstanceOf(BatchEntryIdsNotDistinct);
  });

  it('rejects a malformed receipt handle with the typed error', async () => {
    const url = await newQueue();
    await expect(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' }))).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it('long polling returns as soon as a message arrives', async () => {
    const url = await newQueue();
    const startedAt = Date.now();
    const polling = receive(url, { wait: 20 });
    await sleep(300);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late arrival' }));
    const messages = await polling;
    expect(messages.map((m) => m.Body)).toEqual(['late arrival']);
    // Functional, not a benchmark: a poll that waited out its 20 s would be far beyond this bound.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it('long polling returns empty once the wait time has passed', async () => {
    const url = await newQueue();
    const startedAt = Date.now();
    expect(await receive(url, { wait: 1 })).toEqual([]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(950);
  });

  it('hides a received message for the visibility timeout, then re-delivers it with a new receipt handle', async () => {
    const url = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
    const [first] = await receive(url, { visibility: 1 });
    expect(first?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(await receive(url)).toEqual([]);

    const [second] = await receive(url, { wait: 5, visibility: 30 });
    expect(second?.MessageId).toBe(first?.MessageId);
    expect(second?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(second?.Attributes?.ApproximateFirstReceiveTimestamp).toBe(first?.Attributes?.ApproximateFirstReceiveTimestamp);
    expect(second?.Attributes?.SentTimestamp).toBe(first?.Attributes?.SentTimestamp);
    expect(second?.ReceiptHandle).not.toBe(first?.ReceiptHandle);

    // A stale handle "succeeds" without deleting (SQS semantics); the latest handle deletes.
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: must(first?.ReceiptHandle, 'first handle') }));
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 1 });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: must(second?.ReceiptHandle, 'second handle') }));
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('ChangeMessageVisibility extends the timeout, and 0 releases the message at once', async () => {
    const url = await newQueue();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'extend me' }));
    const [msg] = await receive(url, { visibility: 1 });
    const ReceiptHandle = must(msg?.ReceiptHandle, 'ReceiptHandle');
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle, VisibilityTimeout: 30 }));
    // Past the original 1 s timeout the message is still hidden.
    expect(await receive(url, { wait: 2 })).toEqual([]);

    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: [{ Id: 'r', ReceiptHandle, VisibilityTimeout: 0 }] }));
    const [released] = await receive(url);
    expect(released?.MessageId).toBe(msg?.MessageId);
    expect(released?.Attributes?.ApproximateReceiveCount).toBe('2');

    // The old handle is now stale.
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle, VisibilityTimeout: 5 }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  it('moves a message to the dead-letter queue instead of delivering it beyond maxReceiveCount', async () => {
    const dlqUrl = await newQueue();
    const dlqArn = must(
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn,
      'QueueArn',
    );
    expect(dlqArn).toMatch(/^arn:aws:sqs:us-east-1:000000000000:q-\d+$/);
    const redrive = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 });
    const url = await newQueue({ RedrivePolicy: redrive });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));

    for (const expected of ['1', '2']) {
      const [msg] = await receive(url, { visibility: 0 });
      expect(msg?.Attributes?.ApproximateReceiveCount).toBe(expected);
    }
    expect(await receive(url)).toEqual([]);
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });

    const [dead] = await receive(dlqUrl);
    expect(dead).toMatchObject({ MessageId: sent.MessageId, Body: 'poison' });

    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(JSON.parse(must(attrs.Attributes?.RedrivePolicy, 'RedrivePolicy'))).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 });
  });

  it('rejects a RedrivePolicy whose dead-letter queue does not exist', async () => {
    await expect(
      newQueue({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:missing', maxReceiveCount: 3 }) }),
    ).rejects.toMatchObject({ name: 'InvalidAttributeValue' });
  });

  it('creates queues idempotently, but not with different attributes', async () => {
    const url = await newQueue({ VisibilityTimeout: '45' }, 'idempotent');
    expect(await newQueue({ VisibilityTimeout: '45' }, 'idempotent')).toBe(url);
    expect(await newQueue(undefined, 'idempotent')).toBe(url);
    await expect(newQueue({ VisibilityTimeout: '10' }, 'idempotent')).rejects.toBeInstanceOf(QueueNameExists);
  });

  it('uses the queue VisibilityTimeout attribute and lets SetQueueAttributes change it', async () => {
    const url = await newQueue({ VisibilityTimeout: '0' });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'm' }));
    expect(await receive(url)).toHaveLength(1);
    expect(await receive(url)).toHaveLength(1);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '60' } }));
    expect(await receive(url)).toHaveLength(1);
    expect(await receive(url)).toHaveLength(0);
  });

  it('lists and purges queues', async () => {
    const url = await newQueue(undefined, 'listed-and-purged');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'm' }));
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'listed-' }));
    expect(listed.QueueUrls).toEqual([url]);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect(await counts(url)).toEqual({ visible: 0, inFlight: 0 });
  });

  describe('raw protocol', () => {
    async function post(path: string, target: string | undefined, body: string): Promise<{ status: number; json: unknown; queryError: string | null }> {
      const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.0' };
      if (target !== undefined) headers['x-amz-target'] = target;
      const res = await fetch(`${endpoint}${path}`, { method: 'POST', headers, body });
      return { status: res.status, json: await res.json(), queryError: res.headers.get('x-amzn-query-error') };
    }

    it('answers an unknown action with a 400 and a __type', async () => {
      const res = await post('/', 'AmazonSQS.FlyToTheMoon', '{}');
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ __type: 'com.amazon.coral.service#UnknownOperationException' });
      expect(res.queryError).toBe('InvalidAction;Sender');
    });

    it('answers bad JSON with a 400 and keeps serving', async () => {
      const res = await post('/', 'AmazonSQS.ListQueues', '{not json');
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ __type: 'com.amazon.coral.service#SerializationException' });
      expect((await post('/', 'AmazonSQS.ListQueues', '{}')).status).toBe(200);
    });

    it('sends QueueDoesNotExist in both the body and the query-compatible header', async () => {
      const res = await post('/', 'AmazonSQS.GetQueueUrl', '{"QueueName":"nope"}');
      expect(res).toEqual({
        status: 400,
        json: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
        queryError: 'AWS.SimpleQueueService.NonExistentQueue;Sender',
      });
    });

    it('accepts the queue URL as the request path', async () => {
      const url = await newQueue(undefined, 'by-path');
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'm' }));
      const res = await post('/000000000000/by-path', 'AmazonSQS.GetQueueAttributes', '{"AttributeNames":["ApproximateNumberOfMessages"]}');
      expect(res).toMatchObject({ status: 200, json: { Attributes: { ApproximateNumberOfMessages: '1' } } });
    });
  });

  it('stop() ends pending long polls instead of waiting them out', async () => {
    const other = new LocalSqsServer({ port: 0 });
    const started = await other.start();
    const client = new SQSClient({ region: 'us-east-1', endpoint: started.endpoint, credentials, maxAttempts: 1 });
    try {
      const url = must((await client.send(new CreateQueueCommand({ QueueName: 'stopping' }))).QueueUrl, 'QueueUrl');
      const polling = client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 })).then(
        (out) => out.Messages ?? [],
        () => [],
      );
      await sleep(200);
      const stoppedAt = Date.now();
      await other.stop();
      expect(await polling).toEqual([]);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    } finally {
      client.destroy();
    }
  });
});
