/**
 * The replay scenario format: JSON Lines, one queue message per line.
 *
 *   {"messageId": "...", "receivedAt": "<ISO-8601 with zone>", "body": "<raw SQS body, exactly as delivered>"}
 *
 * The body stays a string so that broken bodies (not JSON, truncated, …) can
 * be replayed exactly as they arrived. A line may also end a job, as a worker's
 * Shutdown would, so that later review comments find the pull request it opened
 * (docs/follow-ups.md):
 *
 *   {"jobEnded": {"key": "ENG-1", "status": "succeeded", "branch": "agent/ENG-1", "pullRequest": "https://…/pull/7"}, "at": "<ISO-8601>"}
 */
export interface ScenarioMessage {
  messageId: string;
  receivedAt: string;
  body: string;
}

/** A job of `key` ending: its oldest job that has not ended (the first job, then its follow-ups in order). */
export interface ScenarioJobEnd {
  key: string;
  status: 'succeeded' | 'failed';
  branch: string;
  pullRequest?: string;
}

export type ParsedScenarioLine =
  | { kind: 'blank' }
  | { kind: 'job-end'; end: ScenarioJobEnd; at: Date }
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
  if ('jobEnded' in value) return parseJobEnd(value);
  const { messageId, receivedAt, body } = value;
  if (typeof messageId !== 'string' || messageId.trim() === '') {
    return { kind: 'malformed', reason: 'messageId is missing or not a non-empty string' };
  }
  if (!isTimestamp(receivedAt)) {
    return { kind: 'malformed', reason: 'receivedAt is missing or not an ISO-8601 timestamp with a zone' };
  }
  if (typeof body !== 'string') {
    return { kind: 'malformed', reason: 'body is missing or not a string (it must be the raw SQS body)' };
  }
  return { kind: 'message', message: { messageId, receivedAt, body }, receivedAt: new Date(receivedAt) };
}

function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value));
}

function parseJobEnd(value: Record<string, unknown>): ParsedScenarioLine {
  const { jobEnded, at } = value;
  if (!isRecord(jobEnded)) return { kind: 'malformed', reason: 'jobEnded is not an object' };
  const { key, status, branch, pullRequest } = jobEnded;
  if (typeof key !== 'string' || key.trim() === '') return { kind: 'malformed', reason: 'jobEnded.key is missing or not a non-empty string' };
  if (status !== 'succeeded' && status !== 'failed') return { kind: 'malformed', reason: 'jobEnded.status must be "succeeded" or "failed"' };
  if (typeof branch !== 'string') return { kind: 'malformed', reason: 'jobEnded.branch is missing or not a string' };
  if (pullRequest !== undefined && typeof pullRequest !== 'string') return { kind: 'malformed', reason: 'jobEnded.pullRequest is not a string' };
  if (!isTimestamp(at)) return { kind: 'malformed', reason: 'at is missing or not an ISO-8601 timestamp with a zone' };
  return { kind: 'job-end', end: { key, status, branch, ...(pullRequest !== undefined ? { pullRequest } : {}) }, at: new Date(at) };
}

/** A job-end line, keys in the documented order. */
export function formatJobEndLine(end: ScenarioJobEnd, at: string): string {
  return JSON.stringify({ jobEnded: { key: end.key, status: end.status, branch: end.branch, ...(end.pullRequest !== undefined ? { pullRequest: end.pullRequest } : {}) }, at });
}

/** One scenario line, keys in the documented order. */
export function formatScenarioLine(message: ScenarioMessage): string {
  return JSON.stringify({ messageId: message.messageId, receivedAt: message.receivedAt, body: message.body });
}
