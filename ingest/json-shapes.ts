// Decodes the JSON objects of an access log faster than JSON.parse. A log format (NGINX
// escape=json, Envoy json_format, AWS $context variables, Traefik, Tyk analytics) writes the
// same keys in the same order on every line, and values that mostly need no unescaping. A
// shape, learned from a line JSON.parse decoded, is that key structure (nested objects
// included) with the JSON types seen at each value: one regex matches a line of the shape and
// captures each value; one object literal built for the shape turns the captures into the
// object JSON.parse would have made. Anything else (escapes, whitespace, arrays holding
// objects, other keys or types) misses and is left to JSON.parse.
import type { JsonObject } from './fields.js';

const STRING = 1;
const NUMBER = 2;
const BOOLEAN = 4;
const NULL = 8;
/** An array of scalars: captured whole and handed to JSON.parse, which is cheap on so little. */
const ARRAY = 16;

// JSON (RFC 8259) values as they are written with nothing to unescape. A string holds neither a
// quote, a backslash nor a control character, so its text between the quotes is its value.
const STRING_TEXT = String.raw`"[^"\\\u0000-\u001f]*"`;
const NUMBER_TEXT = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;
const SCALAR_TEXT = `(?:${STRING_TEXT}|${NUMBER_TEXT}|true|false|null)`;
const STRING_VALUE = String.raw`"([^"\\\u0000-\u001f]*)"`;
const NUMBER_VALUE = `(${NUMBER_TEXT})`;
const BOOLEAN_VALUE = '(true|false)';
const ARRAY_VALUE = String.raw`(\[(?:${SCALAR_TEXT}(?:,${SCALAR_TEXT})*)?\])`;

/** Shapes kept per stream; a stream that mixes formats cycles through a few. */
const MAX_SHAPES = 8;
/** Most values (nested ones included) and deepest nesting given a shape. */
const MAX_VALUES = 256;
const MAX_DEPTH = 8;
/**
 * Lines learned from before learning slows to one per LEARN_INTERVAL records: each attempt walks
 * the record and may compile a shape (~50 µs), and a stream no shape can stand for (Kong's arrays
 * of objects) would otherwise pay the walk on every line.
 */
const FREE_ATTEMPTS = 64;
const LEARN_INTERVAL = 10_000;
/**
 * Lines of a stream whose records cycle through key sets that share a long prefix (Traefik logs a
 * header field only when the request had the header) fail one shape's regex after another, each
 * near the end of the line: worse than JSON.parse alone. A failed regex costs about what a hit
 * saves, so when a window of lines ran more failed regexes than it matched, decoding pauses, then
 * tries again; each pause in a row lasts twice the one before, up to MAX_PAUSE records.
 */
const WINDOW = 4096;
const FIRST_PAUSE = 65_536;
const MAX_PAUSE = 4_194_304;

/** A JSON object's keys in order; a nested object's own Structure stands in place of its types. */
interface Structure {
  keys: string[];
  /** Per key, a nested object, or null for a scalar or array value (typed in `types`). */
  objects: Array<Structure | null>;
}

interface Shape {
  /** Key structure as one string, for finding the shape a line with new types belongs to. */
  signature: string;
  /** Per scalar or array value, in walk order, the JSON types seen there (bits). */
  types: number[];
  pattern: RegExp;
  build: (m: RegExpExecArray) => JsonObject;
  /** Lines it matched, for its place in the order shapes are tried. */
  matched: number;
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

  /** The object `text` decodes to when it has a known shape, else null (then use JSON.parse). */
  decode(text: string): JsonObject | null {
    this.records++;
    const shapes = this.shapes;
    if (shapes.length === 0 || this.records < this.pausedUntil) return null;
    if (++this.windowed === WINDOW) {
      if (this.failed > this.hits) {
        this.pausedUntil = this.records + this.pause;
        this.pause = Math.min(this.pause * 2, MAX_PAUSE);
      } else this.pause = FIRST_PAUSE;
      this.windowed = 0;
      this.hits = 0;
      this.failed = 0;
    }
    for (let i = 0; i < shapes.length; i++) {
      // A backslash only ever stands in a string, as an escape, which no shape matches: once the
      // most matched shape failed, spare the others' regexes the line.
      if (i === 1 && text.indexOf('\\') >= 0) return null;
      const shape = shapes[i]!;
      const m = shape.pattern.exec(text);
      if (m === null) {
        this.failed++;
        continue;
      }
      this.hits++;
      // A shape moves up past each one it has matched more lines than: lines of a rarer key set
      // then fail the common shape's regex once, and the common lines never fail the rare one's.
      shape.matched++;
      if (i > 0 && shape.matched > shapes[i - 1]!.matched) {
        shapes[i] = shapes[i - 1]!;
        shapes[i - 1] = shape;
      }
      return shape.build(m);
    }
    return null;
  }

