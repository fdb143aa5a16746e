// lineRecords' first checks: a NUL byte makes a line binary_input whether or not it looks like JSON.
import { describe, expect, it } from 'vitest';
import { lineRecords } from './line.js';

const check = (s: string): unknown => {
  const r = lineRecords(Buffer.from(s), false, 1 << 20);
  return r.ok ? 'ok' : [r.reason, r.text];
};

describe('lineRecords', () => {
  it('rejects a NUL byte as binary_input in JSON and text lines, before JSON.parse would', () => {
    expect(check('{"a":"x\0y"}\r')).toEqual(['binary_input', '{"a":"x\0y"}\r']);
    expect(check('{"a":1}\0')).toEqual(['binary_input', '{"a":1}\0']);
    expect(check('GET \0 /x')).toEqual(['binary_input', 'GET \0 /x']);
    expect(check('{"a":1')).toEqual(['invalid_json', '{"a":1']);
    expect(check('{"a":"\\u0000"}')).toBe('ok');
  });
});
