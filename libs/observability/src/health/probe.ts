import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

/**
 * One readiness check as a terminus indicator: `up` when `check` settles within `timeoutMs`, otherwise `down`
 * with the reason (terminus's own Prisma indicator drops it, and "down" alone tells an operator nothing).
 * `check` may return extra fields to show next to the status.
 */
export async function probe<const Key extends string>(
  indicators: HealthIndicatorService,
  key: Key,
  timeoutMs: number,
  check: () => Promise<Record<string, unknown> | void>,
): Promise<HealthIndicatorResult<Key>> {
  const session = indicators.check(key);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const details = await Promise.race([check(), timeout]);
    return session.up(details ?? {});
  } catch (error) {
    return session.down({ message: error instanceof Error ? error.message : String(error) });
  } finally {
    clearTimeout(timer);
  }
}
