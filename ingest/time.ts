// Timestamp readers for the formats gateways and IdPs write, all to epoch ms.
// Each throws FieldError('invalid_timestamp') rather than returning NaN.
import { FieldError } from './parse-result.js';

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

// Earliest and latest instants accepted: a wrong unit (seconds read as ms) falls outside.
const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(2200, 0, 1);

function checked(ms: number, raw: string): number {
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) {
    throw new FieldError('invalid_timestamp', `unreadable timestamp ${JSON.stringify(raw.slice(0, 64))}`);
  }
  return Math.round(ms);
}

/** ISO-8601 / RFC 3339 with an offset or `Z` (fractions beyond ms are truncated). */
export function isoToMs(raw: string): number {
  const ms = rfc3339(raw);
  if (!Number.isNaN(ms)) return checked(ms, raw);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(raw)) checked(NaN, raw);
  return checked(Date.parse(raw), raw);
}

const digit = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
};
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1);
const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;

/**
 * Date.UTC for a valid date (month 1-12) and time, in integer arithmetic: Date.UTC's argument
 * conversions cost more than the rest of a hand-read timestamp. Days from H. Hinnant's
 * days_from_civil ("chrono-Compatible Low-Level Date Algorithms").
 */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
  return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000;
}

/**
 * The RFC 3339 shape nearly every gateway writes, `2026-11-25T10:00:00[.123…](Z|+02:00)`, read by
 * hand: Date.parse costs several times more per record. NaN for any other shape or an impossible
 * date, which Date.parse then reads (or rejects) as before.
 */
function rfc3339(s: string): number {
  const n = s.length;
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return NaN;
  }
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59)) {
    return NaN;
  }
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    // Like Date.parse: the first three digits count, the rest are truncated.
    const from = ++i;
    while (i < n && !Number.isNaN(digit(s, i))) {
      if (i - from < 3) ms = ms * 10 + digit(s, i);
      i++;
    }
    if (i === from) return NaN;
    for (let k = i - from; k < 3; k++) ms *= 10;
  }
  const sign = s.charCodeAt(i);
  let offsetMin = 0;
  if (sign === 43 || sign === 45) {
    if (n !== i + 6 || s.charCodeAt(i + 3) !== 58) return NaN;
    const h = two(s, i + 1);
    const m = two(s, i + 4);
    if (!(h <= 23 && m <= 59)) return NaN;
    offsetMin = (sign === 45 ? -1 : 1) * (h * 60 + m);
  } else if (sign !== 90 || n !== i + 1) return NaN;
  return utcMs(year, month, day, hour, minute, second) + ms - offsetMin * 60_000;
}

const code3 = (s: string, i: number): number => (s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8) | s.charCodeAt(i + 2);
const MONTH_OF_CODE: ReadonlyMap<number, number> = new Map(Object.entries(MONTHS).map(([name, m]) => [code3(name, 0), m]));
const WEEKDAY_CODES: ReadonlySet<number> = new Set(['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].map((d) => code3(d, 0)));
const UTC_CODE = code3('UTC', 0);

/**
 * Java's Date.toString() in UTC, `Thu May 04 03:50:06 UTC 2023` (Cognito writes exp / iat so), read
 * by hand: Date.parse costs several times more on this shape. NaN for any other shape or an
 * impossible date, for the caller to hand to Date.parse.
 */
export function javaUtcDateToMs(s: string): number {
  if (s.length !== 28 || s.charCodeAt(3) !== 32 || s.charCodeAt(7) !== 32 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 32 || s.charCodeAt(23) !== 32) {
    return NaN;
  }
  const month = MONTH_OF_CODE.get(code3(s, 4));
  if (month === undefined || !WEEKDAY_CODES.has(code3(s, 0)) || code3(s, 20) !== UTC_CODE) return NaN;
  const year = two(s, 24) * 100 + two(s, 26);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  if (!(year >= 1000 && day >= 1 && day <= daysIn(year, month + 1) && hour <= 23 && minute <= 59 && second <= 59)) return NaN;
  return utcMs(year, month + 1, day, hour, minute, second);
}

// CLF times have whole seconds, so consecutive lines mostly repeat the last one.
let lastClf = '';
let lastClfMs = 0;

/** NGINX / Apache / Traefik CLF time: `10/Oct/2000:13:55:36 -0700`, optionally with `.123` ms. */
export function clfToMs(raw: string): number {
  if (raw === lastClf) return lastClfMs;
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*([+-])(\d{2}):?(\d{2})$/.exec(raw);
  const month = m ? MONTHS[m[2]!] : undefined;
  if (!m || month === undefined) return checked(NaN, raw);
  const frac = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  const offsetMin = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), frac);
  const ms = checked(utc - offsetMin * 60_000, raw);
  lastClf = raw;
  lastClfMs = ms;
  return ms;
}

/** Epoch number in s, ms, µs or ns, told apart by magnitude. */
export function epochToMs(value: number, raw: string = String(value)): number {
  const abs = Math.abs(value);
  const ms = abs < 1e11 ? value * 1000 : abs < 1e14 ? value : abs < 1e17 ? value / 1000 : value / 1e6;
  return checked(ms, raw);
}

/** Any of the above, chosen by shape: numbers (or numeric strings) as epochs, else ISO, else CLF. */
export function anyToMs(raw: string | number): number {
  if (typeof raw === 'number') return epochToMs(raw);
  // The usual shape first; a string it reads is neither an epoch nor CLF.
  const iso = rfc3339(raw);
  if (!Number.isNaN(iso)) return checked(iso, raw);
  if (/^\d+(\.\d+)?$/.test(raw)) return epochToMs(Number(raw), raw);
  if (/^\d{4}-/.test(raw)) return isoToMs(raw);
  return clfToMs(raw);
}
