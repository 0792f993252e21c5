import {
  looksLikeEventBridgeEvent,
  looksLikeSnsAlarmNotification,
  parseEventBridgeAlarm,
  parseSnsAlarmNotification,
} from './cloudwatch';
import { parseGitHubUpdate, parseJiraUpdate, isJiraUpdateEvent, UpdateFacts } from './follow-up';
import { looksLikeGitHubWebhook } from './github';
import { looksLikeJiraIssue, looksLikeJiraWebhook, parseJiraIssue, parseJiraWebhook } from './jira';
import { countNul, describeJsonType, errorMessage, escapeNul, isRecord, JsonRecord, listKeys, parseJson, Parsed, truncate } from './json';
import { AlarmFacts, ClassifiedMessage, TicketFacts } from './types';

/** How far an event may lie after its delivery: clock skew between the sender and the queue, with a wide margin. */
export const MAX_EVENT_TIME_AHEAD_MS = 24 * 60 * 60 * 1000;
/** CloudWatch began in 2009; an event dated before 2000 is a broken clock or a forged message. */
export const EARLIEST_EVENT_TIME = new Date('2000-01-01T00:00:00.000Z');

/**
 * Why an event time is not believable, or null. A far-future alarm would hold its account's incident window open
 * for centuries, and dates near the ends of the calendar break date arithmetic downstream; so it is rejected, not
 * stored as an alarm. Without `receivedAt` only the fixed bounds apply (the latest being 2100).
 */
export function eventTimeProblem(eventTime: Date, receivedAt?: Date): string | null {
  const time = eventTime.getTime();
  const latest = receivedAt ? receivedAt.getTime() + MAX_EVENT_TIME_AHEAD_MS : Date.UTC(2100, 0, 1);
  if (Number.isNaN(time)) return 'event time is not a valid date';
  if (time >= EARLIEST_EVENT_TIME.getTime() && time <= latest) return null;
  const bound = receivedAt
    ? `before ${EARLIEST_EVENT_TIME.toISOString()} or more than ${MAX_EVENT_TIME_AHEAD_MS / 3_600_000} h after its delivery at ${receivedAt.toISOString()}`
    : `before ${EARLIEST_EVENT_TIME.toISOString()} or after ${new Date(latest).toISOString()}`;
  return `event time ${eventTime.toISOString()} is outside the accepted range (${bound})`;
}

/**
 * Classifies an intake-queue message body as a ticket, an alarm, an update (docs/follow-ups.md) or a rejection.
 * Never throws: a rejection is a stored outcome, not an error, and the caller must be able to
 * delete the message afterwards instead of redelivering a poison message forever.
 * `receivedAt` (the delivery's time) bounds how far in the future an alarm may be dated.
 */
export function classifyMessage(body: string, receivedAt?: Date): ClassifiedMessage {
  try {
    return storable(classify(body), receivedAt);
  } catch (error) {
    // Only reachable through a bug in this module; still better stored as a rejection than a crash loop.
    return rejected(`internal error while classifying the message: ${truncate(errorMessage(error))}`);
  }
}

function classify(body: string): ClassifiedMessage {
  // The signature says string, but callers decode it from protobuf/SQS at runtime; check rather than trust.
  if (typeof body !== 'string') return rejected(`message body is not a string (got ${describeJsonType(body)})`);
  const nuls = countNul(body);
  if (nuls > 0) {
    // JSON allows no raw control character, so this is never a ticket or an alarm; the caller stores escapeNul(body).
    return rejected(`message body holds ${nuls} raw NUL character(s) (U+0000): not JSON, and not storable as is; it is stored with each NUL escaped as \\u0000`);
  }
  const parsed = parseJson(body, 'message body');
  if (!parsed.ok) return rejected(parsed.reason);
  const value = parsed.value;
  if (!isRecord(value)) return rejected(`message body is JSON but not an object (got ${describeJsonType(value)})`);

  if (looksLikeSnsEnvelope(value)) return classifySns(value);
  if (looksLikeEventBridgeEvent(value)) return alarm('eventbridge', parseEventBridgeAlarm(value));
  if (looksLikeJiraWebhook(value) && isJiraUpdateEvent(value['webhookEvent'])) return update('jira-webhook', parseJiraUpdate(value));
  if (looksLikeJiraWebhook(value)) return ticket('jira-webhook', parseJiraWebhook(value));
  if (looksLikeJiraIssue(value)) return ticket('jira-issue', parseJiraIssue(value));
  if (looksLikeGitHubWebhook(value)) return update('github', parseGitHubUpdate(value));
  return rejected(
    `unrecognised message shape: not a Jira issue or webhook, a CloudWatch alarm event, an SNS notification or a GitHub webhook envelope (top-level keys: ${listKeys(value)})`,
  );
}

