/**
 * The replay scenario format: JSON Lines, one queue message per line.
 *
 *   {"messageId": "...", "receivedAt": "<ISO-8601 with zone>", "body": "<raw SQS body, exactly as delivered>"}
 *
 * The body stays a string so that broken bodies (not JSON, truncated, …) can
 * be replayed exactly as they arrived.
 */
export interface ScenarioMessage {
  messageId: string;
  receivedAt: string;
  body: string;
}

export type ParsedScenarioLine =
  | { kind: 'blank' }
  | { kind: 'message'; message: ScenarioMessage; receivedAt: Date }
  | { kind: 'malformed'; reason: string };

// A zone is required: a local time would make the same scenario replay differently per machine.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseScenarioLine(text: string): ParsedScenarioLine {
  if (text.trim() === '') return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'malformed', reason: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!isRecord(value)) return { kind: 'malformed', reason: 'not a JSON object' };
  const { messageId, receivedAt, body } = value;
  if (typeof messageId !== 'string' || messageId.trim() === '') {
    return { kind: 'malformed', reason: 'messageId is missing or not a non-empty string' };
  }
  if (typeof receivedAt !== 'string' || !ISO_8601.test(receivedAt) || Number.isNaN(Date.parse(receivedAt))) {
    return { kind: 'malformed', reason: 'receivedAt is missing or not an ISO-8601 timestamp with a zone' };
  }
  if (typeof body !== 'string') {
    return { kind: 'malformed', reason: 'body is missing or not a string (it must be the raw SQS body)' };
  }
  return { kind: 'message', message: { messageId, receivedAt, body }, receivedAt: new Date(receivedAt) };
}

/** One scenario line, keys in the documented order. */
export function formatScenarioLine(message: ScenarioMessage): string {
  return JSON.stringify({ messageId: message.messageId, receivedAt: message.receivedAt, body: message.body });
}
