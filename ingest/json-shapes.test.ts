// JsonShapes must give back exactly what JSON.parse gives, or nothing: every line below is
// decoded both ways and compared key by key, in order, with Object.is.
import { describe, expect, it } from 'vitest';
import { JsonShapes } from './json-shapes.js';
import { GATEWAY_RENDERERS } from './generator/formats/index.js';
import { generateTraffic } from './generator/traffic.js';
import { Random } from './generator/random.js';
import type { JsonObject } from './fields.js';

/** What the shapes decode the line `text` to. */
const viaShapes = (shapes: JsonShapes, text: string): JsonObject | null => shapes.decode(Buffer.from(text));

/** Decodes `text` as lineRecords does: the shapes first, else JSON.parse, which teaches them. */
function decode(shapes: JsonShapes, text: string): { value: JsonObject; shaped: boolean } {
  const value = viaShapes(shapes, text);
  if (value !== null) return { value, shaped: true };
  const parsed = JSON.parse(text) as JsonObject;
  shapes.learn(parsed, Buffer.from(text));
  return { value: parsed, shaped: false };
}

/** Why `actual` differs from JSON.parse(text), or null: same keys in the same order, the very same scalars (-0 too). */
function difference(actual: JsonObject, text: string): string | null {
  const expected = JSON.parse(text) as JsonObject;
  if (Object.getPrototypeOf(actual) !== Object.prototype) return 'prototype';
  const keys = Object.keys(expected);
  if (Object.keys(actual).join('\u0000') !== keys.join('\u0000')) return `keys ${Object.keys(actual).join(',')}`;
  for (const k of keys) {
    // Nested values only ever come from JSON.parse itself.
    const same = typeof expected[k] === 'object' && expected[k] !== null ? JSON.stringify(actual[k]) === JSON.stringify(expected[k]) : Object.is(actual[k], expected[k]);
    if (!same) return `${k}: ${String(actual[k])} for ${String(expected[k])}`;
  }
  return null;
}

/** Fails unless the shapes decode `text`, and to exactly what JSON.parse gives. */
function expectShaped(shapes: JsonShapes, text: string): void {
  const value = viaShapes(shapes, text);
  expect(value, text).not.toBeNull();
  expect(difference(value!, text), text).toBeNull();
}

