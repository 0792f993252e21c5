import { randomUUID } from 'node:crypto';
import { SqsError, sqsErrors } from './errors';
import {
  isRecord,
  optInt,
  optString,
  optStringArray,
  optStringMap,
  reqEntries,
  reqInt,
  reqString,
  type Input,
} from './input';
import { md5Hex, md5OfMessageAttributes, type MessageAttributeValue } from './md5';

export const ACCOUNT_ID = '000000000000';

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

interface QueueSettings {
  visibilityTimeout: number;
  messageRetentionPeriod: number;
  receiveMessageWaitTimeSeconds: number;
  delaySeconds: number;
  maximumMessageSize: number;
  redrivePolicy: RedrivePolicy | undefined;
}

const DEFAULT_SETTINGS: QueueSettings = {
  visibilityTimeout: 30,
  messageRetentionPeriod: 345600,
  receiveMessageWaitTimeSeconds: 0,
  delaySeconds: 0,
  maximumMessageSize: 262144,
  redrivePolicy: undefined,
};

interface StoredMessage {
  id: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, MessageAttributeValue> | undefined;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** Only the latest handle may delete or change visibility; older ones are stale. Unset until received. */
  receiptHandle: string | undefined;
}

class Queue {
  /** Insertion order = send order, which is the delivery order we try to give. */
  readonly messages = new Map<string, StoredMessage>();
  readonly waiters = new Set<() => void>();
  lastModified: number;

  constructor(
    readonly name: string,
    readonly arn: string,
    public settings: QueueSettings,
    readonly createdAt: number,
  ) {
    this.lastModified = createdAt;
  }

  /** Wakes long polls so they look again (a message arrived or a visibility changed). */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export interface CallContext {
  /** The queue named by the request path (`/<account>/<name>`), used when the body has no QueueUrl. */
  pathQueueName: string | undefined;
  /** Aborted when the client goes away or the server stops, so a long poll never consumes messages for nobody. */
  signal: AbortSignal;
}

type Handler = (input: Input, ctx: CallContext) => Promise<object> | object;

const SYSTEM_ATTRIBUTES = ['ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SentTimestamp', 'SenderId'] as const;
const QUEUE_ATTRIBUTES = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'DelaySeconds',
  'MaximumMessageSize',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'RedrivePolicy',
] as const;
/** Accepted so that real-world CreateQueue calls work, but without effect locally. */
const IGNORED_QUEUE_ATTRIBUTES = new Set([
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'RedriveAllowPolicy',
]);
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
// Characters SQS allows in a message body (XML 1.0 char set).
const INVALID_BODY_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function secondsString(ms: number): string {
  return String(Math.floor(ms / 1000));
}

/** In-memory SQS state and the semantics of each action; transport-free so the HTTP layer stays thin. */
export class SqsEngine {
  private readonly queues = new Map<string, Queue>();
  private readonly handlers: Record<string, Handler>;
  baseUrl = 'http://127.0.0.1:9324';

  constructor(readonly region: string) {
    this.handlers = {
      CreateQueue: (i) => this.createQueueAction(i),
      GetQueueUrl: (i) => this.getQueueUrl(i),
      GetQueueAttributes: (i, c) => this.getQueueAttributes(i, c),
      SetQueueAttributes: (i, c) => this.setQueueAttributes(i, c),
      ListQueues: (i) => this.listQueues(i),
      DeleteQueue: (i, c) => this.deleteQueue(i, c),
      PurgeQueue: (i, c) => this.purgeQueue(i, c),
      SendMessage: (i, c) => this.sendMessage(i, c),
      SendMessageBatch: (i, c) => this.sendMessageBatch(i, c),
      ReceiveMessage: (i, c) => this.receiveMessage(i, c),
      DeleteMessage: (i, c) => this.deleteMessage(i, c),
      DeleteMessageBatch: (i, c) => this.deleteMessageBatch(i, c),
      ChangeMessageVisibility: (i, c) => this.changeMessageVisibility(i, c),
      ChangeMessageVisibilityBatch: (i, c) => this.changeMessageVisibilityBatch(i, c),
    };
  }

