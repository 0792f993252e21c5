import { parseAwsTimestamp } from './aws-time';

describe('parseAwsTimestamp', () => {
  it('reads the SNS "+0000" offset form as the right instant', () => {
    expect(parseAwsTimestamp('2026-05-12T21:05:00.000+0000')?.getTime()).toBe(Date.UTC(2026, 4, 12, 21, 5, 0, 0));
  });

  it.each([
    ['2026-05-12T20:58:58Z', '2026-05-12T20:58:58.000Z'],
    ['2026-05-12T20:58:58.130+0000', '2026-05-12T20:58:58.130Z'],
    ['2026-05-12T20:58:58.130+00:00', '2026-05-12T20:58:58.130Z'],
    ['2026-05-12T22:28:58.5+0130', '2026-05-12T20:58:58.500Z'],
    ['2026-05-12T13:58:58-0700', '2026-05-12T20:58:58.000Z'],
    ['2026-05-12T20:58:58.123456789Z', '2026-05-12T20:58:58.123Z'],
    ['2026-01-01T00:30:00+0100', '2025-12-31T23:30:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('parses %s as %s', (input, expected) => {
    expect(parseAwsTimestamp(input)?.toISOString()).toBe(expected);
  });

  it.each([
    ['no zone designator', '2026-05-12T20:58:58'],
    ['a space instead of T', '2026-05-12 20:58:58Z'],
    ['month 13', '2026-13-12T20:58:58Z'],
    ['30 February', '2026-02-30T00:00:00Z'],
    ['29 February in a common year', '2025-02-29T00:00:00Z'],
    ['hour 24', '2026-05-12T24:00:00Z'],
    ['an offset of 25 hours', '2026-05-12T20:58:58+2500'],
    ['prose', 'yesterday'],
    ['an empty string', ''],
  ])('rejects %s', (_why, input) => {
    expect(parseAwsTimestamp(input)).toBeNull();
  });
});
