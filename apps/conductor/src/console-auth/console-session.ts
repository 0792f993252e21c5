import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CONSOLE_SESSION_COOKIE = 'conductor_console';

/**
 * The session key is derived from the token, so rotating CONSOLE_TOKEN ends every session at once and no second
 * secret needs managing. The cookie carries only an expiry, a nonce and their MAC: never the token.
 */
export class ConsoleSessions {
  private readonly key: Buffer;

  constructor(
    token: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createHmac('sha256', token).update('agent-conductor console session v1').digest();
  }

  issue(): { value: string; maxAgeSeconds: number } {
    const payload = `v1.${this.now() + this.ttlMs}.${randomBytes(16).toString('base64url')}`;
    return { value: `${payload}.${this.mac(payload)}`, maxAgeSeconds: Math.floor(this.ttlMs / 1000) };
  }

  isValid(value: string): boolean {
    const parts = value.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') return false;
    const payload = parts.slice(0, 3).join('.');
    const given = Buffer.from(parts[3] ?? '', 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const expiresAt = Number(parts[1]);
    return Number.isSafeInteger(expiresAt) && expiresAt > this.now();
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** Constant-time equality of two secrets of any length (hashing first hides the length too). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHmac('sha256', 'console-compare').update(given).digest();
  const b = createHmac('sha256', 'console-compare').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The value of one cookie from a Cookie header; undefined when absent. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${CONSOLE_SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
