import { isSensitiveKey, REDACTED, redactSecrets, redactValue as redactValueWith } from '@agent-conductor/contracts';

export { isSensitiveKey, REDACTED };

/**
 * What `newWorkerToken()` returns (32 random bytes, base64url: 43 characters). Nothing else the conductor and
 * scheduler log has that exact shape (UUIDs are 36 with dashes, commit SHAs 40 hex, SHA-256 64 hex), so a stray
 * one is hidden too. Only our services' logs get this rule: in an agent's transcript it would hide ordinary code.
 */
const WORKER_TOKEN_SHAPE = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

/** Hides credential-looking substrings of free text; `secrets` are exact values known to be secret. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  return redactSecrets(text, secrets).replace(WORKER_TOKEN_SHAPE, REDACTED);
}

/**
 * A copy of `value` that is safe to log: sensitive keys lose their values at any depth, strings are scrubbed
 * with {@link redactText}. Cycles and depth are bounded so a log call can never hang or blow the stack.
 */
export function redactValue(value: unknown, secrets: readonly string[] = []): unknown {
  return mapStrings(redactValueWith(value, secrets), (text) => text.replace(WORKER_TOKEN_SHAPE, REDACTED));
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
}