describe('JsonShapes', () => {
  it('decodes the generated lines of every JSON format exactly as JSON.parse does', () => {
    const traffic = generateTraffic({ users: 40, durationMs: 120_000, meanGapMs: 500 });
    let shapedLines = 0;
    for (const renderer of GATEWAY_RENDERERS) {
      for (const variant of renderer.variants) {
        const shapes = new JsonShapes();
        for (const r of traffic.requests) {
          const text = renderer.render(r, variant);
          if (text.charCodeAt(0) !== 123) break;
          const { value, shaped } = decode(shapes, text);
          const diff = difference(value, text);
          if (diff !== null) expect.fail(`${renderer.format}/${variant}: ${diff} in ${text}`);
          if (shaped) shapedLines++;
        }
      }
    }
    // Envoy, NGINX, AWS (REST and HTTP), Traefik and Tyk analytics keep one structure, Kong a few
    // (its header objects hold the headers each request had): most lines take the fast path.
    expect(shapedLines).toBeGreaterThan(traffic.requests.length * 6.5);
  });

  it('matches JSON.parse on random flat objects of one key sequence with values of every JSON type', () => {
    const rnd = new Random(7);
    const keys = ['a', 'b.c', 'd-e', '$f', 'g[0]', 'ü', '12x', 'h i'];
    const values = ['"x"', '""', '"-"', '"tab\\tfree"', '"é ü 漢字 😀"', '0', '-0', '12', '-3.5', '1e3', '2.5E-7', '1e400', 'true', 'false', 'null', '"\\u0041"', '"q\\"uote"'];
    const shapes = new JsonShapes();
    let shaped = 0;
    let escaped = 0;
    for (let i = 0; i < 3000; i++) {
      const text = `{${keys.map((k) => `${JSON.stringify(k)}:${rnd.pick(values)}`).join(',')}}`;
      const r = decode(shapes, text);
      const diff = difference(r.value, text);
      if (diff !== null) expect.fail(`${diff} in ${text}`);
      if (r.shaped) shaped++;
      if (r.shaped && text.includes('\\')) escaped++;
    }
    // Types widen per key until nearly every line matches, escapes in its values or not.
    expect(shaped).toBeGreaterThan(3000 * 0.9);
    expect(escaped).toBeGreaterThan(3000 * 0.5);
  });

  it('matches JSON.parse on nested objects and arrays of anything, widening types at any depth', () => {
    const rnd = new Random(11);
    const scalars = ['"x"', '12', '-0', 'true', 'null', '[]', '["a","b"]', '[1,-2.5e3,null,true]', '"\\"esc"'];
    const shapes = new JsonShapes();
    let shaped = 0;
    for (let i = 0; i < 2000; i++) {
      const text = `{"a":${rnd.pick(scalars)},"n":{"b":${rnd.pick(scalars)},"deep":{"c":${rnd.pick(scalars)},"e":{}}},"z":${rnd.pick(scalars)}}`;
      const r = decode(shapes, text);
      const diff = difference(r.value, text);
      if (diff !== null) expect.fail(`${diff} in ${text}`);
      if (r.shaped) shaped++;
    }
    expect(shaped).toBeGreaterThan(1000);
    // An array is one value, whatever it holds, brackets in its strings included.
    for (const array of ['[{"x":1}]', '[[1,[2]],{"y":[{}]}]', '["]","{","\\"]"]', '[{"a":"}]"},"[\\u005d"]']) {
      const text = `{"a":${array},"n":{"b":1,"deep":{"c":1,"e":{}}},"z":1}`;
      expectShaped(shapes, text);
    }
    // One that is not JSON is left to JSON.parse, which rejects the line.
    for (const text of ['{"a":[1,,2],"n":{"b":1,"deep":{"c":1,"e":{}}},"z":1}', '{"a":[{"x":1],"n":{"b":1,"deep":{"c":1,"e":{}}},"z":1}', '{"a":["x],"n":1']) {
      expect(viaShapes(shapes, text), text).toBeNull();
      expect(() => JSON.parse(text), text).toThrow();
    }
    // A nested object whose keys change is another structure.
    expect(viaShapes(shapes, '{"a":1,"n":{"b":1,"deep":{"c":1,"e":{"f":1}}},"z":1}')).toBeNull();
  });

  it('spells out an array of a few objects, each its own structure, and learns another length as another shape', () => {
    const shapes = new JsonShapes();
    const line = (tries: string): string => `{"id":"r","tries":${tries},"n":{"v":[1,2]}}`;
    decode(shapes, line('[{"ip":"10.0.0.1","port":8080,"ok":true}]'));
    for (const text of [line('[{"ip":"10.0.0.2","port":8081,"ok":false}]'), line('[{"ip":"10.0.0.3","port":80,"ok":true}]')]) {
      expectShaped(shapes, text);
    }
    const retried = line('[{"ip":"10.0.0.1","port":8080,"ok":false},{"ip":"10.0.0.4","port":8080,"ok":true}]');
    expect(viaShapes(shapes, retried)).toBeNull();
    decode(shapes, retried);
    const again = line('[{"ip":"10.0.0.5","port":1,"ok":false},{"ip":"10.0.0.6","port":2,"ok":true}]');
    expectShaped(shapes, again);
    // Elements of other structures, and more elements than a shape spells out, are still one value each.
    for (const text of [line('[{"ip":"a"},{"x":[{}]}]'), line(`[${Array.from({ length: 6 }, (_, i) => `{"i":${i}}`).join(',')}]`)]) {
      decode(shapes, text);
      expectShaped(shapes, text);
    }
  });

  it('reads every number JSON.parse reads, to the last bit, whether the scanner or JSON.parse rounds it', () => {
    const shapes = new JsonShapes();
    decode(shapes, '{"v":1}');
    const numbers = ['0', '-0', '-0.0', '0.1', '0.18', '1795600800.333', '123456789012345', '999999999999999', '1234567890123456', '9007199254740993', '0.000001', '0.1234567890123456789', '1.7976931348623157', '3.14159265358979', '-2.5', '1e3', '2.5E-7', '1e400', '1E+2', '100000000000000000000000'];
    for (const n of numbers) {
      const text = `{"v":${n}}`;
      const value = viaShapes(shapes, text);
      expect(value, text).not.toBeNull();
      expect(Object.is(value!.v, JSON.parse(text).v), `${text}: ${String(value!.v)}`).toBe(true);
    }
  });

  it('takes a line beyond ASCII only when it is valid UTF-8', () => {
    const shapes = new JsonShapes();
    decode(shapes, '{"a":"x","n":1}');
    expect(viaShapes(shapes, '{"a":"é 漢字 😀","n":2}')).toEqual({ a: 'é 漢字 😀', n: 2 });
    const invalid = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","n":2}')]);
    expect(shapes.decode(invalid)).toBeNull();
  });

  it('reads a value holding escapes as JSON.parse does, and leaves a line with an invalid one to JSON.parse', () => {
    const shapes = new JsonShapes();
    decode(shapes, '{"a":"x","b":1}');
    for (const text of ['{"a":"y\\n\\u00e9\\"\\\\/\\ud83d\\ude00","b":2}', '{"a":"Bearer error=\\"invalid_token\\"","b":3}']) {
      expectShaped(shapes, text);
    }
    for (const invalid of ['{"a":"y\\x","b":2}', '{"a":"y\\u12","b":2}', '{"a":"y\\\u0001","b":2}']) {
      expect(viaShapes(shapes, invalid), invalid).toBeNull();
      expect(() => JSON.parse(invalid), invalid).toThrow();
    }
    // The invalid lines left the shape as it was.
    expect(viaShapes(shapes, '{"a":"z","b":4}')).toEqual({ a: 'z', b: 4 });
  });

  it('leaves to JSON.parse what no shape can stand for: spacing, nesting, other key orders', () => {
    const shapes = new JsonShapes();
    decode(shapes, '{"a":"x","b":1}');
    expect(viaShapes(shapes, '{"a":"y","b":2}')).toEqual({ a: 'y', b: 2 });
    const misses = [
      '{"a": "y","b":2}',
      '{"a":"y","b":2} ',
      '{"b":2,"a":"y"}',
      '{"a":"y","b":{"c":1}}',
      '{"a":"y","b":[1]}',
      '{"a":"y","b":01}',
      '{"a":"y","b":1.}',
      '{"a":"y","b":+1}',
      '{"a":"y\u0001","b":2}',
      '{"a":"y","b":2,"c":3}',
      '{"a":"y"}',
    ];
    for (const miss of misses) expect(viaShapes(shapes, miss), miss).toBeNull();
  });

  it('refuses a shape whose keys JSON.parse would not give back in their written order', () => {
    for (const text of ['{"__proto__":"x","b":1}', '{"a":1,"a":2}', '{"b":1,"2":3}', '{"a\\u0062":1}']) {
      const shapes = new JsonShapes();
      decode(shapes, text);
      decode(shapes, text);
      expect(viaShapes(shapes, text), text).toBeNull();
    }
  });

  it('keeps a few shapes at once, for a stream that mixes formats, and drops the one matched least', () => {
    const shapes = new JsonShapes();
    const lines = Array.from({ length: 8 }, (_, i) => `{"k${i}":"v","n":${i}}`);
    for (const l of lines) decode(shapes, l);
    for (const l of lines) expect(viaShapes(shapes, l)).toEqual(JSON.parse(l));
    // All but the last key set match once more.
    for (const l of lines.slice(0, 7)) viaShapes(shapes, l);
    decode(shapes, '{"k8":"v","n":8}');
    expect(viaShapes(shapes, lines[7]!)).toBeNull();
    for (const l of lines.slice(0, 7)) expect(viaShapes(shapes, l)).toEqual(JSON.parse(l));
    expect(viaShapes(shapes, '{"k8":"v","n":9}')).toEqual({ k8: 'v', n: 9 });
  });

  it('slows its learning once it has tried its free share of lines', () => {
    const shapes = new JsonShapes();
    // Lines no shape can stand for spend attempts too, so a Kong stream stops paying for them.
    for (let i = 0; i < 70; i++) decode(shapes, `{"key${i}":[{"x":1}]}`);
    // Past the free learns, a new shape waits for the learning interval.
    const late = '{"late":1}';
    decode(shapes, late);
    expect(viaShapes(shapes, late)).toBeNull();
  });

  it('pauses when lines cycle through more key sets than its shapes match, and tries again later', () => {
    const shapes = new JsonShapes();
    const line = (i: number): string => `{"a":"${'x'.repeat(200)}","n":${i},"k${i % 12}":1}`;
    // Twelve key sets sharing a long prefix: most lines fail several shapes before a hit, if any.
    let lastShaped = '';
    for (let i = 0; i < 5000; i++) if (decode(shapes, line(i)).shaped) lastShaped = line(i);
    // A line its shape decoded before now goes to JSON.parse: decoding is paused.
    expect(lastShaped).not.toBe('');
    expect(viaShapes(shapes, lastShaped)).toBeNull();
    // A stream of one key set (over a window and the first pause) takes the fast path again.
    const steady = (i: number): string => `{"a":"y","n":${i},"k0":1}`;
    let shaped = 0;
    for (let i = 0; i < 80_000; i++) if (decode(shapes, steady(i)).shaped) shaped++;
    expect(shaped).toBeGreaterThan(5000);
  });
});
