// Hostile variants of documented parser samples, for the parser conformance suite
// (test/conformance/parsers.test.ts). Consumes one sample, a JSON record or a raw line; emits
// copies each broken in one way: a field replaced or deleted, the line truncated, bytes flipped,
// a number made too large for a double, hostile characters inserted. Guarantees: the sample is never modified, and the same sample and
// seed always give the same variants (byte positions come from the seeded `Random`).
import { Random } from '../../ingest/generator/random.js';
import type { JsonObject } from '../../ingest/fields.js';

/** A 100 KB string: past every field bound (the schema's 4096 characters) and most token caps. */
export const HUGE_STRING = 'x'.repeat(100 * 1024);

/** Values every field is replaced with in turn: wrong types, unset spellings, huge and control-laden strings. */
export const HOSTILE_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  2 ** 53 + 2,
  '',
  '-',
  'null',
  ' ',
  // The schema's string bound and one past it: a value at the bound must not end up past it.
  'x'.repeat(4096),
  'x'.repeat(4097),
  HUGE_STRING,
  '\u0000',
  'a\u0000b',
  'line\nbreak\r\n',
  '\u0007\u001b[31m\r\nX-Injected: 1',
  '\t\u000b\u000c\u0085\u2028',
  '\ud800',
  '%',
  '"\'\\',
  [],
  ['a'],
  [null, 1],
  [{ a: 1 }],
  {},
  { a: 1 },
  { a: { b: { c: [1] } } },
];

/** One variant: what was done to the sample, and the result. */
export interface Mutation<T> {
  what: string;
  value: T;
}

/** Marks a deleted field in `setAt`. */
const DELETE = Symbol('delete');

/** How deep `fieldMutations` walks below the top level (objects and arrays alike); the IdP tests' own mangling went as deep. */
export const DEFAULT_NESTING = 3;

/**
 * `record` with one field replaced by each HOSTILE_VALUES entry or deleted, for every field at the
 * top level and up to `nesting` levels below it, and with an unknown top-level key added.
 */
export function* fieldMutations(record: JsonObject, nesting = DEFAULT_NESTING): Generator<Mutation<JsonObject>> {
  for (const path of fieldPaths(record, nesting)) {
    const name = path.join('.');
    for (const value of HOSTILE_VALUES) yield { what: `${name} = ${label(value)}`, value: setAt(record, path, value) };
    yield { what: `${name} deleted`, value: setAt(record, path, DELETE) };
  }
  for (const value of HOSTILE_VALUES) yield { what: `tw_unknown_key added = ${label(value)}`, value: { ...structuredClone(record), tw_unknown_key: value } };
}

/** Every field path of `record` (array elements by index), down to `nesting` levels below the top. */
function fieldPaths(node: JsonObject | unknown[], nesting: number, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  const entries: [string, unknown][] = Array.isArray(node) ? node.map((v, i) => [String(i), v]) : Object.entries(node);
  for (const [key, child] of entries) {
    const path = [...prefix, key];
    out.push(path);
    if (prefix.length < nesting && typeof child === 'object' && child !== null) out.push(...fieldPaths(child as JsonObject, nesting, path));
  }
  return out;
}

/** A copy of `record` with the field at `path` set to `value`, or removed for DELETE. */
function setAt(record: JsonObject, path: string[], value: unknown): JsonObject {
  const copy = structuredClone(record);
  let parent: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (value !== DELETE) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return copy;
}

/** Digits enough to overflow a double. */
const HUGE_NUMBER = '9'.repeat(400);

/** Characters inserted into raw lines: the text-format analogues of the hostile field values. */
const HOSTILE_INSERTS = ['\u0000', '\n', '\r\n', '"', "'", '\\', '[', '{', ' ', '=', '\u001b[31m', '\ud800', '\uFFFD', HUGE_STRING];

/**
 * Raw-line variants of `line`: cut at several points, `flips` copies with one to three bytes
 * XOR-ed (the result need not be UTF-8), each number made too large for a double, and each
 * HOSTILE_INSERTS entry inserted at a seeded place.
 */
export function* lineMutations(line: string, seed: number, flips = 24): Generator<Mutation<Buffer>> {
  const bytes = Buffer.from(line, 'utf8');
  const cuts = new Set([0, 1, 2, ...[0.1, 0.25, 0.5, 0.75, 0.9].map((f) => Math.floor(bytes.length * f)), bytes.length - 2, bytes.length - 1]);
  for (const at of [...cuts].filter((c) => c >= 0 && c < bytes.length).sort((a, b) => a - b)) {
    yield { what: `truncated to ${at} bytes`, value: bytes.subarray(0, at) };
  }
  const random = new Random(seed);
  for (let i = 0; i < flips && bytes.length > 0; i++) {
    const copy = Buffer.from(bytes);
    const where: number[] = [];
    for (let n = random.int(1, 3); n > 0; n--) {
      const at = random.int(0, copy.length - 1);
      copy[at] = copy[at]! ^ random.int(1, 255);
      where.push(at);
    }
    yield { what: `bytes flipped at ${where.join(', ')} (seed ${seed})`, value: copy };
  }
  // A number no double holds (it reads as Infinity), in place of each number of the line in turn.
  for (const m of line.matchAll(/\d+/g)) {
    yield { what: `the number at character ${m.index} made 400 digits long`, value: Buffer.from(line.slice(0, m.index) + HUGE_NUMBER + line.slice(m.index + m[0].length), 'utf8') };
  }
  for (const insert of HOSTILE_INSERTS) {
    const at = random.int(0, line.length);
    yield { what: `${label(insert)} inserted at character ${at} (seed ${seed})`, value: Buffer.from(line.slice(0, at) + insert + line.slice(at), 'utf8') };
  }
}

/** A short, printable name for a hostile value in failure messages. */
function label(value: unknown): string {
  if (value === HUGE_STRING) return 'a 100 KB string';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
