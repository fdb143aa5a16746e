import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { decodeJwt, JwksVerifier } from './jwt-claims.js';
import { buildJwt } from './generator/jwt.js';

const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function signed(alg: 'RS256' | 'ES256', kid: string, claims: object, key: import('node:crypto').KeyObject): string {
  const input = `${enc({ alg, kid, typ: 'JWT' })}.${enc(claims)}`;
  const sig = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}

describe('decodeJwt', () => {
  it('decodes the lifecycle claims, times in epoch ms, azp before client_id', () => {
    const jwt = buildJwt({ jti: 'j1', sub: 's1', sid: 'sid1', azp: 'web', client_id: 'other', iat: 1764065700, exp: 1764066000, iss: 'https://idp', aud: ['a', 'b'] });
    expect(decodeJwt(jwt)?.claims).toEqual({
      jti: 'j1', sub: 's1', sid: 'sid1', clientId: 'web', iat: 1764065700000, exp: 1764066000000, iss: 'https://idp', aud: ['a', 'b'], alg: 'HS256', verified: null,
    });
  });

  it('returns null for opaque tokens and for three segments that are not JSON', () => {
    expect(decodeJwt('2YotnFZFEjr1zCsicMWpAA')).toBeNull();
    expect(decodeJwt('abc.def.ghi')).toBeNull();
    expect(decodeJwt('a.b.c.d')).toBeNull();
  });

  it('decodes an unsigned alg none token and marks its alg', () => {
    const decoded = decodeJwt(buildJwt({ sub: 'attacker', exp: 1764066000 }, 'none'));
    expect(decoded?.claims.alg).toBe('none');
    expect(decoded?.signature).toBe('');
  });

  it('drops claims of the wrong type instead of trusting them', () => {
    const claims = decodeJwt(buildJwt({ jti: { nested: 1 }, exp: 'tomorrow', iat: -5, aud: 7 }))?.claims;
    expect(claims).toMatchObject({ jti: null, exp: null, iat: null, aud: null });
  });
});

describe('JwksVerifier', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = {
    keys: [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa1', alg: 'RS256', use: 'sig' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec1', alg: 'ES256', use: 'sig' },
    ],
  };
  const verifier = new JwksVerifier(jwks);

  it('accepts RS256 and ES256 signatures from the JWKS', () => {
    expect(verifier.verify(decodeJwt(signed('RS256', 'rsa1', { sub: 'x' }, rsa.privateKey))!)).toBe(true);
    expect(verifier.verify(decodeJwt(signed('ES256', 'ec1', { sub: 'x' }, ec.privateKey))!)).toBe(true);
  });

  it('rejects a token signed by a key outside the JWKS, alg none and HS256', () => {
    expect(verifier.verify(decodeJwt(signed('RS256', 'rsa1', { sub: 'x' }, other.privateKey))!)).toBe(false);
    expect(verifier.verify(decodeJwt(buildJwt({ sub: 'x' }, 'none', { kid: 'rsa1' }))!)).toBe(false);
    expect(verifier.verify(decodeJwt(buildJwt({ sub: 'x' }, 'HS256', { kid: 'rsa1' }))!)).toBe(false);
  });

  it('refuses a JWKS document without a keys array, naming the field', () => {
    expect(() => new JwksVerifier({ nope: [] })).toThrow(/"keys" array/);
  });
});
