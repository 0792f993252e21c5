import { status } from '@grpc/grpc-js';

export interface RetryPolicy {
  /** Total time budget across attempts. */
  windowMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export function isUnavailable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === status.UNAVAILABLE;
}

/**
 * Retries `operation` while the conductor is UNAVAILABLE (restarting, or not listening yet), with exponential
 * backoff and full jitter so that many workers don't reconnect in lockstep. Any other error is final.
 */
export async function retryWhileUnavailable<T>(
  policy: RetryPolicy,
  operation: () => Promise<T>,
  onRetry: (attempt: number, delayMs: number, error: unknown) => void,
): Promise<T> {
  const deadline = Date.now() + policy.windowMs;
  let ceiling = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      if (Date.now() + delayMs > deadline) throw error;
      onRetry(attempt, delayMs, error);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      ceiling = Math.min(ceiling * 2, policy.maxDelayMs);
    }
  }
}
