// Small guards for walking untrusted JSON without `any`.

export type JsonRecord = Record<string, unknown>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail<T = never>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a JSON value's type the way a person reading a rejection would: "array", "string", "null"… */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Read by shape: gRPC, SDK and cross-realm errors carry a message without always being this realm's Error. */
export function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}

/** Reasons are stored and shown to operators; a 256 KiB body must not turn into a 256 KiB reason. */
export function truncate(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Postgres text cannot hold U+0000. Stored text that came from a message (a reason quoting it, a body) has each
 * NUL written as the six characters \u0000 instead, which a reader recognises and nothing else is lost.
 */
export function escapeNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\\u0000') : text;
}

export function countNul(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\0'); at !== -1; at = text.indexOf('\0', at + 1)) count += 1;
  return count;
}

export function parseJson(text: string, what: string): Parsed<unknown> {
  if (text.trim() === '') return fail(`${what} is empty`);
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (error) {
    return fail(`${what} is not valid JSON (${truncate(errorMessage(error))})`);
  }
}

/** A trimmed non-empty string, or null for anything else (missing, blank, wrong type). */
export function nonEmptyString(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function record(value: unknown): JsonRecord {
  return isRecord(value) ? value : {};
}

export function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function listKeys(value: JsonRecord, max = 8): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, max).join(', ');
  return keys.length > max ? `${shown}, … (${keys.length} in total)` : shown;
}
