// CloudWatch writes offsets as "+0000" (no colon), which ECMAScript's Date.parse is not required to accept;
// V8 happens to, but it also accepts many malformed strings. Parsing by hand keeps us strict and portable.
const AWS_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses an ISO-8601 timestamp as AWS emits it: `2026-05-12T20:58:58Z`, `2026-05-12T20:58:58.130+0000`
 * or `…+00:00`. A zone designator is required: a local time would be ambiguous. Returns null when invalid.
 */
export function parseAwsTimestamp(value: string): Date | null {
  const match = AWS_TIMESTAMP.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;

  const millis = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const offsetMinutes = parseOffset(zone ?? 'Z');
  if (offsetMinutes === null) return null;

  const instant = new Date(0);
  // setUTCFullYear rather than Date.UTC: the latter maps years 0–99 to 1900–1999.
  instant.setUTCFullYear(year, month - 1, day);
  instant.setUTCHours(hour, minute, second, millis);
  return new Date(instant.getTime() - offsetMinutes * 60_000);
}

function parseOffset(zone: string): number | null {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}
