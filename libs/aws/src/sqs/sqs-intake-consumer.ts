import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type BatchResultErrorEntry,
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

/** What became of one message of a batch: handled (it is deleted), or failed (it stays and comes back). */
export type IntakeOutcome = { ok: true } | { ok: false; error: unknown };

export interface IntakeLogger {
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface SqsIntakeOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** One message at a time. Resolve ⇒ the message is deleted. Throw ⇒ it stays and comes back after its visibility timeout. */
  handle?: (message: IntakeMessage) => Promise<void>;
  /**
   * Instead of `handle`: the messages of one receive at once, with one outcome per message in the same order. A
   * rejection fails the whole batch (every message stays).
   */
  handleBatch?: (messages: IntakeMessage[]) => Promise<IntakeOutcome[]>;
  /** Whole seconds, 1..43200 (default 60): how long a received message stays hidden without a heartbeat. */
  visibilityTimeoutSeconds?: number;
  /** Seconds (fractions allowed), less than the visibility timeout (default 20): how often visibility is renewed. */
  heartbeatIntervalSeconds?: number;
  /** Messages asked for per receive, 1..10 (default 10). */
  batchSize?: number;
  /**
   * Messages held at once, from receive until deleted or failed, 1..10000 (default 10). The consumer runs
   * ceil(maxInFlight / batchSize) receive loops, so receives overlap each other and the handling.
   */
  maxInFlight?: number;
  /** Long-poll wait, 0..20 seconds (default 20). */
  waitTimeSeconds?: number;
  logger?: IntakeLogger;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** SQS's limit for the entries of one batch call. */
const SQS_BATCH_LIMIT = 10;

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

function explainEntry(entry: BatchResultErrorEntry): string {
  return `${entry.Code ?? 'error'}${entry.Message ? `: ${entry.Message}` : ''}`;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`SqsIntakeConsumer: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let first = 0; first < items.length; first += size) out.push(items.slice(first, first + size));
  return out;
}

/** A received message this consumer still holds (until it is deleted, or its handling failed). */
interface Held {
  messageId: string;
  receiptHandle: string;
}

interface PendingDelete extends Held {
  done: () => void;
  /** Already retried once after a failure SQS called its own. */
  retried: boolean;
}

/**
 * Long-polls one SQS queue and hands its messages to `handle` (one by one) or `handleBatch` (a receive at a time),
 * following bbc/sqs-consumer's loop: delete only after the handler succeeded, renew visibility while it runs, keep
 * polling through handler and connection errors (the latter with exponential backoff). Several receive loops share
 * one in-flight limit. Deletes of messages that finish together go out in DeleteMessageBatch, and the visibility of a
 * receive's messages is renewed with one ChangeMessageVisibilityBatch. Unlike sqs-consumer, stopping aborts only the
 * receives, never the deletes and heartbeats of handlers that are finishing, and `stop()` resolves when they are done.
 */
export class SqsIntakeConsumer {
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly handler:
    | { oneByOne: true; handle: (message: IntakeMessage) => Promise<void> }
    | { oneByOne: false; handleBatch: (messages: IntakeMessage[]) => Promise<IntakeOutcome[]> };
  private readonly visibilityTimeoutSeconds: number;
  private readonly heartbeatIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly waitTimeSeconds: number;
  private readonly logger: IntakeLogger;

  private running = false;
  private loops: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly receiveAborts = new Set<AbortController>();
  /** Loops waiting for a free slot. */
  private readonly slotWaiters = new Set<() => void>();
  /** Loops backing off after a failed receive. */
  private readonly backoffs = new Set<() => void>();
  private readonly batches = new Set<Promise<void>>();
  /** Messages received and not yet deleted or failed. */
  private held = 0;
  /** Slots promised to receives under way. */
  private reserved = 0;
  private readonly deleteQueue: PendingDelete[] = [];
  private deleteFlushScheduled = false;
  private receiveError: Error | null = null;
  private consecutiveReceiveFailures = 0;

  constructor(options: SqsIntakeOptions) {
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
    if (options.handle && !options.handleBatch) {
      this.handler = { oneByOne: true, handle: options.handle };
    } else if (options.handleBatch && !options.handle) {
      this.handler = { oneByOne: false, handleBatch: options.handleBatch };
    } else {
      throw new TypeError('SqsIntakeConsumer: give exactly one of handle and handleBatch');
    }
    this.visibilityTimeoutSeconds = checkInteger('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds ?? 60, 1, 43200);
    const heartbeat = options.heartbeatIntervalSeconds ?? 20;
    if (!(heartbeat > 0 && heartbeat < this.visibilityTimeoutSeconds)) {
      throw new RangeError(
        `SqsIntakeConsumer: heartbeatIntervalSeconds (${heartbeat}) must be positive and less than visibilityTimeoutSeconds (${this.visibilityTimeoutSeconds})`,
      );
    }
    this.heartbeatIntervalMs = heartbeat * 1000;
    this.batchSize = checkInteger('batchSize', options.batchSize ?? SQS_BATCH_LIMIT, 1, SQS_BATCH_LIMIT);
    this.maxInFlight = checkInteger('maxInFlight', options.maxInFlight ?? SQS_BATCH_LIMIT, 1, 10_000);
    this.waitTimeSeconds = checkInteger('waitTimeSeconds', options.waitTimeSeconds ?? 20, 0, 20);
    this.logger = options.logger ?? consoleLogger;
  }

  /** Messages received and not yet deleted (or failed). */
  get inFlight(): number {
    return this.held;
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
    const previous = this.loops ?? Promise.resolve();
    const count = Math.ceil(this.maxInFlight / this.batchSize);
    // A restart right after stop() must not run more receive loops than configured.
    this.loops = previous.then(() => Promise.all(Array.from({ length: count }, () => this.run())).then(() => undefined));
  }

  /** Stops receiving; resolves once every in-flight message was handled and deleted (bounded by drainTimeoutMs, default 30000). */
  stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    for (const abort of this.receiveAborts) abort.abort();
    for (const wake of [...this.slotWaiters, ...this.backoffs]) wake();
    const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const stopping = this.drain(drainTimeoutMs).finally(() => {
      if (this.stopping === stopping) this.stopping = undefined;
    });
    this.stopping = stopping;
    return stopping;
  }

  private async drain(drainTimeoutMs: number): Promise<void> {
    const drained = (async () => {
      await this.loops;
      // Every loop has exited, so no batch can be added after this snapshot.
      await Promise.allSettled([...this.batches]);
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), drainTimeoutMs);
    });
    const outcome = await Promise.race([drained.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(
        `SQS intake: ${this.held} handler(s) still running after ${drainTimeoutMs} ms; their messages stay on the queue and return after the visibility timeout if they do not finish`,
      );
    } else {
      this.logger.log('SQS intake stopped; no handlers in flight');
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.maxInFlight - this.held - this.reserved;
      if (free <= 0) {
        // Woken when a message is done (or by stop()).
        await this.sleep(this.slotWaiters);
        continue;
      }
      const asked = Math.min(this.batchSize, free);
      this.reserved += asked;
      let messages: Message[] | undefined;
      try {
        messages = await this.receive(asked);
      } finally {
        this.reserved -= asked;
      }
      if (messages === undefined || messages.length === 0) continue;
      this.held += messages.length;
      if (!this.running) {
        // Received while stop() was being requested: hand them back at once rather than start new work.
        await this.release(messages);
        break;
      }
      const batch = this.process(messages).finally(() => this.batches.delete(batch));
      this.batches.add(batch);
    }
  }

  /** Waits until one of `waiters` is woken (by a freed slot, or stop()), or `ms` passed. */
  private sleep(waiters: Set<() => void>, ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      waiters.add(done);
    });
  }

  private finished(count: number): void {
    this.held -= count;
    for (const wake of [...this.slotWaiters]) wake();
  }

  /** One long poll; undefined after a failure (already logged and backed off) or an abort by stop(). */
  private async receive(maxMessages: number): Promise<Message[] | undefined> {
    const abort = new AbortController();
    this.receiveAborts.add(abort);
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
      if (this.running) await this.sleep(this.backoffs, delay);
      return undefined;
    } finally {
      this.receiveAborts.delete(abort);
    }
  }

  private async process(messages: Message[]): Promise<void> {
    const held: Held[] = [];
    const intake: IntakeMessage[] = [];
    for (const message of messages) {
      const messageId = message.MessageId;
      const receiptHandle = message.ReceiptHandle;
      if (!messageId || !receiptHandle) {
        this.logger.error(`SQS intake: ignoring a message without MessageId or ReceiptHandle (${messageId ?? 'no id'})`);
        this.finished(1);
        continue;
      }
      const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
      held.push({ messageId, receiptHandle });
      intake.push({
        messageId,
        body: message.Body ?? '',
        receivedAt: new Date(),
        receiveCount: Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1,
      });
    }
    if (held.length === 0) return;

    // One heartbeat for the whole receive, covering the messages still being handled.
    const pending = new Set(held);
    let heartbeat: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      heartbeat = heartbeat.then(() => this.extendVisibility([...pending]));
    }, this.heartbeatIntervalMs);
    const settle = async (one: Held, outcome: IntakeOutcome, receiveCount: number): Promise<void> => {
      pending.delete(one);
      if (pending.size === 0) clearInterval(timer);
      if (!outcome.ok) {
        this.logger.error(
          `SQS intake: handler failed for message ${one.messageId} (receive ${receiveCount}): ${explain(outcome.error)}; it stays on the queue and returns after the visibility timeout`,
        );
        this.finished(1);
        return;
      }
      // A renewal racing the delete would only log a spurious warning.
      await heartbeat;
      await this.delete(one);
      this.finished(1);
    };

    try {
      if (this.handler.oneByOne) {
        const { handle } = this.handler;
        await Promise.all(
          intake.map(async (message, index) => {
            const one = held[index];
            if (!one) return;
            let outcome: IntakeOutcome;
            try {
              await handle(message);
              outcome = { ok: true };
            } catch (error) {
              outcome = { ok: false, error };
            }
            await settle(one, outcome, message.receiveCount);
          }),
        );
        return;
      }
      let outcomes: IntakeOutcome[];
      try {
        outcomes = await this.handler.handleBatch(intake);
        if (outcomes.length !== intake.length) {
          throw new Error(`handleBatch answered ${outcomes.length} outcome(s) for ${intake.length} message(s)`);
        }
      } catch (error) {
        outcomes = intake.map(() => ({ ok: false, error }));
      }
      await Promise.all(held.map((one, index) => settle(one, outcomes[index] ?? { ok: false, error: new Error('no outcome') }, intake[index]?.receiveCount ?? 1)));
    } finally {
      clearInterval(timer);
    }
  }

  private async extendVisibility(messages: Held[]): Promise<void> {
    for (const group of chunks(messages, SQS_BATCH_LIMIT)) {
      try {
        const out = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: group.map((one, index) => ({ Id: String(index), ReceiptHandle: one.receiptHandle, VisibilityTimeout: this.visibilityTimeoutSeconds })),
          }),
        );
        for (const failed of out.Failed ?? []) {
          const one = group[Number(failed.Id)];
          this.logger.warn(`SQS intake: could not extend visibility of message ${one?.messageId ?? failed.Id}: ${explainEntry(failed)}`);
        }
      } catch (err) {
        for (const one of group) this.logger.warn(`SQS intake: could not extend visibility of message ${one.messageId}: ${explain(err)}`);
      }
    }
  }

  /**
   * Queues the delete; messages that finish in the same turn of the event loop go out together in DeleteMessageBatch.
   * Resolves once SQS answered for this message (whether or not it was deleted: a message that was not comes back,
   * and the handler's work is idempotent by message id).
   */
  private delete(one: Held): Promise<void> {
    return new Promise((resolve) => {
      this.deleteQueue.push({ ...one, done: resolve, retried: false });
      if (this.deleteQueue.length >= SQS_BATCH_LIMIT) {
        void this.flushDeletes();
      } else if (!this.deleteFlushScheduled) {
        this.deleteFlushScheduled = true;
        setImmediate(() => {
          this.deleteFlushScheduled = false;
          void this.flushDeletes();
        });
      }
    });
  }

  private async flushDeletes(): Promise<void> {
    while (this.deleteQueue.length > 0) {
      const group = this.deleteQueue.splice(0, SQS_BATCH_LIMIT);
      await this.deleteBatch(group);
    }
  }

  private async deleteBatch(group: PendingDelete[]): Promise<void> {
    let failed: BatchResultErrorEntry[];
    try {
      const out = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: group.map((one, index) => ({ Id: String(index), ReceiptHandle: one.receiptHandle })),
        }),
      );
      failed = out.Failed ?? [];
    } catch (err) {
      for (const one of group) {
        this.logger.error(`SQS intake: message ${one.messageId} was handled but could not be deleted: ${explain(err)}; it will be delivered again`);
        one.done();
      }
      return;
    }
    const failedIds = new Set(failed.map((entry) => entry.Id));
    const retry: PendingDelete[] = [];
    for (const entry of failed) {
      const one = group[Number(entry.Id)];
      if (!one) continue;
      // SQS's own fault (throttling, an internal error) may pass on a second try; a sender fault (a stale or broken
      // receipt handle) will not.
      if (!entry.SenderFault && !one.retried) {
        retry.push({ ...one, retried: true });
        continue;
      }
      this.logger.error(
        `SQS intake: message ${one.messageId} was handled but could not be deleted: ${explainEntry(entry)}; it will be delivered again`,
      );
      one.done();
    }
    group.forEach((one, index) => {
      if (!failedIds.has(String(index))) one.done();
    });
    if (retry.length > 0) await this.deleteBatch(retry);
  }

  private async release(messages: Message[]): Promise<void> {
    const handles = messages.filter((message): message is Message & { ReceiptHandle: string } => Boolean(message.ReceiptHandle));
    for (const group of chunks(handles, SQS_BATCH_LIMIT)) {
      try {
        const out = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: group.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
          }),
        );
        for (const failed of out.Failed ?? []) {
          this.logger.warn(`SQS intake: could not release message ${group[Number(failed.Id)]?.MessageId ?? '?'} on stop: ${explainEntry(failed)}`);
        }
      } catch (err) {
        this.logger.warn(`SQS intake: could not release ${group.length} message(s) on stop: ${explain(err)}`);
      }
    }
    this.finished(messages.length);
  }
}
