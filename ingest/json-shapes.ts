// Decodes the JSON objects of an access log faster than JSON.parse. A log format (NGINX
// escape=json, Envoy json_format, AWS $context variables, Traefik, Tyk analytics) writes the
// same keys in the same order on every line, and values that mostly need no unescaping. A
// shape, learned from a line JSON.parse decoded, is that key structure (nested objects
// included) with the JSON types seen at each value: a program for the WebAssembly scanner
// (json-scan.wat) that matches a line's bytes and finds each value, and one object literal
// that turns them into the object JSON.parse would have made. It reads the line's bytes, never
// a string of the whole line: recurring string values come back as one kept string each, the
// others as strings of their own bytes, a string holding an escape and an array as JSON.parse
// reads that value alone, and most numbers as the scanner read them. Anything else (whitespace,
// escaped keys, other keys or types) misses and is left to JSON.parse.
import { isUtf8 } from 'node:buffer';
import type { JsonObject } from './fields.js';
import { createJsonScanner, type JsonScanner } from './json-scan.js';

const STRING = 1;
const NUMBER = 2;
const BOOLEAN = 4;
const NULL = 8;
/** An array, of anything: captured whole and handed to JSON.parse, which is cheap on so little. */
const ARRAY = 16;
/** The scanner's type for a string that holds an escape (a STRING to the shape). */
const ESCAPED = 32;

/** Shapes kept per stream; a stream that mixes formats cycles through a few. */
const MAX_SHAPES = 8;
/** Most values (nested ones included) and deepest nesting given a shape. */
const MAX_VALUES = 256;
const MAX_DEPTH = 8;
/** Longest array of objects a shape spells out; a longer one is captured whole (ARRAY). */
const MAX_ELEMENTS = 4;
/**
 * Lines learned from before learning slows to one per LEARN_INTERVAL records: each attempt walks
 * the record and may compile a shape (~50 µs), and a stream no shape can stand for (nested keys
 * that change from line to line) would otherwise pay the walk on every line.
 */
const FREE_ATTEMPTS = 64;
const LEARN_INTERVAL = 10_000;
/**
 * Lines of a stream whose records cycle through key sets that share a long prefix (Traefik logs a
 * header field only when the request had the header) fail one shape's match after another, each
 * near the end of the line: worse than JSON.parse alone. A failed match costs about what a hit
 * saves, so when a window of lines ran more failed matches than it matched, decoding pauses, then
 * tries again; each pause in a row lasts twice the one before, up to MAX_PAUSE records.
 */
const WINDOW = 4096;
const FIRST_PAUSE = 65_536;
const MAX_PAUSE = 4_194_304;

/**
 * A JSON object's keys in order; a nested object's own Structure, or an array of objects' list of
 * them, stands in place of its types.
 */
interface Structure {
  keys: string[];
  /**
   * Per key, a nested object, an array of objects (one Structure per element: its length and the
   * brackets are literal text, as Kong's `tries` of one balancer attempt), or null for a scalar or
   * other array (typed in `types`).
   */
  objects: Array<Structure | Structure[] | null>;
}

/** Scalar types that can be interned: string values ask the scanner to look them up. */
const INTERN = 256;
/**
 * Lines a new shape interns every string value for; after them, values that were new on more than
 * half of those lines (request ids, timestamps) are no longer interned: they would only fill the
 * table.
 */
const PROBATION = 1024;

interface Shape {
  /** Key structure as one string, for finding the shape a line with new types belongs to. */
  signature: string;
  /** The top-level keys, in order. */
  keys: readonly string[];
  /** Per scalar or array value, in walk order, the JSON types seen there (bits). */
  types: number[];
  /** The literal text before each value, and the closing one, as UTF-8. */
  literals: Uint8Array[];
  /** Per value, its types and INTERN for strings still interned: the program's flags words. */
  flags: Int32Array;
  /** Where the shape's program starts in the scanner's memory. */
  program: number;
  build: (b: Utf8Bytes, o: Int32Array, k: string[], n: Float64Array) => JsonObject;
  /** Lines it matched, for its place in the order shapes are tried. */
  matched: number;
  /** Per value, the matched lines of the probation on which it was interned first. */
  fresh: Int32Array;
}

/** A Buffer's UTF-8 decoder of a byte range: what toString('utf8', start, end) calls, without its argument checks. */
interface Utf8Bytes extends Uint8Array {
  utf8Slice(start: number, end: number): string;
}

