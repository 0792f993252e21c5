import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface IntakeMessage {
  messageId: string;
  body: string;
  /** When this consumer received this delivery. */
  receivedAt: Date;
  /** SQS ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
}

export interface IntakeLogger {
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface SqsIntakeOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Resolve ⇒ the message is deleted. Throw ⇒ it stays and comes back after its visibility timeout. */
  handle: (message: IntakeMessage) => Promise<void>;
  /** Whole seconds, 1..43200 (default 60): how long a received message stays hidden without a heartbeat. */
  visibilityTimeoutSeconds?: number;
  /** Seconds (fractions allowed), less than the visibility timeout (default 20): how often visibility is renewed. */
  heartbeatIntervalSeconds?: number;
  /** Messages handled concurrently, 1..10 (default 5). */
  batchSize?: number;
  /** Long-poll wait, 0..20 seconds (default 20). */
  waitTimeSeconds?: number;
  logger?: IntakeLogger;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

const consoleLogger: IntakeLogger = {
  log: (msg) => console.log(msg),
  warn: (msg) => console.warn(msg),
  error: (msg) => console.error(msg),
};

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function explain(err: unknown): string {
  const error = toError(err);
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`SqsIntakeConsumer: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/**
 * Long-polls one SQS queue and hands each message to `handle`, following bbc/sqs-consumer's loop: delete only
 * after the handler succeeded, renew visibility while it runs, keep polling through handler and connection errors
 * (the latter with exponential backoff). Unlike sqs-consumer, stopping aborts only the receive, never the
 * deletes and heartbeats of handlers that are finishing, and `stop()` resolves when they are done.
 */
export class SqsIntakeConsumer {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly handle: (message: IntakeMessage) => Promise<void>;
  private readonly visibilityTimeoutSeconds: number;
  private readonly heartbeatIntervalMs: number;
  private readonly batchSize: number;
  private readonly waitTimeSeconds: number;
  private readonly logger: IntakeLogger;

  private running = false;
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private receiveAbort: AbortController | undefined;
  private wakeFromBackoff: (() => void) | undefined;
  private readonly handlers = new Set<Promise<void>>();
  private receiveError: Error | null = null;
  private consecutiveReceiveFailures = 0;

  constructor(options: SqsIntakeOptions) {
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
    this.handle = options.handle;
    this.visibilityTimeoutSeconds = checkInteger('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds ?? 60, 1, 43200);
    const heartbeat = options.heartbeatIntervalSeconds ?? 20;
    if (!(heartbeat > 0 && heartbeat < this.visibilityTimeoutSeconds)) {
      throw new RangeError(
        `SqsIntakeConsumer: heartbeatIntervalSeconds (${heartbeat}) must be positive and less than visibilityTimeoutSeconds (${this.visibilityTimeoutSeconds})`,
      );
    }
    this.heartbeatIntervalMs = heartbeat * 1000;
    this.batchSize = checkInteger('batchSize', options.batchSize ?? 5, 1, 10);
    this.waitTimeSeconds = checkInteger('waitTimeSeconds', options.waitTimeSeconds ?? 20, 0, 20);
    this.logger = options.logger ?? consoleLogger;
  }

  get inFlight(): number {
    return this.handlers.size;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Last receive error (connection problems), cleared on the next successful poll — for readiness. */
  get lastReceiveError(): Error | null {
    return this.receiveError;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const previous = this.loop ?? Promise.resolve();
    // A restart right after stop() must not run two receive loops at once.
    this.loop = previous.then(() => this.run());
  }

  /** Stops receiving; resolves once every in-flight handler has finished (bounded by drainTimeoutMs, default 30000). */
  stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.receiveAbort?.abort();
    this.wakeFromBackoff?.();
    const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const stopping = this.drain(drainTimeoutMs).finally(() => {
      if (this.stopping === stopping) this.stopping = undefined;
    });
    this.stopping = stopping;
    return stopping;
  }

  private async drain(drainTimeoutMs: number): Promise<void> {
    const drained = (async () => {
      await this.loop;
      // The loop has exited, so no handler can be added after this snapshot.
      await Promise.allSettled([...this.handlers]);
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), drainTimeoutMs);
    });
    const outcome = await Promise.race([drained.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(
        `SQS intake: ${this.handlers.size} handler(s) still running after ${drainTimeoutMs} ms; their messages stay on the queue and return after the visibility timeout if they do not finish`,
      );
    } else {
      this.logger.log('SQS intake stopped; no handlers in flight');
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const capacity = this.batchSize - this.handlers.size;
      if (capacity <= 0) {
        // Handlers never reject (process() catches everything), so this just waits for a free slot.
        await Promise.race(this.handlers);
        continue;
      }
      const messages = await this.receive(capacity);
      if (messages === undefined) continue;
      if (!this.running) {
        // Received while stop() was being requested: hand them back at once rather than start new work.
        await Promise.all(messages.map((m) => this.release(m)));
        break;
      }
      for (const message of messages) {
        const handling = this.process(message).finally(() => this.handlers.delete(handling));
        this.handlers.add(handling);
      }
    }
  }

  /** One long poll; undefined after a failure (already logged and backed off) or an abort by stop(). */
  private async receive(maxMessages: number): Promise<Message[] | undefined> {
    const abort = new AbortController();
    this.receiveAbort = abort;
    try {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: this.waitTimeSeconds,
          VisibilityTimeout: this.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: abort.signal },
      );
      if (this.consecutiveReceiveFailures > 0) {
        this.logger.log(`SQS intake: receiving again after ${this.consecutiveReceiveFailures} failed attempt(s)`);
      }
      this.consecutiveReceiveFailures = 0;
      this.receiveError = null;
      return out.Messages ?? [];
    } catch (err) {
      if (!this.running && abort.signal.aborted) return undefined;
      this.receiveError = toError(err);
      this.consecutiveReceiveFailures += 1;
      const delay = Math.min(BACKOFF_INITIAL_MS * 2 ** (this.consecutiveReceiveFailures - 1), BACKOFF_MAX_MS);
      const log = this.consecutiveReceiveFailures === 1 ? this.logger.error : this.logger.warn;
      log.call(
        this.logger,
        `SQS intake: receive from ${this.queueUrl} failed (attempt ${this.consecutiveReceiveFailures}): ${explain(err)}; retrying in ${delay} ms`,
      );
      await this.backoff(delay);
      return undefined;
    } finally {
      if (this.receiveAbort === abort) this.receiveAbort = undefined;
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeFromBackoff = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeFromBackoff = done;
    });
  }

  private async process(message: Message): Promise<void> {
    const messageId = message.MessageId;
    const receiptHandle = message.ReceiptHandle;
    if (!messageId || !receiptHandle) {
      this.logger.error(`SQS intake: ignoring a message without MessageId or ReceiptHandle (${messageId ?? 'no id'})`);
      return;
    }
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    const intake: IntakeMessage = {
      messageId,
      body: message.Body ?? '',
      receivedAt: new Date(),
      receiveCount: Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1,
    };

    let heartbeat: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      heartbeat = heartbeat.then(() => this.extendVisibility(messageId, receiptHandle));
    }, this.heartbeatIntervalMs);
    let succeeded = false;
    try {
      await this.handle(intake);
      succeeded = true;
    } catch (err) {
      this.logger.error(
        `SQS intake: handler failed for message ${messageId} (receive ${intake.receiveCount}): ${explain(err)}; it stays on the queue and returns after the visibility timeout`,
      );
    } finally {
      clearInterval(timer);
      // A renewal racing the delete would only log a spurious warning.
      await heartbeat;
    }
    if (succeeded) await this.delete(messageId, receiptHandle);
  }

  private async extendVisibility(messageId: string, receiptHandle: string): Promise<void> {
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: this.visibilityTimeoutSeconds }),
      );
    } catch (err) {
      this.logger.warn(`SQS intake: could not extend visibility of message ${messageId}: ${explain(err)}`);
    }
  }

  private async delete(messageId: string, receiptHandle: string): Promise<void> {
    try {
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }));
    } catch (err) {
      this.logger.error(
        `SQS intake: message ${messageId} was handled but could not be deleted: ${explain(err)}; it will be delivered again`,
      );
    }
  }

  private async release(message: Message): Promise<void> {
    if (!message.ReceiptHandle) return;
    try {
      await this.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    } catch (err) {
      this.logger.warn(`SQS intake: could not release message ${message.MessageId ?? '?'} on stop: ${explain(err)}`);
    }
  }
}
