import { randomFillSync } from 'node:crypto';
import { V7Generator } from 'uuidv7';

/*
 * RFC 9562 UUIDv7 from the `uuidv7` package. The ingest path generates the ids of the rows it creates with it, so
 * primary-key (and uuid foreign-key) index inserts land at the right edge of their B-trees instead of on a random
 * page of a history that no longer fits in memory.
 *
 * Monotonic within this process: the package keeps a counter below the timestamp and, when the clock steps back by
 * up to ROLLBACK_ALLOWANCE_MS, carries the last timestamp forward; a larger step starts again from the new time.
 */

const ROLLBACK_ALLOWANCE_MS = 10_000;

/**
 * The package's default source asks the kernel for 32 bytes every few ids, which doubled its cost per id
 * (`npm run bench:uuidv7`, docs/benchmarks.md); the ingest path makes up to five ids per message.
 */
class PooledRandom {
  private readonly pool = new Uint32Array(1024);
  private cursor = this.pool.length;

  nextUint32(): number {
    if (this.cursor >= this.pool.length) {
      randomFillSync(this.pool);
      this.cursor = 0;
    }
    const value = this.pool[this.cursor] ?? 0;
    this.cursor += 1;
    return value;
  }
}

const generator = new V7Generator(new PooledRandom());

/** A new UUIDv7 string (lowercase, hyphenated) for `now` (ms since the epoch; default Date.now()). */
export function uuidv7(now: number = Date.now()): string {
  return generator.generateOrResetCore(now, ROLLBACK_ALLOWANCE_MS).toString();
}