/** Learned shapes of one stream's JSON lines, the most often matched first. */
export class JsonShapes {
  private readonly shapes: Shape[] = [];
  private records = 0;
  private attempts = 0;
  private lastAttempt = 0;
  private windowed = 0;
  private hits = 0;
  private failed = 0;
  private pausedUntil = 0;
  private pause = FIRST_PAUSE;
  private readonly scan: JsonScanner;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  /** Per value of the last match: start, end, JSON type and intern id. */
  private readonly out: Int32Array;
  /** Per number value of the last match, its value when the scanner read it. */
  private readonly numbers: Float64Array;
  private readonly freshAt: number;
  private readonly lineCap: number;
  private programEnd: number;
  /** The kept string of each intern id. */
  private kept: string[] = [];
  /** The top-level keys of what decode() last returned: one array per shape. */
  keys: readonly string[] = [];

  constructor() {
    this.scan = createJsonScanner();
    const buffer = this.scan.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
    this.out = new Int32Array(buffer, this.scan.OUT.value, 4 * MAX_VALUES);
    this.numbers = new Float64Array(buffer, this.scan.NUMBERS.value, MAX_VALUES);
    this.freshAt = this.scan.FRESH.value >> 2;
    this.lineCap = this.scan.LINE_CAP.value;
    this.programEnd = this.scan.PROGRAMS.value;
  }

  /** The object the line `bytes` decodes to when it has a known shape (its keys then in `keys`), else null (then use JSON.parse). */
  decode(bytes: Buffer): JsonObject | null {
    this.records++;
    const shapes = this.shapes;
    if (shapes.length === 0 || this.records < this.pausedUntil || bytes.length >= this.lineCap) return null;
    if (++this.windowed === WINDOW) {
      if (this.failed > this.hits) {
        this.pausedUntil = this.records + this.pause;
        this.pause = Math.min(this.pause * 2, MAX_PAUSE);
      } else this.pause = FIRST_PAUSE;
      this.windowed = 0;
      this.hits = 0;
      this.failed = 0;
    }
    this.bytes.set(bytes, 0);
    // Invalid UTF-8 is for the caller to reject: the decoder would turn it into U+FFFD unseen.
    if (this.scan.ascii(bytes.length) === 0 && !isUtf8(bytes)) return null;
    for (let i = 0; i < shapes.length; i++) {
      const shape = shapes[i]!;
      const r = this.scan.match(shape.program, bytes.length);
      if (r === 0) {
        this.failed++;
        continue;
      }
      this.hits++;
      shape.matched++;
      // A shape moves up past each one it has matched more lines than: lines of a rarer key set
      // then fail the common shape's match once, and the common lines never fail the rare one's.
      if (i > 0 && shape.matched > shapes[i - 1]!.matched) {
        shapes[i] = shapes[i - 1]!;
        shapes[i - 1] = shape;
      }
      this.keys = shape.keys;
      return this.built(shape, r, bytes as unknown as Utf8Bytes);
    }
    return null;
  }

  /** The object of a line `shape` matched with result `r`. */
  private built(shape: Shape, r: number, bytes: Utf8Bytes): JsonObject | null {
    const fresh = (r & 0xffff) - 1;
    const out = this.out;
    for (let j = 0; j < fresh; j++) {
      const v = this.words[this.freshAt + j]!;
      this.kept[out[4 * v + 3]!] = bytes.utf8Slice(out[4 * v]!, out[4 * v + 1]!);
      if (shape.matched <= PROBATION) shape.fresh[v]!++;
    }
    if (shape.matched === PROBATION) this.endProbation(shape);
    let value: JsonObject | null;
    try {
      value = shape.build(bytes, out, this.kept, this.numbers);
    } catch {
      // An invalid escape: JSON.parse of the whole line reports it.
      value = null;
    }
    if (r >= 0x10000) {
      this.scan.reset();
      this.kept = [];
    }
    return value;
  }

  /** Stops interning the values of `shape` that were mostly new on the lines of its probation. */
  private endProbation(shape: Shape): void {
    for (let v = 0; v < shape.flags.length; v++) {
      if (shape.fresh[v]! * 2 <= PROBATION) continue;
      shape.flags[v]! &= ~INTERN;
      this.words[flagsWord(shape.program, v)] = shape.flags[v]!;
    }
  }

