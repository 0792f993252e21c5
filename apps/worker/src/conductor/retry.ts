import { status } from '@grpc/grpc-js';

export interface RetryPolicy {
  /** Total time budget across attempts. */
  windowMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * UNAVAILABLE: the conductor is restarting or not listening yet (ECONNREFUSED, a dropped connection).
 * CANCELLED: a conductor killed mid-call; grpc-js reports the calls it had in flight that way. The worker
 * never cancels a call it still wants an answer to, so a CANCELLED that reaches here came from the other side.
 * ABORTED: the conductor still holds this worker's previous upload, whose connection dropped a moment ago.
 */
const TRANSIENT = new Set<unknown>([status.UNAVAILABLE, status.CANCELLED, status.ABORTED]);

export function isTransient(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && TRANSIENT.has((error as { code: unknown }).code);
}

/**
 * Retries `operation` while the conductor is unreachable (see {@link isTransient}), with exponential backoff
 * and full jitter (delay = random(0, min(max, initial * 2^(attempt-1))), as the conductor's launch retries do):
 * workers cut off by the same conductor restart come back spread over the whole interval instead of in lockstep.
 * Any other error is final. Each retry runs the whole operation again: a stream starts over from its first message.
 */
export async function retryWhileTransient<T>(
  policy: RetryPolicy,
  operation: () => Promise<T>,
  onRetry: (attempt: number, delayMs: number, error: unknown) => void,
  random: () => number = Math.random,
): Promise<T> {
  const deadline = Date.now() + policy.windowMs;
  let ceiling = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error)) throw error;
      const delayMs = Math.floor(random() * ceiling);
      if (Date.now() + delayMs > deadline) throw error;
      onRetry(attempt, delayMs, error);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      ceiling = Math.min(ceiling * 2, policy.maxDelayMs);
    }
  }
}