  /** Learns from a line decode() missed and JSON.parse decoded to `value`: a new shape, or new types at a known one. */
  learn(text: string, value: JsonObject): void {
    // A line with escapes cannot be matched by the shape it would teach; the next line without them will teach it.
    if (text.indexOf('\\') >= 0 || this.records < this.pausedUntil) return;
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
    // The shape must give back exactly what JSON.parse gave for the line it was learned from:
    // a key that JSON writes escaped, a duplicate key or an integer key (JSON.parse lists those
    // first) fails here and leaves the line to JSON.parse.
    const m = shape.pattern.exec(text);
    if (m === null || !sameValue(shape.build(m), value)) return;
    if (known >= 0) shape.matched = this.shapes.splice(known, 1)[0]!.matched;
    this.shapes.unshift(shape);
    if (this.shapes.length > MAX_SHAPES) {
      // The new shape displaces the one that matched fewest lines.
      let least = 1;
      for (let i = 2; i < this.shapes.length; i++) if (this.shapes[i]!.matched < this.shapes[least]!.matched) least = i;
      this.shapes.splice(least, 1);
    }
  }
}

/** The key structure of `o`, pushing each scalar or array value's type onto `types`; null when no shape can stand for it. */
function structureOf(o: JsonObject, types: number[], depth: number): Structure | null {
  if (depth > MAX_DEPTH) return null;
  const keys: string[] = [];
  const objects: Array<Structure | null> = [];
  for (const key in o) {
    // An object literal's "__proto__" sets the prototype, where JSON.parse makes a property.
    if (key === '__proto__' || types.length > MAX_VALUES) return null;
    const v = o[key];
    let nested: Structure | null = null;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      nested = structureOf(v as JsonObject, types, depth + 1);
      if (nested === null) return null;
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

function signatureOf(s: Structure): string {
  return s.keys.map((k, i) => JSON.stringify(k) + (s.objects[i] ? `{${signatureOf(s.objects[i]!)}}` : '')).join(',');
}

function typeOf(v: unknown): number {
  if (typeof v === 'string') return STRING;
  if (typeof v === 'number') return NUMBER;
  if (typeof v === 'boolean') return BOOLEAN;
  if (v === null) return NULL;
  return Array.isArray(v) && v.every((x) => x === null || (typeof x !== 'object' && typeof x !== 'undefined')) ? ARRAY : 0;
}

function compile(structure: Structure, signature: string, types: number[]): Shape {
  let group = 1;
  let value = 0;
  // The regex and the object literal of one object, nested ones written in place.
  const object = (st: Structure): { pattern: string; literal: string } => {
    const pattern: string[] = [];
    const fields: string[] = [];
    for (let i = 0; i < st.keys.length; i++) {
      const key = st.keys[i]!;
      const nested = st.objects[i];
      let p: string;
      let expression: string;
      if (nested) {
        const inner = object(nested);
        p = inner.pattern;
        expression = inner.literal;
      } else {
        ({ pattern: p, expression } = scalar(types[value++]!));
      }
      pattern.push(`"${escapeRegExp(key)}":${p}`);
      fields.push(`${JSON.stringify(key)}: ${expression}`);
    }
    return { pattern: `\\{${pattern.join(',')}\\}`, literal: `{${fields.join(',')}}` };
  };
  // The regex of one scalar or array value and the expression that reads it from the captures.
  const scalar = (t: number): { pattern: string; expression: string } => {
    const alternatives: string[] = [];
    // Captured types in a fixed order, each with the expression that turns its capture into the value.
    const captured: Array<[number, string]> = [];
    if (t & STRING) {
      alternatives.push(STRING_VALUE);
      captured.push([group, `m[${group++}]`]);
    }
    if (t & NUMBER) {
      alternatives.push(NUMBER_VALUE);
      captured.push([group, `+m[${group++}]`]);
    }
    if (t & BOOLEAN) {
      alternatives.push(BOOLEAN_VALUE);
      captured.push([group, `m[${group++}] === 'true'`]);
    }
    if (t & ARRAY) {
      alternatives.push(ARRAY_VALUE);
      captured.push([group, `JSON.parse(m[${group++}])`]);
    }
    if (t & NULL) alternatives.push('null');
    // Null is what is left when no capture matched; without null the last capture is.
    let expression = t & NULL ? 'null' : captured.pop()![1];
    for (let c = captured.length - 1; c >= 0; c--) expression = `m[${captured[c]![0]}] !== undefined ? ${captured[c]![1]} : ${expression}`;
    return { pattern: alternatives.length > 1 ? `(?:${alternatives.join('|')})` : alternatives[0]!, expression };
  };
  const { pattern, literal } = object(structure);
  // One object literal per shape: V8 builds it from a template in one step, where a property
  // written per key costs a lookup each. Only keys reach the generated code, each as a JSON
  // string literal (which JavaScript reads back as the same string); values stay in `m`.
  const build = new Function('m', `return ${literal};`) as (m: RegExpExecArray) => JsonObject;
  return { signature, types, pattern: new RegExp(`^${pattern}$`), build, matched: 0 };
}

const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

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
