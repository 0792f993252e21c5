import { status } from '@grpc/grpc-js';
import { retryWhileTransient, type RetryPolicy } from '../src/conductor/retry';

const unavailable = Object.assign(new Error('connect ECONNREFUSED'), { code: status.UNAVAILABLE });

/** Fails with UNAVAILABLE `failures` times, then succeeds; returns the delays the retry loop chose. */
async function delaysFor(policy: RetryPolicy, failures: number, random: () => number): Promise<number[]> {
  const delays: number[] = [];
  let calls = 0;
  const result = await retryWhileTransient(
    policy,
    async () => {
      calls++;
      if (calls <= failures) throw unavailable;
      return 'done';
    },
    (_attempt, delayMs) => delays.push(delayMs),
    random,
  );
  expect(result).toBe('done');
  return delays;
}

describe('retryWhileTransient backoff', () => {
  const policy: RetryPolicy = { windowMs: 60_000, initialDelayMs: 8, maxDelayMs: 32 };

  it('draws each delay from the whole interval [0, ceiling), not just its upper half (full jitter)', async () => {
    // Equal jitter would never go below half the ceiling: 4, 8, 16, 16 here at the least.
    expect(await delaysFor(policy, 4, () => 0.1)).toEqual([0, 1, 3, 3]);
  });

  it('doubles the ceiling per attempt and caps it at maxDelayMs', async () => {
    expect(await delaysFor(policy, 5, () => 0.999)).toEqual([7, 15, 31, 31, 31]);
  });

  it('gives up with the transient error once the next delay would pass the window', async () => {
    const shortWindow: RetryPolicy = { windowMs: 1_000, initialDelayMs: 100, maxDelayMs: 10_000 };
    let calls = 0;
    const failing = retryWhileTransient(
      shortWindow,
      async () => {
        calls++;
        throw unavailable;
      },
      () => undefined,
      () => 0.999,
    );
    await expect(failing).rejects.toBe(unavailable);
    // Delays of 99, 199 and 399 ms fit in the 1 s window (with 300 ms to spare for a loaded machine);
    // the fourth, 799 ms, would end past it, so the fourth failure is final.
    expect(calls).toBe(4);
  });

  it('does not retry an error that is not transient', async () => {
    const denied = Object.assign(new Error('bad token'), { code: status.PERMISSION_DENIED });
    let calls = 0;
    const failing = retryWhileTransient(
      policy,
      async () => {
        calls++;
        throw denied;
      },
      () => undefined,
      () => 0.5,
    );
    await expect(failing).rejects.toBe(denied);
    expect(calls).toBe(1);
  });
});
