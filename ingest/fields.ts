// Typed readers over an untrusted JSON object. They accept what real producers write
// (numbers logged as strings, "-" or "" for unset) and throw FieldError on wrong types,
// which the parser's `guard` turns into a DLQ reason.
import { FieldError } from './parse-result.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Value at a dotted path (`request.headers.authorization`), undefined when absent. */
export function at(obj: JsonObject, path: string): unknown {
  const direct = obj[path];
  if (direct !== undefined || !path.includes('.')) return direct;
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Treats null, "", and the "-" that AWS / NGINX / Envoy write for unset as absent. */
const unset = (v: unknown): boolean => v === undefined || v === null || v === '' || v === '-';

/** A string field (numbers and booleans are stringified); null when unset. */
export function str(obj: JsonObject, path: string): string | null {
  return strValue(at(obj, path), path);
}

/**
 * str() of a value the parser loaded itself: `o.method` is a named property load, cheaper on every
 * record than the lookup by a key string that str() makes. `path` names the field in a rejection.
 */
export function strValue(v: unknown, path: string): string | null {
  if (unset(v)) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new FieldError('invalid_field', `${path}: expected a string, got ${typeName(v)}`);
}

/** A required string field. */
export function reqStr(obj: JsonObject, path: string): string {
  const v = str(obj, path);
  if (v === null) throw new FieldError('missing_field', `${path}: missing`);
  return v;
}

/** A numeric field (numeric strings accepted); null when unset. */
export function num(obj: JsonObject, path: string): number | null {
  return numValue(at(obj, path), path);
}

/** num() of a value the parser loaded itself (see strValue). */
export function numValue(v: unknown, path: string): number | null {
  if (unset(v)) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new FieldError('invalid_field', `${path}: expected a number, got ${typeName(v)}`);
  return n;
}

/** A required numeric field. */
export function reqNum(obj: JsonObject, path: string): number {
  const v = num(obj, path);
  if (v === null) throw new FieldError('missing_field', `${path}: missing`);
  return v;
}

/** An HTTP status code (100-999), required. */
export function status(obj: JsonObject, path: string): number {
  const v = reqNum(obj, path);
  if (!Number.isInteger(v) || v < 100 || v > 999) throw new FieldError('invalid_field', `${path}: not an HTTP status`);
  return v;
}

/** An object field; null when unset. */
export function obj(o: JsonObject, path: string): JsonObject | null {
  const v = at(o, path);
  if (unset(v)) return null;
  if (!isObject(v)) throw new FieldError('invalid_field', `${path}: expected an object, got ${typeName(v)}`);
  return v;
}

/** Lower-cased header map from a logged header object; multi-valued headers joined with ", ". */
export function headers(o: JsonObject, path: string): Record<string, string> {
  const h = obj(o, path);
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.filter((x) => typeof x === 'string').join(', ');
    else if (typeof v === 'number') out[k.toLowerCase()] = String(v);
  }
  return out;
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}
