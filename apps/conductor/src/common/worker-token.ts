import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes; only {@link hashWorkerToken} of it is ever stored. */
export function newWorkerToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashWorkerToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time, so response timing says nothing about how much of a guessed token was right. */
export function workerTokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashWorkerToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
