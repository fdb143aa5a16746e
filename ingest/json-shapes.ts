// Decodes the flat JSON objects of an access log faster than JSON.parse. A log_format (NGINX
// escape=json, Envoy json_format, AWS $context variables, Traefik) writes the same keys in the
// same order on every line, and values that mostly need no unescaping. A shape, learned from a
// line JSON.parse decoded, is that key sequence with the JSON types seen at each key: one regex
// matches a line of the shape and captures each value; one object literal built for the shape
// turns the captures into the object JSON.parse would have made. Anything else (escapes,
// whitespace, nesting, other keys or types) misses and is left to JSON.parse.
import type { JsonObject } from './fields.js';

const STRING = 1;
const NUMBER = 2;
const BOOLEAN = 4;
const NULL = 8;

// JSON (RFC 8259) values as they are written with nothing to unescape. A string holds neither a
// quote, a backslash nor a control character, so its text between the quotes is its value.
const STRING_VALUE = String.raw`"([^"\\\u0000-\u001f]*)"`;
const NUMBER_VALUE = String.raw`(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)`;
const BOOLEAN_VALUE = '(true|false)';

/** Shapes kept per stream; a stream that mixes formats cycles through a few. */
const MAX_SHAPES = 8;
/** Widest object given a shape. */
const MAX_KEYS = 128;
/** Shapes built before learning slows to one per LEARN_INTERVAL records (compiling costs ~50 µs). */
const FREE_LEARNS = 32;
const LEARN_INTERVAL = 10_000;

interface Shape {
  keys: string[];
  /** Per key, the JSON types seen there (bits). */
  types: number[];
  pattern: RegExp;
  build: (m: RegExpExecArray) => JsonObject;
}

/** Learned shapes of one stream's JSON lines, most recently matched first. */
export class JsonShapes {
  private readonly shapes: Shape[] = [];
  private records = 0;
  private learned = 0;
  private lastLearned = 0;

  /** The object `text` decodes to when it has a known shape, else null (then use JSON.parse). */
  decode(text: string): JsonObject | null {
    this.records++;
    const shapes = this.shapes;
    // A backslash only ever stands in a string, as an escape, which no shape matches.
    if (shapes.length === 0 || text.indexOf('\\') >= 0) return null;
    for (let i = 0; i < shapes.length; i++) {
      const shape = shapes[i]!;
      const m = shape.pattern.exec(text);
      if (m === null) continue;
      if (i > 0) {
        shapes.splice(i, 1);
        shapes.unshift(shape);
      }
      return shape.build(m);
    }
    return null;
  }

  /** Learns from a line decode() missed and JSON.parse decoded to `value`: a new shape, or new types at a known one. */
  learn(text: string, value: JsonObject): void {
    // A line with escapes cannot be matched by the shape it would teach; the next line without them will teach it.
    if (text.indexOf('\\') >= 0) return;
    if (this.learned >= FREE_LEARNS && this.records - this.lastLearned < LEARN_INTERVAL) return;
    const keys: string[] = [];
    const types: number[] = [];
    for (const key in value) {
      // An object literal's "__proto__" sets the prototype, where JSON.parse makes a property.
      if (keys.length === MAX_KEYS || key === '__proto__') return;
      const type = typeOf(value[key]);
      if (type === 0) return;
      keys.push(key);
      types.push(type);
    }
    if (keys.length === 0) return;
    const known = this.shapes.findIndex((s) => sameKeys(s.keys, keys));
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
    this.learned++;
    this.lastLearned = this.records;
    const shape = compile(keys, types);
    // The shape must give back exactly what JSON.parse gave for the line it was learned from:
    // a key that JSON writes escaped, a duplicate key or an integer key (JSON.parse lists those
    // first) fails here and leaves the line to JSON.parse.
    const m = shape.pattern.exec(text);
    if (m === null || !sameObject(shape.build(m), value)) return;
    if (known >= 0) this.shapes.splice(known, 1);
    this.shapes.unshift(shape);
    if (this.shapes.length > MAX_SHAPES) this.shapes.pop();
  }
}

function typeOf(v: unknown): number {
  if (typeof v === 'string') return STRING;
  if (typeof v === 'number') return NUMBER;
  if (typeof v === 'boolean') return BOOLEAN;
  return v === null ? NULL : 0;
}

function compile(keys: string[], types: number[]): Shape {
  const pattern: string[] = [];
  const fields: string[] = [];
  let group = 1;
  for (let i = 0; i < keys.length; i++) {
    const t = types[i]!;
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
    if (t & NULL) alternatives.push('null');
    pattern.push(`"${escapeRegExp(keys[i]!)}":${alternatives.length > 1 ? `(?:${alternatives.join('|')})` : alternatives[0]}`);
    // Null is what is left when no capture matched; without null the last capture is.
    let expression = t & NULL ? 'null' : captured.pop()![1];
    for (let c = captured.length - 1; c >= 0; c--) expression = `m[${captured[c]![0]}] !== undefined ? ${captured[c]![1]} : ${expression}`;
    fields.push(`${JSON.stringify(keys[i])}: ${expression}`);
  }
  // One object literal per shape: V8 builds it from a template in one step, where a property
  // written per key costs a lookup each. Only keys reach the generated code, each as a JSON
  // string literal (which JavaScript reads back as the same string); values stay in `m`.
  const build = new Function('m', `return {${fields.join(',')}};`) as (m: RegExpExecArray) => JsonObject;
  return { keys, types, pattern: new RegExp(`^\\{${pattern.join(',')}\\}$`), build };
}

const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameObject(a: JsonObject, b: JsonObject): boolean {
  const ka = Object.keys(a);
  return sameKeys(ka, Object.keys(b)) && ka.every((k) => Object.is(a[k], b[k]));
}
