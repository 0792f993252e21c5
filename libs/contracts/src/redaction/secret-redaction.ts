/*
 * One redactor for every process of ours: the conductor's and scheduler's logs (through libs/observability) and
 * the worker's logs, transcripts, output tails, events and PR bodies. Pure string work, no dependencies, because
 * the worker may import nothing of ours but the contracts.
 */

export const REDACTED = '[REDACTED]';

/**
 * Field names whose values are credentials wherever they appear: `token`, `workerToken`, `GITHUB_TOKEN`,
 * `authorization`, `secretAccessKey`, `password`… Plurals (`input_tokens`, `max_tokens`) are counters, not secrets.
 */
const SENSITIVE_KEY = /(token|authorization|passw(or)?d|api[-_]?key|credentials?|cookie)$|secret/i;

/** Token shapes recognisable on their own, wherever they appear. */
const TOKEN_SHAPES: readonly RegExp[] = [
  // GitHub classic: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server (ghs_), refresh (ghr_).
  /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{20,255}(?![A-Za-z0-9_])/g,
  // GitHub fine-grained personal access tokens.
  /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,255}/g,
  // OpenAI keys: legacy sk-…, project sk-proj-…, service account sk-svcacct-…, admin sk-admin-….
  /(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g,
  // Slack, because agents meet them in repositories as often as the others.
  /(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,}/g,
  // PEM private keys, also a truncated one.
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/**
 * An AWS access key id, and a 40-character secret access key printed near it (the way `aws configure list`,
 * credentials files and env dumps show them).
 */
const AWS_KEY_PAIR = /(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])(?:([^\n]{0,120}?|\n[^\n]{0,120}?)(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=]))?/g;

/** `Authorization: token …`, `authorization=Bearer …`, `"Authorization": "Basic …"` (headers, curl -v, git traces). */
const AUTHORIZATION_HEADER = /\b(authorization["']?\s*[:=]\s*["']?)(?:(token|bearer|basic|digest)\s+)?[^\s"',;]+/gi;
/** A bare scheme and credential, e.g. in a command line: `-H "Bearer …"`. */
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * `WORKER_TOKEN=…`, `token: …`, `"password":"…"`, `aws_secret_access_key = …` inside free text. The name must END in
 * the secret word (`GITHUB_TOKEN`, not `input_tokens`) or contain `secret`, and digits-only values are counters. A
 * value already redacted is left as it is, so redacting twice changes nothing.
 */
const ASSIGNED_SECRET = /\b([A-Za-z0-9_]*(?:token|passw(?:or)?d|api[-_]?key|secret[A-Za-z0-9_]*))(?![A-Za-z0-9_])(["']?\s*[:=]\s*["']?)(?!\d+(?:["'\s,;)}\]]|$))(?!\[REDACTED\])([^\s"'&,;)}\]]+)/gi;

/** Credentials in URLs: git remotes with a token, DATABASE_URL in a connection error. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi;

/** Exact secrets shorter than this are not searched for: they would hide ordinary words. */
const MIN_KNOWN_SECRET_LENGTH = 6;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/**
 * Hides credential-looking substrings of free text. `knownSecrets` are exact values known to be secret (the
 * process's own tokens), hidden wherever they appear, also inside the Basic credential git sends.
 */
export function redactSecrets(text: string, knownSecrets: readonly string[] = []): string {
  let result = text;
  for (const secret of knownVariants(knownSecrets)) result = result.split(secret).join(REDACTED);
  for (const shape of TOKEN_SHAPES) result = result.replace(shape, REDACTED);
  return result
    .replace(AWS_KEY_PAIR, (_match, _id: string, between: string | undefined) => (between === undefined ? REDACTED : `${REDACTED}${between}${REDACTED}`))
    .replace(URL_PASSWORD, `$1${REDACTED}@`)
    .replace(AUTHORIZATION_HEADER, (_match, prefix: string, scheme: string | undefined) => `${prefix}${scheme ? `${scheme} ` : ''}${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(ASSIGNED_SECRET, `$1$2${REDACTED}`);
}

/** A reusable redactor for a fixed set of known secrets. */
export function secretRedactor(knownSecrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const secrets = knownSecrets.filter((secret): secret is string => secret !== undefined);
  return (text) => redactSecrets(text, secrets);
}

/**
 * The known-secret values of temporary AWS credentials (an incident agent's read-only session). The key id has a
 * recognisable shape, but the secret key and the session token printed alone do not: only their exact values hide them.
 */
export function awsSessionSecrets(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): string[] {
  return [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken];
}

/**
 * A copy of `value` that is safe to log or store: sensitive keys lose their values at any depth, strings are
 * scrubbed with {@link redactSecrets}. Cycles and depth are bounded so a call can never hang or blow the stack.
 */
export function redactValue(value: unknown, knownSecrets: readonly string[] = [], depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactSecrets(value, knownSecrets);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    return { name: value.name, message: redactSecrets(value.message, knownSecrets), ...(value.stack ? { stack: redactSecrets(value.stack, knownSecrets) } : {}) };
  }
  if (seen.has(value) || depth >= 8) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, knownSecrets, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = isSensitiveKey(key) && item !== undefined && item !== null && typeof item !== 'boolean' ? REDACTED : redactValue(item, knownSecrets, depth + 1, seen);
  }
  return copy;
}

/** Each secret as given and as the `x-access-token:` Basic credential git sends for it, longest first. */
function knownVariants(secrets: readonly string[]): string[] {
  const values = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_KNOWN_SECRET_LENGTH) continue;
    values.add(secret);
    values.add(Buffer.from(`x-access-token:${secret}`, 'utf8').toString('base64'));
  }
  return [...values].sort((a, b) => b.length - a.length);
}
