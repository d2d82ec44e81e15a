/** Times at the store boundary: what counts as a time, and its one stored spelling (ISO-8601 UTC with milliseconds). */
// Year, month, day, then optionally hour, minute, second, fraction and a zone (Z or ±hh[:]mm).
const TIME_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2})))?$/;
// Date.UTC maps years 0–99 to 19xx, so the first instant of year 1 is spelled out.
const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MINUTE = 60_000;

/** Days in a month (1–12) of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The instant an ISO-8601 text names, or NaN when a field is outside the real calendar: month 1–12,
 * a day that month has (February 29th only in leap years), hour 0–23 (no `24:00`), minute 0–59,
 * second 0–59 (no leap second: no engine or `Date` can hold one), an offset up to ±23:59. `Date.parse`
 * would roll `2026-02-30` over to March 2nd; nothing is rolled over here. Digits past milliseconds
 * are cut.
 */
function parseTime(text: string): number {
  const match = TIME_TEXT.exec(text);
  if (match === null) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone, sign, zh = '0', zm = '0'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const offsetHours = Number(zh);
  const offsetMinutes = Number(zm);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, '0')));
  const offset = zone === undefined || zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  return utc.getTime() - offset * MINUTE;
}

/**
 * Normalizes a time given as an ISO-8601 string (with a zone, or a bare date), a `Date` or epoch
 * milliseconds to `YYYY-MM-DDTHH:mm:ss.sssZ`; `undefined` when it is not one, or names a day or
 * time the calendar does not have (`2026-02-30`, `T24:00`, a leap second).
 */
export function normalizeTime(value: unknown): string | undefined {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') ms = parseTime(value);
  else return undefined;
  if (!Number.isFinite(ms) || ms < MIN_TIME || ms > MAX_TIME) return undefined;
  return new Date(ms).toISOString();
}