  /** Learns from a line `bytes` (valid UTF-8) that decode() missed and JSON.parse decoded to `value`: a new shape, or new types at a known one. */
  learn(value: JsonObject, bytes: Buffer): void {
    if (this.records < this.pausedUntil || bytes.length >= this.lineCap) return;
    if (this.attempts >= FREE_ATTEMPTS && this.records - this.lastAttempt < LEARN_INTERVAL) return;
    this.attempts++;
    this.lastAttempt = this.records;
    const types: number[] = [];
    const structure = structureOf(value, types, 0);
    if (structure === null || types.length > MAX_VALUES) return;
    const signature = signatureOf(structure);
    const known = this.shapes.findIndex((s) => s.signature === signature);
    if (known >= 0) {
      const old = this.shapes[known]!.types;
      let widened = false;
      for (let i = 0; i < types.length; i++) {
        if ((types[i]! | old[i]!) !== old[i]) widened = true;
        types[i]! |= old[i]!;
      }
      // Same keys and types: the line missed for its escapes or spacing, which no shape takes.
      if (!widened) return;
    }
    const shape = compile(structure, signature, types);
    if (known >= 0) shape.matched = this.shapes.splice(known, 1)[0]!.matched;
    if (!this.place(shape)) return;
    // The shape must give back exactly what JSON.parse gave for the line it was learned from:
    // a duplicate key or an integer key (JSON.parse lists those first) fails here and leaves the
    // line to JSON.parse.
    this.bytes.set(bytes, 0);
    const r = this.scan.match(shape.program, bytes.length);
    if (r === 0 || !sameValue(this.built(shape, r, bytes as unknown as Utf8Bytes), value)) return;
    this.shapes.unshift(shape);
    if (this.shapes.length > MAX_SHAPES) {
      // The new shape displaces the one that matched fewest lines.
      let least = 1;
      for (let i = 2; i < this.shapes.length; i++) if (this.shapes[i]!.matched < this.shapes[least]!.matched) least = i;
      this.shapes.splice(least, 1);
    }
  }

  /**
   * Writes the program of `shape` into the scanner's memory, after the others; when they leave no
   * room, the kept shapes are written again from the start first. False when it does not fit at all.
   */
  private place(shape: Shape): boolean {
    const start = this.scan.PROGRAMS.value;
    const end = this.scan.PROGRAMS_END.value;
    if (this.programEnd + programSize(shape) > end) {
      this.programEnd = start;
      for (const kept of this.shapes) this.programEnd = this.write(kept, this.programEnd);
      if (this.programEnd + programSize(shape) > end) return false;
    }
    this.programEnd = this.write(shape, this.programEnd);
    return true;
  }

  /** Writes the program of `shape` at `at`; returns where it ends. */
  private write(shape: Shape, at: number): number {
    shape.program = at;
    const n = shape.flags.length;
    let literal = at + headerBytes(n);
    this.words[at >> 2] = n;
    for (let i = 0; i <= n; i++) {
      const bytes = shape.literals[i]!;
      this.bytes.set(bytes, literal);
      const w = (at >> 2) + 1 + 3 * i;
      this.words[w] = literal;
      this.words[w + 1] = bytes.length;
      if (i < n) this.words[flagsWord(at, i)] = shape.flags[i]!;
      literal += literalBytes(bytes.length);
    }
    return literal;
  }
}

// A program's layout (json-scan.wat, match): the value count, per value the literal before it
// (offset, length) and its flags, the closing literal (offset, length); then the literals.
const headerBytes = (values: number): number => 4 + 12 * values + 8;
/** The word of value `v`'s flags in the program at `program`. */
const flagsWord = (program: number, v: number): number => (program >> 2) + 3 + 3 * v;
/** A literal's bytes with room after it for the scanner's vector loads past its end, word-aligned. */
const literalBytes = (length: number): number => (length + 16 + 3) & ~3;

/** Bytes the program of `shape` takes. */
function programSize(shape: Shape): number {
  let size = headerBytes(shape.flags.length);
  for (const l of shape.literals) size += literalBytes(l.length);
  return size;
}

/** The key structure of `o`, pushing each scalar or array value's type onto `types`; null when no shape can stand for it. */
function structureOf(o: JsonObject, types: number[], depth: number): Structure | null {
  if (depth > MAX_DEPTH) return null;
  const keys: string[] = [];
  const objects: Array<Structure | Structure[] | null> = [];
  for (const key in o) {
    // An object literal's "__proto__" sets the prototype, where JSON.parse makes a property.
    if (key === '__proto__' || types.length > MAX_VALUES) return null;
    const v = o[key];
    let nested: Structure | Structure[] | null = null;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      nested = structureOf(v as JsonObject, types, depth + 1);
      if (nested === null) return null;
    } else if (Array.isArray(v) && v.length > 0 && v.length <= MAX_ELEMENTS && v.every(isPlainObject)) {
      const elements: Structure[] = [];
      for (const e of v) {
        const element = structureOf(e as JsonObject, types, depth + 1);
        if (element === null) return null;
        elements.push(element);
      }
      nested = elements;
    } else {
      const type = typeOf(v);
      if (type === 0) return null;
      types.push(type);
    }
    keys.push(key);
    objects.push(nested);
  }
  return { keys, objects };
}

