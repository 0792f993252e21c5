export const REDACTED = '[REDACTED]';

/**
 * Field names whose values are credentials wherever they appear: `token`, `workerToken`, `WORKER_TOKEN`,
 * `GITHUB_TOKEN`, `authorization`, `secretAccessKey`, `password`… Plurals (`input_tokens`) are counts, not secrets.
 */
const SENSITIVE_KEY = /(token|authorization|passw(or)?d|api[-_]?key|credentials?|cookie)$|secret/i;

/** `WORKER_TOKEN=…`, `token: …`, `"password":"…"` inside free text (messages, stacks, command lines). */
const ASSIGNED_SECRET = /\b([A-Za-z0-9_]*(?:token|secret|passw(?:or)?d|api[-_]?key)[A-Za-z0-9_]*)(["']?\s*[:=]\s*["']?)([^\s"'&,;)]+)/gi;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
/** Credentials in URLs: git remotes with a token, DATABASE_URL in a connection error. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi;
/**
 * What `newWorkerToken()` returns (32 random bytes, base64url: 43 characters). Nothing else we log has that
 * exact shape (UUIDs are 36 with dashes, commit SHAs 40 hex, SHA-256 64 hex), so a stray one is hidden too.
 */
const WORKER_TOKEN_SHAPE = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/** Hides credential-looking substrings of free text; `secrets` are exact values known to be secret. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  }
  return result
    .replace(URL_PASSWORD, `$1${REDACTED}@`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(ASSIGNED_SECRET, `$1$2${REDACTED}`)
    .replace(WORKER_TOKEN_SHAPE, REDACTED);
}

/**
 * A copy of `value` that is safe to log: sensitive keys lose their values at any depth, strings are scrubbed
 * with {@link redactText}. Cycles and depth are bounded so a log call can never hang or blow the stack.
 */
export function redactValue(value: unknown, secrets: readonly string[] = [], depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message, secrets), ...(value.stack ? { stack: redactText(value.stack, secrets) } : {}) };
  }
  if (seen.has(value) || depth >= 8) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = isSensitiveKey(key) && item !== undefined && item !== null && typeof item !== 'boolean' ? REDACTED : redactValue(item, secrets, depth + 1, seen);
  }
  return copy;
}
