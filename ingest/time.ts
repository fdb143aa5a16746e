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
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(raw)) checked(NaN, raw);
  return checked(Date.parse(raw), raw);
}

/** NGINX / Apache / Traefik CLF time: `10/Oct/2000:13:55:36 -0700`, optionally with `.123` ms. */
export function clfToMs(raw: string): number {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*([+-])(\d{2}):?(\d{2})$/.exec(raw);
  const month = m ? MONTHS[m[2]!] : undefined;
  if (!m || month === undefined) return checked(NaN, raw);
  const frac = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  const offsetMin = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), frac);
  return checked(utc - offsetMin * 60_000, raw);
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
  if (/^\d+(\.\d+)?$/.test(raw)) return epochToMs(Number(raw), raw);
  if (/^\d{4}-/.test(raw)) return isoToMs(raw);
  return clfToMs(raw);
}