/** The ticket a message creates or refreshes: a ticket's, or a jira:issue_updated's (a new ticket's first delivery). */
export function ticketOfMessage(classified: ClassifiedMessage): TicketFacts | null {
  if (classified.classification === 'ticket') return classified.ticket;
  if (classified.classification === 'update' && classified.update.kind === 'notice') return classified.update.ticket ?? null;
  return null;
}

/** Keys and account ids are unique-indexed; a btree entry has to fit in a page. */
const MAX_KEY_LENGTH = 255;

/**
 * Postgres text cannot hold NUL, and index entries have a size limit: a message that parses but could not be
 * stored is rejected here, with the reason, instead of failing the transaction and cycling to the DLQ.
 */
function storable(classified: ClassifiedMessage, receivedAt: Date | undefined): ClassifiedMessage {
  if (classified.classification === 'rejected') return classified;
  if (classified.classification === 'alarm') {
    const problem = eventTimeProblem(classified.alarm.eventTime, receivedAt);
    if (problem) return rejected(`alarm ${truncate(classified.alarm.alarmName, 60)}: ${problem}`);
  }
  if (containsNul(classified)) {
    return rejected(`the ${classified.classification} contains a NUL character (\\u0000), which cannot be stored`);
  }
  if (classified.classification === 'update') return storableUpdate(classified);
  const key = classified.classification === 'ticket' ? classified.ticket.key : classified.alarm.account;
  const field = classified.classification === 'ticket' ? 'ticket key' : 'alarm account';
  if (key.length > MAX_KEY_LENGTH) {
    return rejected(`${field} is ${key.length} characters long; at most ${MAX_KEY_LENGTH} are accepted`);
  }
  return classified;
}

/** An update's ticket key is stored like a ticket's; a pull request URL is looked up by an index too. */
function storableUpdate(classified: Extract<ClassifiedMessage, { classification: 'update' }>): ClassifiedMessage {
  const { update } = classified;
  const thread = update.kind === 'comment' ? update.comment.thread : update.thread;
  const name = thread === null ? '' : thread.kind === 'ticket' ? thread.key : thread.url;
  if (name.length > MAX_KEY_LENGTH) {
    return rejected(`${thread?.kind === 'ticket' ? 'ticket key' : 'pull request URL'} is ${name.length} characters long; at most ${MAX_KEY_LENGTH} are accepted`);
  }
  return classified;
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) return Object.values(value).some(containsNul);
  return false;
}

function looksLikeSnsEnvelope(value: JsonRecord): boolean {
  return typeof value['Type'] === 'string' && ('Message' in value || 'TopicArn' in value);
}

function classifySns(envelope: JsonRecord): ClassifiedMessage {
  const type = envelope['Type'];
  if (type !== 'Notification') {
    return rejected(`SNS message of Type "${truncate(String(type), 60)}" is not a Notification`);
  }
  const message = envelope['Message'];
  if (typeof message !== 'string') {
    return rejected(`SNS notification Message is not a string (got ${describeJsonType(message)})`);
  }
  const parsed = parseJson(message, 'SNS notification Message');
  if (!parsed.ok) return rejected(parsed.reason);
  const inner = parsed.value;
  if (!isRecord(inner)) {
    return rejected(`SNS notification Message is JSON but not an object (got ${describeJsonType(inner)})`);
  }
  if (looksLikeSnsAlarmNotification(inner)) return alarm('sns', parseSnsAlarmNotification(inner));
  // EventBridge rules can target an SNS topic, which delivers the event itself as the Message.
  if (looksLikeEventBridgeEvent(inner)) return alarm('sns', parseEventBridgeAlarm(inner));
  return rejected(
    `SNS notification Message has an unrecognised shape: not a CloudWatch alarm notification or event (keys: ${listKeys(inner)})`,
  );
}

function ticket(
  source: 'jira-issue' | 'jira-webhook',
  result: Parsed<TicketFacts>,
): ClassifiedMessage {
  return result.ok ? { classification: 'ticket', source, ticket: result.value } : rejected(result.reason);
}

function update(source: 'github' | 'jira-webhook', result: Parsed<UpdateFacts>): ClassifiedMessage {
  return result.ok ? { classification: 'update', source, update: result.value } : rejected(result.reason);
}

function alarm(
  source: 'eventbridge' | 'sns',
  result: Parsed<AlarmFacts>,
): ClassifiedMessage {
  return result.ok ? { classification: 'alarm', source, alarm: result.value } : rejected(result.reason);
}

/** Reasons quote the message (keys, event names, types), which may hold NUL; the stored reason must not. */
function rejected(reason: string): ClassifiedMessage {
  return { classification: 'rejected', reason: escapeNul(reason) };
}
