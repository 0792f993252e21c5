import { uuidv7 } from './uuidv7';

/** The millisecond timestamp in a UUIDv7's first 48 bits. */
function uuidv7Timestamp(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 0b10, the 48-bit millisecond timestamp first', () => {
    const ms = Date.parse('2026-06-01T12:34:56.789Z');
    const id = uuidv7(ms);
    expect(id).toMatch(SHAPE);
    expect(uuidv7Timestamp(id)).toBe(ms);
    expect(id.slice(0, 13)).toBe(`${ms.toString(16).padStart(12, '0').slice(0, 8)}-${ms.toString(16).padStart(12, '0').slice(8)}`);
  });

  it('encodes the smallest and the largest 48-bit timestamps', () => {
    expect(uuidv7Timestamp(uuidv7(0))).toBeGreaterThanOrEqual(0);
    const max = 2 ** 48 - 1;
    expect(uuidv7(max).slice(0, 13)).toBe('ffffffff-ffff');
  });

  it('rejects timestamps that do not fit 48 bits', () => {
    expect(() => uuidv7(-1)).toThrow(RangeError);
    expect(() => uuidv7(2 ** 48)).toThrow(RangeError);
    expect(() => uuidv7(1.5)).toThrow(RangeError);
  });

  it('defaults to the current time', () => {
    const before = Date.now();
    const stamp = uuidv7Timestamp(uuidv7());
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('sorts in creation order, within one millisecond too, and never repeats', () => {
    const ms = Date.parse('2030-01-01T00:00:00.000Z');
    const ids = [
      ...Array.from({ length: 5000 }, () => uuidv7(ms)),
      ...Array.from({ length: 10 }, () => uuidv7(ms + 1)),
      ...Array.from({ length: 10 }, () => uuidv7(ms + 5)),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(SHAPE);
  });

  it('stays monotonic when the clock steps back, carrying the last timestamp forward', () => {
    const ms = Date.parse('2031-01-01T00:00:00.000Z');
    const first = uuidv7(ms);
    const second = uuidv7(ms - 1000);
    expect(second > first).toBe(true);
    expect(uuidv7Timestamp(second)).toBeGreaterThanOrEqual(ms);
  });

  it('is random after the timestamp', () => {
    const ms = Date.parse('2032-01-01T00:00:00.000Z');
    const tails = new Set(Array.from({ length: 100 }, (_, index) => uuidv7(ms + index * 10).slice(19)));
    expect(tails.size).toBe(100);
  });
});
