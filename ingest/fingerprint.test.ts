import { describe, expect, it } from 'vitest';
import { fingerprint, resolveFpKey, DEV_FP_KEY } from './fingerprint.js';

describe('fingerprint', () => {
  it('is the first 16 bytes of HMAC-SHA256 in lowercase hex (RFC 4231 test case 2)', () => {
    // RFC 4231 4.3: HMAC-SHA-256("Jefe", "what do ya want for nothing?") = 5bdcc146bf60754e6a042426089575c7...
    expect(fingerprint('Jefe', 'what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c7');
  });

  it('refuses to start without TOKENWATCH_FP_KEY outside dev mode and says why', () => {
    expect(() => resolveFpKey({}, false)).toThrow(/TOKENWATCH_FP_KEY is not set.*--dev/s);
  });

  it('runs with a throw-away key in dev mode', () => {
    expect(resolveFpKey({}, true)).toEqual({ key: DEV_FP_KEY, dev: true });
  });

  it('prefers the configured key over dev mode and rejects a short one', () => {
    expect(resolveFpKey({ TOKENWATCH_FP_KEY: 'k'.repeat(32) }, true)).toEqual({ key: 'k'.repeat(32), dev: false });
    expect(() => resolveFpKey({ TOKENWATCH_FP_KEY: 'short' }, false)).toThrow(/at least 16/);
  });
});