  hasAction(action: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.handlers, action);
  }

  async dispatch(action: string, input: Input, ctx: CallContext): Promise<object> {
    const handler = this.handlers[action];
    if (!handler) throw new SqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', `local-sqs does not implement ${action}.`);
    return handler(input, ctx);
  }

  queueUrl(name: string): string {
    return `${this.baseUrl}/${ACCOUNT_ID}/${name}`;
  }

  /** Creates the queue (idempotent for identical attributes) and returns its URL. */
  createQueue(name: string, attributes: Record<string, string> = {}): string {
    if (name.endsWith('.fifo')) throw sqsErrors.invalidParameterValue('local-sqs supports standard queues only, not FIFO queues.');
    if (!QUEUE_NAME.test(name)) {
      throw sqsErrors.invalidParameterValue(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const existing = this.queues.get(name);
    if (existing) {
      const wanted = this.applyAttributes(existing.settings, attributes, name);
      if (JSON.stringify(wanted) !== JSON.stringify(existing.settings)) throw sqsErrors.queueNameExists(name);
      return this.queueUrl(name);
    }
    const settings = this.applyAttributes(DEFAULT_SETTINGS, attributes, name);
    this.queues.set(name, new Queue(name, this.arnOf(name), settings, Date.now()));
    return this.queueUrl(name);
  }

  private arnOf(name: string): string {
    return `arn:aws:sqs:${this.region}:${ACCOUNT_ID}:${name}`;
  }

  private queueByArn(arn: string): Queue | undefined {
    const prefix = `arn:aws:sqs:${this.region}:${ACCOUNT_ID}:`;
    return arn.startsWith(prefix) ? this.queues.get(arn.slice(prefix.length)) : undefined;
  }

  private resolveQueue(input: Input, ctx: CallContext): Queue {
    const url = optString(input, 'QueueUrl');
    let name = ctx.pathQueueName;
    if (url !== undefined) {
      // Match on the last path segment so that localhost/127.0.0.1/container host names all address the same queue.
      const segments = url.split('?')[0]?.split('/').filter((s) => s.length > 0) ?? [];
      name = segments[segments.length - 1];
    }
    if (name === undefined) throw sqsErrors.missingParameter('QueueUrl');
    const queue = this.queues.get(name);
    if (!queue) throw sqsErrors.queueDoesNotExist();
    return queue;
  }

  private applyAttributes(current: QueueSettings, attributes: Record<string, string>, queueName: string): QueueSettings {
    const next: QueueSettings = { ...current };
    const int = (name: string, value: string, min: number, max: number): number => {
      const n = Number(value);
      if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
        throw sqsErrors.invalidAttributeValue(`Invalid value for the parameter ${name}: must be an integer between ${min} and ${max}.`);
      }
      return n;
    };
    for (const [name, value] of Object.entries(attributes)) {
      switch (name) {
        case 'VisibilityTimeout':
          next.visibilityTimeout = int(name, value, 0, 43200);
          break;
        case 'MessageRetentionPeriod':
          next.messageRetentionPeriod = int(name, value, 60, 1209600);
          break;
        case 'ReceiveMessageWaitTimeSeconds':
          next.receiveMessageWaitTimeSeconds = int(name, value, 0, 20);
          break;
        case 'DelaySeconds':
          next.delaySeconds = int(name, value, 0, 900);
          break;
        case 'MaximumMessageSize':
          next.maximumMessageSize = int(name, value, 1024, 1048576);
          break;
        case 'RedrivePolicy':
          next.redrivePolicy = value === '' ? undefined : this.parseRedrivePolicy(value, queueName);
          break;
        case 'FifoQueue':
        case 'ContentBasedDeduplication':
        case 'DeduplicationScope':
        case 'FifoThroughputLimit':
          if (value !== 'false') throw sqsErrors.invalidAttributeValue(`local-sqs does not support FIFO queues (${name}).`);
          break;
        default:
          if (!IGNORED_QUEUE_ATTRIBUTES.has(name)) throw sqsErrors.invalidAttributeName(name);
      }
    }
    return next;
  }

  private parseRedrivePolicy(value: string, queueName: string): RedrivePolicy {
    const invalid = (reason: string): SqsError =>
      sqsErrors.invalidAttributeValue(`Value ${value} for parameter RedrivePolicy is invalid. Reason: ${reason}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw invalid('Redrive policy is not a valid JSON map.');
    }
    if (!isRecord(parsed)) throw invalid('Redrive policy is not a valid JSON map.');
    const arn = parsed['deadLetterTargetArn'];
    const rawCount = parsed['maxReceiveCount'];
    const maxReceiveCount = typeof rawCount === 'string' ? Number(rawCount) : rawCount;
    if (typeof arn !== 'string') throw invalid('Redrive policy must contain deadLetterTargetArn.');
    if (typeof maxReceiveCount !== 'number' || !Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw invalid('Invalid value for maxReceiveCount: must be an integer between 1 and 1000.');
    }
    const target = this.queueByArn(arn);
    if (!target) throw invalid('Dead letter target does not exist.');
    if (target.name === queueName) throw invalid('A queue cannot be its own dead-letter queue.');
    return { deadLetterTargetArn: arn, maxReceiveCount };
  }

  // ---- queue actions -------------------------------------------------------------------------------

  private createQueueAction(input: Input): object {
    const name = reqString(input, 'QueueName');
    return { QueueUrl: this.createQueue(name, optStringMap(input, 'Attributes') ?? {}) };
  }

  private getQueueUrl(input: Input): object {
    const name = reqString(input, 'QueueName');
    if (!this.queues.has(name)) throw sqsErrors.queueDoesNotExist();
    return { QueueUrl: this.queueUrl(name) };
  }

  private getQueueAttributes(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    const requested = optStringArray(input, 'AttributeNames') ?? [];
    const names = new Set<string>();
    for (const name of requested) {
      if (name === 'All') QUEUE_ATTRIBUTES.forEach((n) => names.add(n));
      else if ((QUEUE_ATTRIBUTES as readonly string[]).includes(name)) names.add(name);
      else if (!IGNORED_QUEUE_ATTRIBUTES.has(name)) throw sqsErrors.invalidAttributeName(name);
    }
    if (names.size === 0) return {};
    this.dropExpired(queue);
    const now = Date.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const msg of queue.messages.values()) {
      if (msg.visibleAt <= now) visible++;
      else if (msg.receiptHandle !== undefined) inFlight++;
      else delayed++;
    }
    const s = queue.settings;
    const all: Record<(typeof QUEUE_ATTRIBUTES)[number], string | undefined> = {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      VisibilityTimeout: String(s.visibilityTimeout),
      MessageRetentionPeriod: String(s.messageRetentionPeriod),
      ReceiveMessageWaitTimeSeconds: String(s.receiveMessageWaitTimeSeconds),
      DelaySeconds: String(s.delaySeconds),
      MaximumMessageSize: String(s.maximumMessageSize),
      CreatedTimestamp: secondsString(queue.createdAt),
      LastModifiedTimestamp: secondsString(queue.lastModified),
      RedrivePolicy: s.redrivePolicy ? JSON.stringify(s.redrivePolicy) : undefined,
    };
    const Attributes: Record<string, string> = {};
    for (const name of names) {
      const value = all[name as keyof typeof all];
      if (value !== undefined) Attributes[name] = value;
    }
    return { Attributes };
  }

  private setQueueAttributes(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    const attributes = optStringMap(input, 'Attributes');
    if (attributes === undefined) throw sqsErrors.missingParameter('Attributes');
    queue.settings = this.applyAttributes(queue.settings, attributes, queue.name);
    queue.lastModified = Date.now();
    queue.notify();
    return {};
  }

  private listQueues(input: Input): object {
    const prefix = optString(input, 'QueueNamePrefix') ?? '';
    const max = optInt(input, 'MaxResults', 1, 1000);
    const start = Number(optString(input, 'NextToken') ?? '0');
    const names = [...this.queues.keys()].filter((n) => n.startsWith(prefix)).sort();
    if (max === undefined) return names.length > 0 ? { QueueUrls: names.map((n) => this.queueUrl(n)) } : {};
    const offset = Number.isInteger(start) && start >= 0 ? start : 0;
    const page = names.slice(offset, offset + max);
    const result: { QueueUrls?: string[]; NextToken?: string } = {};
    if (page.length > 0) result.QueueUrls = page.map((n) => this.queueUrl(n));
    if (offset + max < names.length) result.NextToken = String(offset + max);
    return result;
  }

  private deleteQueue(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    this.queues.delete(queue.name);
    queue.notify();
    return {};
  }

  private purgeQueue(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    queue.messages.clear();
    return {};
  }

  // ---- messages ------------------------------------------------------------------------------------

  private parseMessageAttributes(value: unknown): Record<string, MessageAttributeValue> | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) throw sqsErrors.invalidParameterValue('MessageAttributes must be a map.');
    const entries = Object.entries(value);
    if (entries.length === 0) return undefined;
    if (entries.length > 10) throw sqsErrors.invalidParameterValue('Number of message attributes cannot exceed 10.');
    const out: Record<string, MessageAttributeValue> = {};
    for (const [name, attr] of entries) {
      if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
        throw sqsErrors.invalidParameterValue(`Message attribute name '${name}' is invalid.`);
      }
      if (!isRecord(attr)) throw sqsErrors.invalidParameterValue(`Message attribute '${name}' must be an object.`);
      const dataType = optString(attr, 'DataType');
      if (dataType === undefined) throw sqsErrors.invalidParameterValue(`Message attribute '${name}' must contain a non-empty DataType.`);
      if (attr['StringListValues'] !== undefined || attr['BinaryListValues'] !== undefined) {
        throw sqsErrors.invalidParameterValue('local-sqs does not support StringListValues/BinaryListValues (neither does SQS).');
      }
      const base = dataType.split('.')[0];
      if (base === 'String' || base === 'Number') {
        const stringValue = optString(attr, 'StringValue');
        if (stringValue === undefined || stringValue === '') {
          throw sqsErrors.invalidParameterValue(`Message attribute '${name}' must contain a non-empty value of type '${dataType}'.`);
        }
        if (base === 'Number' && !Number.isFinite(Number(stringValue))) {
          throw sqsErrors.invalidParameterValue(`Message attribute '${name}' has an invalid numeric value.`);
        }
        out[name] = { DataType: dataType, StringValue: stringValue };
      } else if (base === 'Binary') {
        const binaryValue = optString(attr, 'BinaryValue');
        if (binaryValue === undefined || binaryValue === '') {
          throw sqsErrors.invalidParameterValue(`Message attribute '${name}' must contain a non-empty value of type 'Binary'.`);
        }
        out[name] = { DataType: dataType, BinaryValue: binaryValue };
      } else {
        throw sqsErrors.invalidParameterValue(`The type of message attribute '${name}' is invalid: ${dataType}.`);
      }
    }
    return out;
  }

  private enqueue(queue: Queue, entry: Input): { MessageId: string; MD5OfMessageBody: string; MD5OfMessageAttributes?: string } {
    const body = reqString(entry, 'MessageBody');
    if (body.length === 0) throw sqsErrors.missingParameter('MessageBody');
    if (INVALID_BODY_CHARS.test(body)) {
      throw sqsErrors.invalidMessageContents('Invalid binary character in message body. See the allowed character set in the SQS documentation.');
    }
    const delay = optInt(entry, 'DelaySeconds', 0, 900) ?? queue.settings.delaySeconds;
    if (entry['MessageGroupId'] !== undefined || entry['MessageDeduplicationId'] !== undefined) {
      throw sqsErrors.invalidParameterValue('MessageGroupId and MessageDeduplicationId are only valid for FIFO queues.');
    }
    const messageAttributes = this.parseMessageAttributes(entry['MessageAttributes']);
    const size =
      Buffer.byteLength(body, 'utf8') +
      Object.entries(messageAttributes ?? {}).reduce(
        (sum, [name, a]) => sum + name.length + a.DataType.length + Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? '', 'utf8'),
        0,
      );
    if (size > queue.settings.maximumMessageSize) {
      throw sqsErrors.invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${queue.settings.maximumMessageSize} bytes.`);
    }
    const now = Date.now();
    const msg: StoredMessage = {
      id: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      messageAttributes,
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
      firstReceivedAt: undefined,
      receiptHandle: undefined,
    };
    queue.messages.set(msg.id, msg);
    queue.notify();
    return {
      MessageId: msg.id,
      MD5OfMessageBody: msg.md5OfBody,
      ...(messageAttributes ? { MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) } : {}),
    };
  }

  private sendMessage(input: Input, ctx: CallContext): object {
    return this.enqueue(this.resolveQueue(input, ctx), input);
  }

  private runBatch<T extends object>(entries: Input[], run: (entry: Input) => T): object {
    const Successful: object[] = [];
    const Failed: object[] = [];
    for (const entry of entries) {
      const Id = reqString(entry, 'Id');
      try {
        Successful.push({ Id, ...run(entry) });
      } catch (err) {
        if (!(err instanceof SqsError)) throw err;
        Failed.push({ Id, SenderFault: err.fault === 'Sender', Code: err.queryCode, Message: err.message });
      }
    }
    return { Successful, Failed };
  }

  private sendMessageBatch(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    return this.runBatch(reqEntries(input), (entry) => this.enqueue(queue, entry));
  }

  private dropExpired(queue: Queue): void {
    const oldest = Date.now() - queue.settings.messageRetentionPeriod * 1000;
    for (const msg of queue.messages.values()) {
      if (msg.sentAt < oldest) queue.messages.delete(msg.id);
    }
  }

  /** Takes up to `max` visible messages, making them in flight; messages past maxReceiveCount go to the DLQ instead. */
  private take(queue: Queue, max: number, visibilityTimeout: number): StoredMessage[] {
    this.dropExpired(queue);
    const now = Date.now();
    const taken: StoredMessage[] = [];
    for (const msg of queue.messages.values()) {
      if (taken.length >= max) break;
      if (msg.visibleAt > now) continue;
      const policy = queue.settings.redrivePolicy;
      const dlq = policy ? this.queueByArn(policy.deadLetterTargetArn) : undefined;
      if (policy && dlq && msg.receiveCount >= policy.maxReceiveCount) {
        // SQS keeps MessageId, body, attributes, SentTimestamp and receive count when it moves a message.
        queue.messages.delete(msg.id);
        msg.visibleAt = now;
        msg.receiptHandle = undefined;
        dlq.messages.set(msg.id, msg);
        dlq.notify();
        continue;
      }
      msg.receiveCount += 1;
      msg.firstReceivedAt ??= now;
      msg.receiptHandle = Buffer.from(`${msg.id}:${randomUUID()}`, 'utf8').toString('base64url');
      msg.visibleAt = now + visibilityTimeout * 1000;
      taken.push(msg);
    }
    return taken;
  }

  private nextVisibleAt(queue: Queue): number | undefined {
    const now = Date.now();
    let next: number | undefined;
    for (const msg of queue.messages.values()) {
      if (msg.visibleAt > now && (next === undefined || msg.visibleAt < next)) next = msg.visibleAt;
    }
    return next;
  }

  private waitForChange(queue: Queue, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        queue.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      queue.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async receiveMessage(input: Input, ctx: CallContext): Promise<object> {
    const queue = this.resolveQueue(input, ctx);
    const max = optInt(input, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibilityTimeout = optInt(input, 'VisibilityTimeout', 0, 43200) ?? queue.settings.visibilityTimeout;
    const waitSeconds = optInt(input, 'WaitTimeSeconds', 0, 20) ?? queue.settings.receiveMessageWaitTimeSeconds;
    const systemNames = [...(optStringArray(input, 'AttributeNames') ?? []), ...(optStringArray(input, 'MessageSystemAttributeNames') ?? [])];
    const attributeNames = optStringArray(input, 'MessageAttributeNames') ?? [];
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      if (ctx.signal.aborted) return {};
      const taken = this.take(queue, max, visibilityTimeout);
      if (taken.length > 0) return { Messages: taken.map((m) => this.render(m, systemNames, attributeNames)) };
      const now = Date.now();
      if (now >= deadline || !this.queues.has(queue.name)) return {};
      const wakeAt = Math.min(deadline, this.nextVisibleAt(queue) ?? deadline);
      await this.waitForChange(queue, wakeAt - now, ctx.signal);
    }
  }

  private render(msg: StoredMessage, systemNames: string[], attributeNames: string[]): object {
    const all = systemNames.includes('All');
    const system: Record<(typeof SYSTEM_ATTRIBUTES)[number], string> = {
      ApproximateReceiveCount: String(msg.receiveCount),
      ApproximateFirstReceiveTimestamp: String(msg.firstReceivedAt ?? msg.sentAt),
      SentTimestamp: String(msg.sentAt),
      SenderId: ACCOUNT_ID,
    };
    const Attributes: Record<string, string> = {};
    for (const name of SYSTEM_ATTRIBUTES) {
      if (all || systemNames.includes(name)) Attributes[name] = system[name];
    }
    const MessageAttributes: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(msg.messageAttributes ?? {})) {
      const wanted = attributeNames.some(
        (pattern) => pattern === 'All' || pattern === '.*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
      );
      if (wanted) MessageAttributes[name] = value;
    }
    const hasMessageAttributes = Object.keys(MessageAttributes).length > 0;
    return {
      MessageId: msg.id,
      ReceiptHandle: msg.receiptHandle,
      MD5OfBody: msg.md5OfBody,
      Body: msg.body,
      ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
      ...(hasMessageAttributes ? { MessageAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(MessageAttributes) } : {}),
    };
  }

  private messageIdOf(receiptHandle: string): string {
    const decoded = Buffer.from(receiptHandle, 'base64url').toString('utf8');
    const match = /^([0-9a-f-]{36}):[0-9a-f-]{36}$/.exec(decoded);
    if (!match?.[1]) throw sqsErrors.receiptHandleIsInvalid(receiptHandle);
    return match[1];
  }

  private deleteByHandle(queue: Queue, receiptHandle: string): object {
    const msg = queue.messages.get(this.messageIdOf(receiptHandle));
    // As in SQS: deleting an already-deleted message succeeds, and so does a stale handle, which
    // however leaves the message alone (the docs: "the request succeeds, but the message might not be deleted").
    if (msg && msg.receiptHandle === receiptHandle) queue.messages.delete(msg.id);
    return {};
  }

  private deleteMessage(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    return this.deleteByHandle(queue, reqString(input, 'ReceiptHandle'));
  }

  private deleteMessageBatch(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    return this.runBatch(reqEntries(input), (entry) => this.deleteByHandle(queue, reqString(entry, 'ReceiptHandle')));
  }

  private changeVisibility(queue: Queue, receiptHandle: string, visibilityTimeout: number): object {
    const msg = queue.messages.get(this.messageIdOf(receiptHandle));
    if (!msg || msg.receiptHandle !== receiptHandle) {
      throw sqsErrors.invalidParameterValue(
        `Value ${receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
    }
    const now = Date.now();
    if (msg.visibleAt <= now) throw sqsErrors.messageNotInflight();
    msg.visibleAt = now + visibilityTimeout * 1000;
    queue.notify();
    return {};
  }

  private changeMessageVisibility(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    return this.changeVisibility(queue, reqString(input, 'ReceiptHandle'), reqInt(input, 'VisibilityTimeout', 0, 43200));
  }

  private changeMessageVisibilityBatch(input: Input, ctx: CallContext): object {
    const queue = this.resolveQueue(input, ctx);
    return this.runBatch(reqEntries(input), (entry) =>
      this.changeVisibility(queue, reqString(entry, 'ReceiptHandle'), reqInt(entry, 'VisibilityTimeout', 0, 43200)),
    );
  }
}
