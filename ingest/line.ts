// First checks on one raw input line, shared by every format: size, UTF-8, binary
// content, and JSON decoding. Returns the records the line holds (a JSON array, such
// as a Kong http-log batch, holds several) or the reason it holds none.
import { isUtf8 } from 'node:buffer';
import type { RawRecord } from './parsers/types.js';
import { isObject } from './fields.js';
import { fail, type DlqReason } from './parse-result.js';
import type { JsonShapes } from './json-shapes.js';

export type LineRecords =
  /** `text` is null when the records were decoded from the bytes alone: then it is their UTF-8 decoding, CR stripped. */
  | { ok: true; records: RawRecord[]; text: string | null }
  | { ok: false; reason: DlqReason; detail: string; text: string | null };

/** Deepest JSON nesting reported as such when no format recognises a record. */
export const MAX_JSON_DEPTH = 64;

/**
 * Splits one line into records. `truncated` marks a line cut at the reader's length cap. `shapes`
 * decodes the stream's recurring JSON shapes and learns from the lines it misses.
 */
export function lineRecords(bytes: Buffer, truncated: boolean, maxLineBytes: number, shapes: JsonShapes | null = null): LineRecords {
  if (truncated) {
    return { ...fail('line_too_long', `line exceeds maxLineBytes ${maxLineBytes}`), text: bytes.toString('utf8') };
  }
  const body = lineBody(bytes);
  // A line a shape matches is valid UTF-8 free of NUL bytes: it needs none of the checks below,
  // nor a string of its own.
  if (shapes !== null && body[0] === 0x7b) {
    const shaped = shapes.decode(body);
    if (shaped !== null) return { ok: true, records: [{ kind: 'json', value: shaped, keys: shapes.keys }], text: null };
  }
  let text = bytes.toString('utf8');
  // The decoder turns invalid sequences into U+FFFD; only then is the full UTF-8 check worth its cost.
  if (text.includes('\uFFFD') && !isUtf8(bytes)) return { ...fail('invalid_utf8', 'line is not valid UTF-8'), text };
  // A NUL byte never occurs in a text log line; other stray control characters fail JSON.parse or
  // the text grammars, or are replaced in the fields they land in. UTF-8 decodes a NUL byte, and
  // nothing else, to U+0000: searching the text spares the call into the Buffer binding.
  if (text.indexOf('\0') >= 0) return { ...fail('binary_input', 'line holds NUL bytes'), text };
  if (body !== bytes) text = text.slice(0, -1);
  if (!looksLikeJson(text)) return { ok: true, records: [{ kind: 'text', line: text }], text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ...fail('invalid_json', err instanceof Error ? err.message.slice(0, 200) : 'invalid JSON'), text };
  }
  // Records without a key list still hold the property: parsers then see one kind of record object.
  if (isObject(value)) {
    shapes?.learn(value, body);
    return { ok: true, records: [{ kind: 'json', value, keys: undefined }], text };
  }
  if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
    return { ok: true, records: value.map((v) => ({ kind: 'json' as const, value: v, keys: undefined })), text };
  }
  return { ...fail(jsonDepth(text) > MAX_JSON_DEPTH ? 'nesting_too_deep' : 'unknown_format', 'JSON line is not an object or an array of objects'), text };
}

/** The line without a final CR (a CRLF log's line ending): `bytes` itself when it has none. */
export function lineBody(bytes: Buffer): Buffer {
  return bytes[bytes.length - 1] === 13 ? bytes.subarray(0, bytes.length - 1) : bytes;
}

// A JSON record starts with `{`, or `[` then `{` / `[` / `]`; text formats such as Envoy's
// start with `[` then a timestamp.
function looksLikeJson(text: string): boolean {
  let i = 0;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  const c = text.charCodeAt(i);
  if (c === 123) return true;
  if (c !== 91) return false;
  i++;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  const d = text.charCodeAt(i);
  return d === 123 || d === 91 || d === 93;
}

/** Deepest bracket nesting of a JSON text, strings skipped; stops counting past the limit. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}
