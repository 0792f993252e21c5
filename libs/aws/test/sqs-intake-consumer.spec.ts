import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { createSqsClient, SqsIntakeConsumer, type IntakeLogger, type IntakeMessage, type SqsIntakeOptions } from '../src';
import { freePort, startLocalSqs, type LocalSqsProcess } from './local-sqs-process';

jest.setTimeout(60_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a condition (not a performance assertion: the bound only keeps a broken build from hanging). */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}`);
  return value;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

class RecordingLogger implements IntakeLogger {
  readonly lines: string[] = [];
  log(msg: string): void {
    this.lines.push(`log ${msg}`);
  }
  warn(msg: string): void {
    this.lines.push(`warn ${msg}`);
  }
  error(msg: string): void {
    this.lines.push(`error ${msg}`);
  }
}

describe('SqsIntakeConsumer against local-sqs', () => {
  let localSqs: LocalSqsProcess;
  let sqs: SQSClient;
  let counter = 0;
  const consumers: SqsIntakeConsumer[] = [];

  beforeAll(async () => {
    localSqs = await startLocalSqs();
    sqs = createSqsClient({ region: 'us-east-1', endpoint: localSqs.endpoint });
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop({ drainTimeoutMs: 1_000 })));
  });

  afterAll(async () => {
    sqs.destroy();
    await localSqs.stop();
  });

  async function queues(maxReceiveCount = 3): Promise<{ queueUrl: string; dlqUrl: string }> {
    const n = ++counter;
    const dlqUrl = must((await sqs.send(new CreateQueueCommand({ QueueName: `intake-${n}-dlq` }))).QueueUrl, 'dlq url');
    const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:intake-${n}-dlq`, maxReceiveCount });
    const queueUrl = must((await sqs.send(new CreateQueueCommand({ QueueName: `intake-${n}`, Attributes: { RedrivePolicy } }))).QueueUrl, 'url');
    return { queueUrl, dlqUrl };
  }

  async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(out.Attributes?.ApproximateNumberOfMessages), inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible) };
  }

  async function send(queueUrl: string, body: string): Promise<string> {
    return must((await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))).MessageId, 'MessageId');
  }

  function consumer(options: Partial<SqsIntakeOptions> & Pick<SqsIntakeOptions, 'queueUrl' | 'handle'>): SqsIntakeConsumer {
    const c = new SqsIntakeConsumer({ sqs, waitTimeSeconds: 1, logger: new RecordingLogger(), ...options });
    consumers.push(c);
    return c;
  }

  it('hands the message to the handler and deletes it after success', async () => {
    const { queueUrl } = await queues();
    const seen: IntakeMessage[] = [];
    const c = consumer({ queueUrl, handle: async (m) => void seen.push(m) });
    const before = new Date();
    c.start();
    expect(c.isRunning).toBe(true);
    const messageId = await send(queueUrl, '{"ticket":"T-1"}');

    await waitFor('the message to be handled and deleted', async () => seen.length === 1 && c.inFlight === 0 && (await counts(queueUrl)).inFlight === 0);
    expect(seen[0]).toMatchObject({ messageId, body: '{"ticket":"T-1"}', receiveCount: 1 });
    expect(must(seen[0], 'message').receivedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(c.lastReceiveError).toBeNull();
  });

  it('leaves a message whose handler failed on the queue; it is re-delivered with a higher receive count', async () => {
    const { queueUrl } = await queues();
    const logger = new RecordingLogger();
    const receiveCounts: number[] = [];
    const c = consumer({
      queueUrl,
      logger,
      visibilityTimeoutSeconds: 1,
      heartbeatIntervalSeconds: 0.5,
      handle: async (m) => {
        receiveCounts.push(m.receiveCount);
        if (m.receiveCount === 1) throw new Error('scheduler unavailable');
      },
    });
    c.start();
    const messageId = await send(queueUrl, 'retry me');

    await waitFor('the second delivery to succeed', async () => receiveCounts.length === 2 && c.inFlight === 0);
    expect(receiveCounts).toEqual([1, 2]);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(logger.lines).toContainEqual(expect.stringMatching(new RegExp(`^error .*handler failed for message ${messageId} \\(receive 1\\): scheduler unavailable`)));
    expect(c.isRunning).toBe(true);
  });

  it('lets a message that keeps failing end up in the dead-letter queue after maxReceiveCount', async () => {
    const { queueUrl, dlqUrl } = await queues(2);
    let attempts = 0;
    const c = consumer({
      queueUrl,
      visibilityTimeoutSeconds: 1,
      heartbeatIntervalSeconds: 0.5,
      handle: async () => {
        attempts += 1;
        throw new Error('poison');
      },
    });
    c.start();
    const messageId = await send(queueUrl, 'poison message');

    await waitFor('the message to reach the DLQ', async () => (await counts(dlqUrl)).visible === 1);
    expect(attempts).toBe(2);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl }));
    expect(dead.Messages?.[0]).toMatchObject({ MessageId: messageId, Body: 'poison message' });
  });

  it('extends visibility while a slow handler runs past the visibility timeout, so nobody else gets the message', async () => {
    const { queueUrl } = await queues();
    const release = deferred();
    let calls = 0;
    const c = consumer({
      queueUrl,
      visibilityTimeoutSeconds: 1,
      heartbeatIntervalSeconds: 0.3,
      handle: async () => {
        calls += 1;
        await release.promise;
      },
    });
    c.start();
    await send(queueUrl, 'slow work');
    await waitFor('the handler to start', () => calls === 1);

    // Three times the visibility timeout: without heartbeats the message would be visible to this receive.
    const competitor = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 3 }));
    expect(competitor.Messages ?? []).toEqual([]);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 1 });

    release.resolve();
    await waitFor('the message to be deleted', async () => c.inFlight === 0 && (await counts(queueUrl)).inFlight === 0);
    expect(calls).toBe(1);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('stop() stops receiving and resolves only after the in-flight handler finished and its message was deleted', async () => {
    const { queueUrl } = await queues();
    const release = deferred();
    const handled: string[] = [];
    const c = consumer({
      queueUrl,
      waitTimeSeconds: 20,
      handle: async (m) => {
        await release.promise;
        handled.push(m.body);
      },
    });
    c.start();
    await send(queueUrl, 'in flight');
    await waitFor('the handler to start', () => c.inFlight === 1);

    let stopped = false;
    const stopping = c.stop().then(() => {
      stopped = true;
    });
    expect(c.isRunning).toBe(false);
    await sleep(300);
    expect(stopped).toBe(false);

    release.resolve();
    await stopping;
    expect(handled).toEqual(['in flight']);
    expect(c.inFlight).toBe(0);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });

    // The long poll was aborted, so a message sent now stays for the next consumer.
    await send(queueUrl, 'after stop');
    await sleep(300);
    expect(await counts(queueUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(handled).toEqual(['in flight']);
  });

  it('stop() gives up waiting after drainTimeoutMs', async () => {
    const { queueUrl } = await queues();
    const release = deferred();
    const logger = new RecordingLogger();
    const c = consumer({ queueUrl, logger, handle: () => release.promise });
    c.start();
    await send(queueUrl, 'stuck');
    await waitFor('the handler to start', () => c.inFlight === 1);

    await c.stop({ drainTimeoutMs: 200 });
    expect(c.inFlight).toBe(1);
    expect(logger.lines).toContainEqual(expect.stringMatching(/^warn .*1 handler\(s\) still running after 200 ms/));
    release.resolve();
    await waitFor('the handler to finish', () => c.inFlight === 0);
  });

  it('survives an unreachable endpoint, reports it via lastReceiveError, and recovers when the endpoint comes up', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const down = createSqsClient({ region: 'us-east-1', endpoint });
    const logger = new RecordingLogger();
    const handled: string[] = [];
    const c = new SqsIntakeConsumer({
      sqs: down,
      queueUrl: `${endpoint}/000000000000/late-queue`,
      waitTimeSeconds: 1,
      logger,
      handle: async (m) => void handled.push(m.body),
    });
    consumers.push(c);
    c.start();

    await waitFor('a receive error', () => c.lastReceiveError !== null);
    expect(c.lastReceiveError?.message).toMatch(/ECONNREFUSED|connect/i);
    expect(c.isRunning).toBe(true);
    expect(logger.lines[0]).toMatch(/^error SQS intake: receive from .* failed \(attempt 1\)/);

    const late = await startLocalSqs(port);
    try {
      const queueUrl = must((await down.send(new CreateQueueCommand({ QueueName: 'late-queue' }))).QueueUrl, 'url');
      await down.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'finally' }));
      await waitFor('the consumer to recover and handle the message', () => handled.length === 1, 45_000);
      expect(handled).toEqual(['finally']);
      expect(c.lastReceiveError).toBeNull();
      expect(logger.lines).toContainEqual(expect.stringMatching(/^log SQS intake: receiving again after \d+ failed attempt/));
    } finally {
      await c.stop({ drainTimeoutMs: 1_000 });
      down.destroy();
      await late.stop();
    }
  });
});

