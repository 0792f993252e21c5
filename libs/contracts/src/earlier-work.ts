/**
 * Bounds on what one agent's work may put in front of the next one (workerV1.EarlierWork). Conductor and worker
 * both apply them: the texts come from agents, and an agent is not trusted to keep them short.
 */
export const EARLIER_WORK_LIMITS = {
  /** Jobs the conductor offers in one handshake. */
  entries: 10,
  summaryChars: 1_000,
  titleChars: 200,
  branchChars: 200,
  pullRequestChars: 500,
} as const;

const OMITTED = ' […]';

// Everything but tab and newline: a carriage return or an escape sequence could make text look like something else.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

// Credentials by their well-known shapes (GitHub, OpenAI, AWS access keys, PEM private keys): whatever an agent
// copied into its report from the environment or the repository goes no further.
const CREDENTIAL_SHAPES = [
  /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g,
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

export const REDACTED_CREDENTIAL = '[REDACTED]';

/**
 * At most `max` UTF-16 code units of `text` without control characters, bidirectional overrides or credentials of
 * a well-known shape, cut at a word boundary when one is near, never inside a surrogate pair, and marked when cut.
 */
export function boundedExcerpt(text: string, max: number): string {
  const scrubbed = CREDENTIAL_SHAPES.reduce((result, shape) => result.replace(shape, REDACTED_CREDENTIAL), text);
  const clean = scrubbed.replace(/\r\n?/g, '\n').replace(CONTROL, '').trim();
  if (clean.length <= max) return clean;
  let end = Math.max(0, max - OMITTED.length);
  const code = clean.charCodeAt(end - 1);
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end -= 1;
  const space = clean.lastIndexOf(' ', end);
  if (space > end * 0.8) end = space;
  return `${clean.slice(0, end).trimEnd()}${OMITTED}`;
}

/** One line: newlines and tabs become spaces, then bounded like any excerpt. */
export function boundedLine(text: string, max: number): string {
  return boundedExcerpt(text.replace(/\s+/g, ' '), max);
}
