import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
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

/** What an instrumented client sent: calls by command, the inputs of the batch calls, and receives still waiting. */
interface ClientTrace {
  calls: Map<string, number>;
  inputs: Array<{ command: string; input: unknown }>;
  receivesOutstanding(): number;
  /** Runs before each command is sent, e.g. to spoil one entry of a batch. */
  beforeSend?: (command: string, input: Record<string, unknown>) => void;
}

/** A real client to local-sqs that records what it sends (an SDK middleware: the requests still go over HTTP). */
function tracedClient(endpoint: string): { client: SQSClient; trace: ClientTrace } {
  const client = createSqsClient({ region: 'us-east-1', endpoint });
  let outstanding = 0;
  const trace: ClientTrace = { calls: new Map(), inputs: [], receivesOutstanding: () => outstanding };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '?';
      const input = args.input as Record<string, unknown>;
      trace.beforeSend?.(command, input);
      trace.calls.set(command, (trace.calls.get(command) ?? 0) + 1);
      if (command !== 'ReceiveMessageCommand') trace.inputs.push({ command, input: structuredClone(input) });
      if (command === 'ReceiveMessageCommand') outstanding += 1;
      try {
        return await next(args);
      } finally {
        if (command === 'ReceiveMessageCommand') outstanding -= 1;
      }
    },
    { step: 'initialize', name: 'traceCommands' },
  );
  return { client, trace };
}

