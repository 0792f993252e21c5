/**
 * Polls `probe` until it returns a value (anything but undefined) and returns it; fails naming `what` after
 * `timeoutMs`. The bound is generous: tests share a loaded machine, and only a stuck condition should reach it.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
