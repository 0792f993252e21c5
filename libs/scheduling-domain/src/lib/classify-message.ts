import {
  looksLikeEventBridgeEvent,
  looksLikeSnsAlarmNotification,
  parseEventBridgeAlarm,
  parseSnsAlarmNotification,
} from './cloudwatch';
import { looksLikeJiraIssue, looksLikeJiraWebhook, parseJiraIssue, parseJiraWebhook } from './jira';
import { describeJsonType, errorMessage, isRecord, JsonRecord, listKeys, parseJson, Parsed, truncate } from './json';
import { AlarmFacts, ClassifiedMessage, TicketFacts } from './types';

/**
 * Classifies an intake-queue message body as a ticket, an alarm or a rejection.
 * Never throws: a rejection is a stored outcome, not an error, and the caller must be able to
 * delete the message afterwards instead of redelivering a poison message forever.
 */
export function classifyMessage(body: string): ClassifiedMessage {
  try {
    return storable(classify(body));
  } catch (error) {
    // Only reachable through a bug in this module; still better stored as a rejection than a crash loop.
    return rejected(`internal error while classifying the message: ${truncate(errorMessage(error))}`);
  }
}

function classify(body: string): ClassifiedMessage {
  // The signature says string, but callers decode it from protobuf/SQS at runtime; check rather than trust.
  if (typeof body !== 'string') return rejected(`message body is not a string (got ${describeJsonType(body)})`);
  const parsed = parseJson(body, 'message body');
  if (!parsed.ok) return rejected(parsed.reason);
  const value = parsed.value;
  if (!isRecord(value)) return rejected(`message body is JSON but not an object (got ${describeJsonType(value)})`);

  if (looksLikeSnsEnvelope(value)) return classifySns(value);
  if (looksLikeEventBridgeEvent(value)) return alarm('eventbridge', parseEventBridgeAlarm(value));
  if (looksLikeJiraWebhook(value)) return ticket('jira-webhook', parseJiraWebhook(value));
  if (looksLikeJiraIssue(value)) return ticket('jira-issue', parseJiraIssue(value));
  return rejected(
    `unrecognised message shape: not a Jira issue or webhook, a CloudWatch alarm event or an SNS notification (top-level keys: ${listKeys(value)})`,
  );
}

/** Keys and account ids are unique-indexed; a btree entry has to fit in a page. */
const MAX_KEY_LENGTH = 255;

/**
 * Postgres text cannot hold NUL, and index entries have a size limit: a message that parses but could not be
 * stored is rejected here, with the reason, instead of failing the transaction and cycling to the DLQ.
 */
function storable(classified: ClassifiedMessage): ClassifiedMessage {
  if (classified.classification === 'rejected') return classified;
  if (containsNul(classified)) {
    return rejected(`the ${classified.classification} contains a NUL character (\\u0000), which cannot be stored`);
  }
  const key = classified.classification === 'ticket' ? classified.ticket.key : classified.alarm.account;
  const field = classified.classification === 'ticket' ? 'ticket key' : 'alarm account';
  if (key.length > MAX_KEY_LENGTH) {
    return rejected(`${field} is ${key.length} characters long; at most ${MAX_KEY_LENGTH} are accepted`);
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

function alarm(
  source: 'eventbridge' | 'sns',
  result: Parsed<AlarmFacts>,
): ClassifiedMessage {
  return result.ok ? { classification: 'alarm', source, alarm: result.value } : rejected(result.reason);
}

function rejected(reason: string): ClassifiedMessage {
  return { classification: 'rejected', reason };
}
