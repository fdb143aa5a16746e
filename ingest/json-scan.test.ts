// The scanner on its own: the committed module is what its source compiles to, a program matches
// exactly the lines of its shape, and interning hands out stable ids until the table is full.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createJsonScanner, type JsonScanner } from './json-scan.js';
import { JsonShapes } from './json-shapes.js';

const STRING = 1;
const NUMBER = 2;
const INTERN = 256;

/** A scanner holding the program of `{"a":<value>,"n":<number>}`, `a` of `flags`. */
function scannerFor(flags: number): { scanner: JsonScanner; match: (line: string) => { r: number; type: number; id: number; value: string; number: number | null } } {
  const scanner = createJsonScanner();
  const bytes = new Uint8Array(scanner.memory.buffer);
  const words = new Int32Array(scanner.memory.buffer);
  const out = new Int32Array(scanner.memory.buffer, scanner.OUT.value, 8);
  const numbers = new Float64Array(scanner.memory.buffer, scanner.NUMBERS.value, 2);
  const program = scanner.PROGRAMS.value;
  const literals = ['{"a":', ',"n":', '}'];
  let literal = program + 64;
  const w = program >> 2;
  words[w] = 2;
  literals.forEach((l, i) => {
    bytes.set(Buffer.from(l), literal);
    words[w + 1 + 3 * i] = literal;
    words[w + 2 + 3 * i] = l.length;
    if (i < 2) words[w + 3 + 3 * i] = i === 0 ? flags : NUMBER;
    literal += 32;
  });
  const match = (line: string): { r: number; type: number; id: number; value: string; number: number | null } => {
    const b = Buffer.from(line);
    bytes.set(b, 0);
    const r = scanner.match(program, b.length);
    return { r, type: out[2]!, id: out[3]!, value: b.subarray(out[0], out[1]).toString(), number: out[7] === 1 ? numbers[1]! : null };
  };
  return { scanner, match };
}

describe('json-scan', () => {
  it('is committed as the module its .wat source compiles to', () => {
    // Fails (and prints why) when json-scan.wat was edited without `npm run wasm`.
    expect(() => execFileSync(process.execPath, ['scripts/wasm.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('tells an ASCII line from one beyond it', () => {
    const { scanner } = scannerFor(STRING);
    const bytes = new Uint8Array(scanner.memory.buffer);
    for (const [line, ascii] of [['{"a":"x"}', 1], ['', 1], ['x'.repeat(47), 1], ['x'.repeat(47) + 'é', 0], ['é' + 'x'.repeat(47), 0], ['x'.repeat(16) + '\u007f', 1]] as const) {
      const b = Buffer.from(line);
      bytes.fill(0xff, 0, 128);
      bytes.set(b, 0);
      expect(scanner.ascii(b.length), line).toBe(ascii);
    }
  });

  it('matches the lines of its shape only, and finds each value', () => {
    const { match } = scannerFor(STRING);
    expect(match('{"a":"GET","n":-1.5e3}')).toMatchObject({ r: 1, id: -1, value: 'GET', number: null });
    // Numbers without an exponent, of at most 15 digits, come back read; the others are left to JavaScript.
    expect(match('{"a":"GET","n":1795600800.333}').number).toBe(1795600800.333);
    expect(Object.is(match('{"a":"GET","n":-0}').number, -0)).toBe(true);
    expect(match('{"a":"GET","n":1234567890123456}').number).toBeNull();
    expect(match('{"a":"","n":0}')).toMatchObject({ r: 1, value: '' });
    for (const miss of ['{"a":"GET","n":01}', '{"a":"GET","n":1.}', '{"a":"GET","n":-}', '{"a":"G\\"T,"n":1}', '{"a":"G\\', '{"a":"GET","n":1} ', '{"a":"GET","n":1', '{"a":1,"n":1}', '{"a":"G\tT","n":1}', '{"b":"GET","n":1}']) {
      expect(match(miss).r, miss).toBe(0);
    }
  });

  it('finds a string holding escapes, any escape, and marks it for JSON.parse instead of interning it', () => {
    const { match } = scannerFor(STRING | INTERN);
    expect(match('{"a":"G\\"T","n":1}')).toMatchObject({ r: 1, type: 32, id: -1, value: 'G\\"T' });
    expect(match('{"a":"\\\\","n":1}')).toMatchObject({ r: 1, type: 32, value: '\\\\' });
    expect(match('{"a":"\\u00e9 \\q","n":1}')).toMatchObject({ r: 1, type: 32, value: '\\u00e9 \\q' });
    // A plain string after an escaped one is plain again, and interned.
    expect(match('{"a":"GET","n":1}')).toMatchObject({ r: 2, type: 1, id: 0 });
  });

  it('gives a recurring value the id it was first given, and counts each new one once', () => {
    const { match } = scannerFor(STRING | INTERN);
    expect(match('{"a":"GET","n":1}')).toMatchObject({ r: 2, id: 0 });
    expect(match('{"a":"GET","n":2}')).toMatchObject({ r: 1, id: 0 });
    expect(match('{"a":"POST","n":3}')).toMatchObject({ r: 2, id: 1 });
    // Values that share length and hash words still differ byte by byte.
    const long = (c: string): string => `{"a":"${'x'.repeat(20)}${c}${'y'.repeat(20)}","n":1}`;
    expect(match(long('1'))).toMatchObject({ r: 2, id: 2 });
    expect(match(long('2'))).toMatchObject({ r: 2, id: 3 });
    expect(match(long('1'))).toMatchObject({ r: 1, id: 2 });
    // A line that fails to match keeps nothing: its value is still new to the next line.
    expect(match('{"a":"PUT","n":x}').r).toBe(0);
    expect(match('{"a":"PUT","n":1}')).toMatchObject({ r: 2, id: 4 });
    // Values too long to be worth keeping are read from the line.
    expect(match(`{"a":"${'z'.repeat(2000)}","n":1}`)).toMatchObject({ r: 1, id: -1 });
  });

  it('says when its table is full, and starts its ids again after a reset', () => {
    const { scanner, match } = scannerFor(STRING | INTERN);
    const ids = scanner.MAX_IDS.value;
    for (let i = 0; i < ids; i++) expect(match(`{"a":"v${i}","n":1}`).r).toBe(2);
    const full = match('{"a":"one more","n":1}');
    expect(full.r).toBe(1 + 0x10000);
    expect(full.id).toBe(-1);
    scanner.reset();
    expect(match('{"a":"v1","n":1}')).toMatchObject({ r: 2, id: 0 });
  });

  it('decodes as JSON.parse does across intern table resets and once unique values are no longer interned', () => {
    const shapes = new JsonShapes();
    // `id` is new on every line, `alt` on every other one: past the probation the first is read from
    // the line, the second stays interned and fills the table, which resets many times over.
    let shaped = 0;
    for (let i = 0; i < 300_000; i++) {
      const text = `{"id":"r${i}","alt":"${i % 2 ? `u${i}` : 'same'}","path":"/p/${i % 7}","host":"é${i % 3}"}`;
      const value = shapes.decode(Buffer.from(text));
      if (value === null) {
        shapes.learn(JSON.parse(text), Buffer.from(text));
        continue;
      }
      shaped++;
      if (value.id !== `r${i}` || value.alt !== (i % 2 ? `u${i}` : 'same') || value.path !== `/p/${i % 7}` || value.host !== `é${i % 3}`) {
        expect.fail(`line ${i}: ${JSON.stringify(value)} for ${text}`);
      }
    }
    expect(shaped).toBeGreaterThan(299_000);
  });
});
