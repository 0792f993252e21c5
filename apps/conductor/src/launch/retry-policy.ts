/**
 * Exponential backoff with full jitter (delay = random(0, min(max, base * 2^(attempt-1)))):
 * many jobs failing together, e.g. when ECS runs out of capacity, come back spread out instead of in lockstep.
 */
export function retryDelayMs(attempt: number, policy: { retryBaseMs: number; retryMaxMs: number }, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.min(exponent, 30));
  return Math.floor(random() * ceiling);
}
