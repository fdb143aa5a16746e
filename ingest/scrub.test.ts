import { describe, expect, it } from 'vitest';
import { cleanPath, scrubText, stripControls } from './scrub.js';
import { buildJwt } from './generator/jwt.js';

const jwt = buildJwt({ sub: 'u1', exp: 1764066000 });
const signature = jwt.split('.')[2]!;

describe('scrubText', () => {
  it('removes bearer tokens, JWTs, OAuth query parameters and credential fields', () => {
    const line = `{"request":{"headers":{"authorization":"Bearer ${jwt}","x-api-key":"k_live_abcdef123456"}},"uri":"/cb?code=abc123&access_token=opaque-secret-999"} Authorization: Bearer opaque-token-123456`;
    const out = scrubText(line);
    for (const secret of [jwt, signature, 'k_live_abcdef123456', 'abc123', 'opaque-secret-999', 'opaque-token-123456']) {
      expect(out).not.toContain(secret);
    }
  });

  it('removes a JWT cut short by truncation', () => {
    const cut = `{"authorization":"Bearer ${jwt.slice(0, 40)}`;
    expect(scrubText(cut)).not.toContain(jwt.slice(10, 40));
  });

  it('removes known raw tokens wherever they appear', () => {
    expect(scrubText('user agent carried rawtoken-XYZ-12345 oddly', ['rawtoken-XYZ-12345'])).not.toContain('rawtoken-XYZ-12345');
  });
});

describe('cleanPath', () => {
  it('drops the query string and scrubs a JWT in a path segment', () => {
    expect(cleanPath(`/oauth/introspect/${jwt}?access_token=x`, [])).toBe('/oauth/introspect/[redacted]');
  });

  it('drops the scheme and authority of absolute-form targets', () => {
    expect(cleanPath('https://api.example.com/v1/orders?x=1', [])).toBe('/v1/orders');
  });

  it('replaces injected control characters (the normaliser applies it to every text field)', () => {
    expect(stripControls('/a\nb\u0000c')).toBe('/a\uFFFDb\uFFFDc');
  });
});