describe('SqsIntakeConsumer edge cases (mocked client)', () => {
  const queueUrl = 'http://127.0.0.1:1/000000000000/mocked';

  it('releases messages that arrive after stop() was requested instead of handling them', async () => {
    const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    const handle = jest.fn(async () => undefined);
    const c = new SqsIntakeConsumer({ sqs: client, queueUrl, handle, logger: new RecordingLogger() });
    let stopping: Promise<void> | undefined;
    mock.on(ReceiveMessageCommand).callsFake(async () => {
      // The race sqs-consumer loses: stop() lands while a receive is about to return messages.
      stopping = c.stop();
      return { Messages: [{ MessageId: 'm-1', ReceiptHandle: 'rh-1', Body: 'late', Attributes: { ApproximateReceiveCount: '1' } }] };
    });
    mock.on(ChangeMessageVisibilityCommand).resolves({});
    c.start();
    await waitFor('stop() to be requested', () => stopping !== undefined);
    await stopping;

    expect(handle).not.toHaveBeenCalled();
    expect(mock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: queueUrl, ReceiptHandle: 'rh-1', VisibilityTimeout: 0 },
    ]);
    expect(mock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    client.destroy();
  });

  it('logs a failed delete after a successful handler and keeps running', async () => {
    const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    let receives = 0;
    mock.on(ReceiveMessageCommand).callsFake(async () => {
      receives += 1;
      if (receives === 1) return { Messages: [{ MessageId: 'm-2', ReceiptHandle: 'rh-2', Body: 'ok', Attributes: { ApproximateReceiveCount: '3' } }] };
      // Behave like an empty long poll; an instant mock reply would spin the loop without ever yielding to timers.
      await sleep(50);
      return {};
    });
    mock.on(DeleteMessageCommand).rejects(new Error('connection reset'));
    const logger = new RecordingLogger();
    const seen: IntakeMessage[] = [];
    const c = new SqsIntakeConsumer({ sqs: client, queueUrl, logger, handle: async (m) => void seen.push(m) });
    c.start();
    await waitFor('the delete attempt', () => mock.commandCalls(DeleteMessageCommand).length === 1 && c.inFlight === 0);
    expect(seen[0]?.receiveCount).toBe(3);
    expect(c.isRunning).toBe(true);
    expect(logger.lines).toContainEqual('error SQS intake: message m-2 was handled but could not be deleted: connection reset; it will be delivered again');
    await c.stop();
    client.destroy();
  });

  it('rejects option combinations sqs-consumer also rejects', () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const handle = async (): Promise<void> => undefined;
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, visibilityTimeoutSeconds: 10, heartbeatIntervalSeconds: 10 })).toThrow(RangeError);
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, batchSize: 11 })).toThrow(RangeError);
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, waitTimeSeconds: 21 })).toThrow(RangeError);
    client.destroy();
  });
});

describe('createSqsClient', () => {
  async function accessKeyOf(client: SQSClient): Promise<string | undefined> {
    const provider = client.config.credentials;
    try {
      return (await provider()).accessKeyId;
    } catch {
      return undefined;
    }
  }

  it('signs with dummy credentials for a local endpoint when the environment has none', async () => {
    const client = createSqsClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9324' }, {});
    expect(await accessKeyOf(client)).toBe('local');
    expect(await client.config.region()).toBe('us-east-1');
    client.destroy();
  });

  it('prefers explicit credentials, and never substitutes dummies when the environment names a credential source', async () => {
    const explicit = createSqsClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9324', credentials: { accessKeyId: 'AKIAEXPLICIT', secretAccessKey: 's' } }, {});
    expect(await accessKeyOf(explicit)).toBe('AKIAEXPLICIT');
    explicit.destroy();

    const fromEnv = createSqsClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9324' }, { AWS_PROFILE: 'dev' });
    expect(await accessKeyOf(fromEnv)).not.toBe('local');
    fromEnv.destroy();
  });
});
