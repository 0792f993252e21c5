import { randomFillSync } from 'node:crypto';

/*
 * RFC 9562 UUIDv7: 48-bit Unix time in milliseconds, version 7, 12 bits rand_a, variant 0b10, 62 bits rand_b.
 * The ingest path generates the ids of the rows it creates with it, so primary-key (and uuid foreign-key) index
 * inserts land at the right edge of their B-trees instead of on a random page of a history that no longer fits in
 * memory.
 *
 * Monotonic within this process (RFC 9562 §6.2, method 1): rand_a is a counter, seeded randomly each new
 * millisecond and incremented for each further id in the same millisecond; when it overflows, or the clock steps
 * back a little (up to MAX_CLOCK_STEP_BACK_MS), the timestamp is carried forward from the last id rather than going
 * backwards. A larger step back (a corrected clock, an explicit older timestamp) starts again from that time.
 */

const RANDOM_POOL_BYTES = 4096;
const pool = Buffer.alloc(RANDOM_POOL_BYTES);
let poolOffset = RANDOM_POOL_BYTES;

/** 10 random bytes per id: 1 to seed the counter (with 3 more bits), 8 for rand_b; drawn from a refilled pool. */
function randomBytes10(): Buffer {
  if (poolOffset + 10 > RANDOM_POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return slice;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const MAX_TIMESTAMP = 2 ** 48 - 1;
const COUNTER_MAX = 0xfff;
const MAX_CLOCK_STEP_BACK_MS = 10_000;

let lastMs = -1;
let counter = 0;

/** A new UUIDv7 string (lowercase, hyphenated) for `now` (ms since the epoch; default Date.now()). */
export function uuidv7(now: number = Date.now()): string {
  if (!Number.isInteger(now) || now < 0 || now > MAX_TIMESTAMP) {
    throw new RangeError(`uuidv7: timestamp ${now} is not a 48-bit millisecond count`);
  }
  const random = randomBytes10();
  let ms = now;
  if (ms > lastMs || ms < lastMs - MAX_CLOCK_STEP_BACK_MS) {
    // A fresh millisecond: the counter starts at a random value in its lower half, leaving room to count up.
    counter = ((random[0] ?? 0) << 3) | ((random[1] ?? 0) & 0x7);
  } else {
    ms = lastMs;
    counter += 1;
    if (counter > COUNTER_MAX) {
      ms = Math.min(lastMs + 1, MAX_TIMESTAMP);
      counter = 0;
    }
  }
  lastMs = ms;

  const bytes = new Uint8Array(16);
  // 48-bit big-endian timestamp; split because bitwise operators work on 32 bits.
  const high = Math.floor(ms / 2 ** 32);
  const low = ms >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((random[2] ?? 0) & 0x3f);
  for (let index = 9; index < 16; index += 1) bytes[index] = random[index - 6] ?? 0;

  let text = '';
  for (let index = 0; index < 16; index += 1) {
    if (index === 4 || index === 6 || index === 8 || index === 10) text += '-';
    text += HEX[bytes[index] ?? 0];
  }
  return text;
}

/** The millisecond timestamp a UUIDv7 carries (for tests and diagnostics). */
export function uuidv7Timestamp(id: string): number {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex) || hex[12] !== '7') {
    throw new Error(`uuidv7Timestamp: ${id} is not a UUIDv7`);
  }
  return parseInt(hex.slice(0, 12), 16);
}