const isPlainObject = (x: unknown): boolean => typeof x === 'object' && x !== null && !Array.isArray(x);

function signatureOf(s: Structure): string {
  const nested = (n: Structure | Structure[] | null): string => (n === null ? '' : Array.isArray(n) ? `[${n.map((e) => `{${signatureOf(e)}}`).join(',')}]` : `{${signatureOf(n)}}`);
  return s.keys.map((k, i) => JSON.stringify(k) + nested(s.objects[i] ?? null)).join(',');
}

function typeOf(v: unknown): number {
  if (typeof v === 'string') return STRING;
  if (typeof v === 'number') return NUMBER;
  if (typeof v === 'boolean') return BOOLEAN;
  if (v === null) return NULL;
  return Array.isArray(v) ? ARRAY : 0;
}

function compile(structure: Structure, signature: string, types: number[]): Shape {
  const literals: string[] = [];
  let pending = '{';
  let value = 0;
  // The object literal of one object, nested ones written in place; the text between values
  // goes to `literals`.
  const object = (st: Structure): string => {
    const fields: string[] = [];
    for (let i = 0; i < st.keys.length; i++) {
      const key = st.keys[i]!;
      const nested = st.objects[i];
      pending += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:`;
      let expression: string;
      if (Array.isArray(nested)) {
        pending += '[';
        const elements = nested.map((e, j) => {
          pending += j > 0 ? ',{' : '{';
          const element = object(e);
          pending += '}';
          return element;
        });
        pending += ']';
        expression = `[${elements.join(',')}]`;
      } else if (nested) {
        pending += '{';
        expression = object(nested);
        pending += '}';
      } else {
        literals.push(pending);
        pending = '';
        expression = scalar(value, types[value]!);
        value++;
      }
      fields.push(`${JSON.stringify(key)}: ${expression}`);
    }
    return `{${fields.join(',')}}`;
  };
  const literal = object(structure);
  literals.push(pending + '}');
  // One object literal per shape: V8 builds it from a template in one step, where a property
  // written per key costs a lookup each. Only keys reach the generated code, each as a JSON
  // string literal (which JavaScript reads back as the same string); values stay in `o`.
  const build = new Function('b', 'o', 'k', 'n', `return ${literal};`) as Shape['build'];
  const encoder = new TextEncoder();
  return {
    signature,
    keys: Object.freeze([...structure.keys]),
    types,
    literals: literals.map((l) => encoder.encode(l)),
    flags: Int32Array.from(types, (t) => (t & STRING ? t | INTERN : t)),
    program: 0,
    build,
    matched: 0,
    fresh: new Int32Array(types.length),
  };
}

/**
 * The expression that reads value `i`, of types `t`, from the line's bytes `b`, offsets `o`, kept
 * strings `k` and numbers `n`.
 */
function scalar(i: number, t: number): string {
  const [start, end, type, id] = [`o[${4 * i}]`, `o[${4 * i + 1}]`, `o[${4 * i + 2}]`, `o[${4 * i + 3}]`];
  const text = `b.utf8Slice(${start}, ${end})`;
  const read: Array<[number, string]> = [];
  // A string holding an escape is read by JSON.parse, quotes included: it checks the escapes too.
  if (t & STRING) read.push([STRING, `(${id} >= 0 ? k[${id}] : ${type} === ${ESCAPED} ? JSON.parse(b.utf8Slice(${start} - 1, ${end} + 1)) : ${end} === ${start} ? '' : ${text})`]);
  if (t & NUMBER) read.push([NUMBER, `(${id} === 1 ? n[${i}] : +${text})`]);
  if (t & BOOLEAN) read.push([BOOLEAN, `${end} - ${start} === 4`]);
  if (t & ARRAY) read.push([ARRAY, `JSON.parse(${text})`]);
  if (t & NULL) read.push([NULL, 'null']);
  // The last type is what is left when no other matched.
  let expression = read.pop()![1];
  for (let r = read.length - 1; r >= 0; r--) {
    const is = read[r]![0] === STRING ? `(${type} & ${STRING | ESCAPED}) !== 0` : `${type} === ${read[r]![0]}`;
    expression = `${is} ? ${read[r]![1]} : ${expression}`;
  }
  return expression;
}

/** Deep equality of decoded JSON, keys in order, scalars by Object.is (so -0 is not 0). */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || !sameValue((a as JsonObject)[ka[i]!], (b as JsonObject)[kb[i]!])) return false;
  }
  return true;
}