function entriesOf(input: unknown): Array<{ ReceiptHandle?: string }> {
  const entries = (input as { Entries?: unknown }).Entries;
  return Array.isArray(entries) ? (entries as Array<{ ReceiptHandle?: string }>) : [];
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

  /** Up to ten bodies in one SendMessageBatch, so that one receive can take them all; their MessageIds in order. */
  async function sendBatch(queueUrl: string, bodies: string[]): Promise<string[]> {
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((MessageBody, index) => ({ Id: String(index), MessageBody })) }));
    expect(out.Failed ?? []).toEqual([]);
    return bodies.map((_, index) => must(out.Successful?.find((entry) => entry.Id === String(index))?.MessageId, 'MessageId'));
  }

  /** A consumer on its own traced client; destroyed with the consumers after the test. */
  const tracedClients: SQSClient[] = [];
  afterEach(() => {
    for (const client of tracedClients.splice(0)) client.destroy();
  });
  function traced(): { client: SQSClient; trace: ClientTrace } {
    const made = tracedClient(localSqs.endpoint);
    tracedClients.push(made.client);
    return made;
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
    const { client, trace } = traced();
    const release = deferred();
    let calls = 0;
    const c = consumer({
      sqs: client,
      queueUrl,
      visibilityTimeoutSeconds: 2,
      // Four renewals per timeout: a heartbeat may come 1.5 s late on a loaded machine and still be in time.
      heartbeatIntervalSeconds: 0.5,
      handle: async () => {
        calls += 1;
        await release.promise;
      },
    });
    c.start();
    await send(queueUrl, 'slow work');
    await waitFor('the handler to start', () => calls === 1);

    // Six renewals at 0.5 s each reach past the first visibility timeout: without them the message would be visible.
    await waitFor('six heartbeats', () => (trace.calls.get('ChangeMessageVisibilityBatchCommand') ?? 0) >= 6);
    const competitor = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    expect(competitor.Messages ?? []).toEqual([]);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 1 });
    expect(trace.calls.get('ChangeMessageVisibilityCommand')).toBeUndefined();

    release.resolve();
    await waitFor('the message to be deleted', async () => c.inFlight === 0 && (await counts(queueUrl)).inFlight === 0);
    expect(calls).toBe(1);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('stop() stops receiving and resolves only after the in-flight handler finished and its message was deleted', async () => {
    const { queueUrl } = await queues();
    const { client, trace } = traced();
    const release = deferred();
    const handled: string[] = [];
    const c = consumer({
      sqs: client,
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
    // Every long poll has come back aborted: all stop() has left to wait for is the handler.
    await waitFor('the long polls to be aborted', () => trace.receivesOutstanding() === 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);

    release.resolve();
    await stopping;
    expect(handled).toEqual(['in flight']);
    expect(c.inFlight).toBe(0);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });

    // No long poll is waiting any more, so a message sent now stays for the next consumer.
    expect(trace.receivesOutstanding()).toBe(0);
    const receives = trace.calls.get('ReceiveMessageCommand');
    await send(queueUrl, 'after stop');
    expect(await counts(queueUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(trace.calls.get('ReceiveMessageCommand')).toBe(receives);
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

  it('deletes the messages of a receive in one DeleteMessageBatch; an entry that fails comes back and is handled again', async () => {
    const { queueUrl } = await queues();
    const { client, trace } = traced();
    const logger = new RecordingLogger();
    const seen: Array<{ body: string; receiveCount: number }> = [];
    const ids = await sendBatch(queueUrl, ['one', 'two', 'three']);
    // The first delete of "two" goes out with a broken receipt handle: SQS fails that entry and deletes the others.
    let spoiled = false;
    trace.beforeSend = (command, input) => {
      if (command !== 'DeleteMessageBatchCommand' || spoiled) return;
      const entries = entriesOf(input);
      const index = entries.findIndex((entry) => Buffer.from(entry.ReceiptHandle ?? '', 'base64url').toString('utf8').startsWith(`${ids[1]}:`));
      const entry = entries[index];
      if (!entry) return;
      entry.ReceiptHandle = 'not-a-receipt-handle';
      spoiled = true;
    };
    const c = consumer({
      sqs: client,
      queueUrl,
      logger,
      visibilityTimeoutSeconds: 1,
      heartbeatIntervalSeconds: 0.5,
      handleBatch: async (messages) => {
        seen.push(...messages.map((m) => ({ body: m.body, receiveCount: m.receiveCount })));
        return messages.map(() => ({ ok: true }));
      },
    });
    c.start();

    await waitFor('"two" to be handled a second time and every message deleted', async () => seen.length === 4 && (await counts(queueUrl)).inFlight === 0);
    expect(spoiled).toBe(true);
    expect(seen.slice(0, 3).map((m) => m.body).sort()).toEqual(['one', 'three', 'two']);
    expect(seen[3]).toEqual({ body: 'two', receiveCount: 2 });
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    const deletes = trace.inputs.filter((call) => call.command === 'DeleteMessageBatchCommand').map((call) => entriesOf(call.input).length);
    expect(deletes).toEqual([3, 1]);
    expect(trace.calls.get('DeleteMessageCommand')).toBeUndefined();
    expect(logger.lines).toContainEqual(
      expect.stringMatching(new RegExp(`^error SQS intake: message ${ids[1]} was handled but could not be deleted: ReceiptHandleIsInvalid.*it will be delivered again`)),
    );
  });

  it('deletes the neighbours of a message that failed in its batch at once; the failed one cycles to the dead-letter queue', async () => {
    const { queueUrl, dlqUrl } = await queues(2);
    const attempts = new Map<string, number>();
    const c = consumer({
      queueUrl,
      visibilityTimeoutSeconds: 1,
      heartbeatIntervalSeconds: 0.5,
      handleBatch: async (messages) =>
        messages.map((m) => {
          attempts.set(m.body, (attempts.get(m.body) ?? 0) + 1);
          return m.body === 'poison' ? { ok: false, error: new Error('cannot commit') } : { ok: true };
        }),
    });
    await sendBatch(queueUrl, ['a', 'poison', 'b']);
    c.start();

    await waitFor('the neighbours to be deleted', async () => attempts.get('a') === 1 && attempts.get('b') === 1 && (await counts(queueUrl)).inFlight <= 1);
    await waitFor('the poison message in the DLQ', async () => (await counts(dlqUrl)).visible === 1);
    expect(Object.fromEntries(attempts)).toEqual({ a: 1, poison: 2, b: 1 });
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('renews the visibility of a receive in one ChangeMessageVisibilityBatch, for the messages still being handled', async () => {
    const { queueUrl } = await queues();
    const { client, trace } = traced();
    const releases = new Map<string, () => void>();
    const c = consumer({
      sqs: client,
      queueUrl,
      visibilityTimeoutSeconds: 2,
      heartbeatIntervalSeconds: 0.5,
      handle: (m) => new Promise<void>((resolve) => releases.set(m.body, resolve)),
    });
    await sendBatch(queueUrl, ['x', 'y', 'z']);
    c.start();
    await waitFor('three handlers to start', () => releases.size === 3);
    const heartbeats = (): number[] => trace.inputs.filter((call) => call.command === 'ChangeMessageVisibilityBatchCommand').map((call) => entriesOf(call.input).length);

    try {
      await waitFor('a heartbeat', () => heartbeats().length >= 1);
      expect(heartbeats()[0]).toBe(3);
      releases.get('x')?.();
      await waitFor('x to be deleted', () => c.inFlight === 2);
      const before = heartbeats().length;
      await waitFor('the next heartbeat', () => heartbeats().length > before);
      expect(heartbeats().at(-1)).toBe(2);
      expect(trace.calls.get('ChangeMessageVisibilityCommand')).toBeUndefined();
    } finally {
      // Also when an expectation failed: a handler left waiting would keep its heartbeat timer alive past the test.
      for (const release of releases.values()) release();
    }
    await waitFor('every message deleted', async () => c.inFlight === 0 && (await counts(queueUrl)).inFlight === 0);
  });

  it('holds at most maxInFlight messages, over several receive loops, and parks the loops while it is full', async () => {
    const { queueUrl } = await queues();
    const { client, trace } = traced();
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    let handled = 0;
    const c = consumer({
      sqs: client,
      queueUrl,
      maxInFlight: 12,
      batchSize: 5,
      handle: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await gate.promise;
        running -= 1;
        handled += 1;
      },
    });
    for (let first = 0; first < 40; first += 10) {
      await sendBatch(queueUrl, Array.from({ length: 10 }, (_, index) => `m-${first + index}`));
    }
    c.start();

    try {
      await waitFor('the limit to be reached', () => c.inFlight === 12);
      // Full: no loop is polling, so nothing more can be taken until a message is done.
      await waitFor('every loop to park', () => trace.receivesOutstanding() === 0);
      expect(await counts(queueUrl)).toEqual({ visible: 28, inFlight: 12 });
      expect(running).toBe(12);
    } finally {
      gate.resolve();
    }
    await waitFor('all 40 handled and deleted', async () => handled === 40 && c.inFlight === 0 && (await counts(queueUrl)).inFlight === 0);
    expect(maxRunning).toBe(12);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
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
    mock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [] });
    c.start();
    await waitFor('stop() to be requested', () => stopping !== undefined);
    await stopping;

    expect(handle).not.toHaveBeenCalled();
    expect(mock.commandCalls(ChangeMessageVisibilityBatchCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: queueUrl, Entries: [{ Id: '0', ReceiptHandle: 'rh-1', VisibilityTimeout: 0 }] },
    ]);
    expect(mock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
    expect(c.inFlight).toBe(0);
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
    mock.on(DeleteMessageBatchCommand).rejects(new Error('connection reset'));
    const logger = new RecordingLogger();
    const seen: IntakeMessage[] = [];
    const c = new SqsIntakeConsumer({ sqs: client, queueUrl, logger, handle: async (m) => void seen.push(m) });
    c.start();
    await waitFor('the delete attempt', () => mock.commandCalls(DeleteMessageBatchCommand).length === 1 && c.inFlight === 0);
    expect(seen[0]?.receiveCount).toBe(3);
    expect(c.isRunning).toBe(true);
    expect(logger.lines).toContainEqual('error SQS intake: message m-2 was handled but could not be deleted: connection reset; it will be delivered again');
    await c.stop();
    client.destroy();
  });

  it('retries once an entry that failed on SQS\'s side, and logs the one that fails again', async () => {
    const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    let receives = 0;
    mock.on(ReceiveMessageCommand).callsFake(async () => {
      receives += 1;
      if (receives === 1) {
        return { Messages: ['a', 'b', 'c'].map((id) => ({ MessageId: `m-${id}`, ReceiptHandle: `rh-${id}`, Body: id, Attributes: { ApproximateReceiveCount: '1' } })) };
      }
      await sleep(50);
      return {};
    });
    const internal = { SenderFault: false, Code: 'InternalError', Message: 'try again' };
    mock
      .on(DeleteMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: '0' }], Failed: [{ Id: '1', ...internal }, { Id: '2', ...internal }] })
      .resolvesOnce({ Successful: [{ Id: '0' }], Failed: [{ Id: '1', ...internal }] });
    const logger = new RecordingLogger();
    const c = new SqsIntakeConsumer({ sqs: client, queueUrl, logger, handleBatch: async (messages) => messages.map(() => ({ ok: true })) });
    c.start();
    await waitFor('the deletes', () => mock.commandCalls(DeleteMessageBatchCommand).length === 2 && c.inFlight === 0);
    expect(mock.commandCalls(DeleteMessageBatchCommand).map((call) => call.args[0].input.Entries?.map((entry) => entry.ReceiptHandle))).toEqual([
      ['rh-a', 'rh-b', 'rh-c'],
      ['rh-b', 'rh-c'],
    ]);
    expect(logger.lines.filter((line) => line.includes('could not be deleted'))).toEqual([
      'error SQS intake: message m-c was handled but could not be deleted: InternalError: try again; it will be delivered again',
    ]);
    await c.stop();
    client.destroy();
  });

  it('rejects option combinations sqs-consumer also rejects', () => {
    const client = new SQSClient({ region: 'us-east-1' });
    const handle = async (): Promise<void> => undefined;
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, visibilityTimeoutSeconds: 10, heartbeatIntervalSeconds: 10 })).toThrow(RangeError);
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, batchSize: 11 })).toThrow(RangeError);
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, waitTimeSeconds: 21 })).toThrow(RangeError);
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, maxInFlight: 0 })).toThrow(RangeError);
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl })).toThrow(TypeError);
    expect(() => new SqsIntakeConsumer({ sqs: client, queueUrl, handle, handleBatch: async () => [] })).toThrow(TypeError);
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
