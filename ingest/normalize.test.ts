import { describe, expect, it } from 'vitest';
import { emptyDraft, type AccessDraft } from './parsers/types.js';
import { accessEventSchema, type AccessEvent } from './model.js';
import { fpOf, makeJwt, testNormalizer } from '../test/helpers/ingest.js';

const draft = (o: Partial<AccessDraft>): AccessDraft => ({ ...emptyDraft('nginx', Date.UTC(2026, 10, 25, 10), 200), ...o });

function event(d: AccessDraft, n = testNormalizer()): AccessEvent {
  const r = n.access(d);
  if (!r.ok || !r.event) throw new Error(JSON.stringify(r));
  return accessEventSchema.parse(r.event);
}

describe('Normalizer', () => {
  const jwt = makeJwt({ jti: 'j-1', sub: 'alice', exp: 1764066000 });

  it('fingerprints a Bearer token, decodes its claims and drops it', () => {
    const e = event(draft({ requestHeaders: { authorization: `Bearer ${jwt}` }, url: '/a?x=1' }));
    expect(e).toMatchObject({ tokenFp: fpOf(jwt), tokenKind: 'jwt', path: '/a' });
    expect(e.claims).toMatchObject({ jti: 'j-1', sub: 'alice', exp: 1764066000000 });
    expect(JSON.stringify(e)).not.toContain(jwt);
  });

  it('finds tokens in the query string: access_token, Kong jwt and apikey parameters', () => {
    expect(event(draft({ url: `/a?page=2&access_token=${encodeURIComponent(jwt)}` })).tokenFp).toBe(fpOf(jwt));
    expect(event(draft({ url: `/a?jwt=${jwt}` })).tokenFp).toBe(fpOf(jwt));
    expect(event(draft({ url: '/a?apikey=k-123456789' }))).toMatchObject({ tokenFp: fpOf('k-123456789'), tokenKind: 'api_key', path: '/a' });
  });

  it('tracks Basic credentials and API-key headers as api_key tokens', () => {
    expect(event(draft({ requestHeaders: { authorization: 'Basic dXNlcjpwYXNz' } }))).toMatchObject({ tokenKind: 'api_key', tokenFp: fpOf('dXNlcjpwYXNz') });
    expect(event(draft({ requestHeaders: { 'x-api-key': 'key-abcdef' } }))).toMatchObject({ tokenKind: 'api_key', tokenFp: fpOf('key-abcdef') });
  });

  it('classifies an opaque token as opaque', () => {
    expect(event(draft({ requestHeaders: { authorization: 'Bearer 2YotnFZFEjr1zCsicMWpAA' } })).tokenKind).toBe('opaque');
  });

  it('rejects a token larger than maxTokenBytes as token_too_large', () => {
    const big = makeJwt({ pad: 'x'.repeat(20_000) });
    expect(testNormalizer().access(draft({ requestHeaders: { authorization: `Bearer ${big}` } }))).toMatchObject({ ok: false, reason: 'token_too_large' });
  });

  it('uses claims the gateway logged when the token itself is not logged', () => {
    const e = event(draft({ loggedClaims: { sub: 'bob', jti: 'j-9' } }));
    expect(e).toMatchObject({ tokenKind: 'jwt', tokenFp: null, claims: { sub: 'bob', jti: 'j-9', exp: null } });
  });

  it('reads a 401 as missing only when the record shows no credential was sent', () => {
    expect(event(draft({ status: 401, tokenPresented: false })).authError).toBe('missing');
    expect(event(draft({ status: 401, tokenPresented: true })).authError).toBe('invalid');
    expect(event(draft({ status: 401, tokenPresented: null })).authError).toBe('invalid');
  });

  it('takes deployment hints of the record below the response headers', () => {
    const e = event(draft({ version: 'd-1', track: 'canary', responseHeaders: { 'x-deployment-version': 'v9' }, service: 'orders' }));
    expect(e.deployment).toEqual({ service: 'orders', version: 'v9', track: 'canary' });
  });

  it('believes X-Forwarded-For only from a trusted proxy', () => {
    const d = draft({ clientIp: '10.0.0.5', requestHeaders: { 'x-forwarded-for': '198.51.100.7' } });
    expect(event(d).clientIp).toBe('10.0.0.5');
    expect(event(d, testNormalizer({ trustedProxies: ['10.0.0.0/8'] })).clientIp).toBe('198.51.100.7');
  });

  it('fingerprints each distinct token once', () => {
    const n = testNormalizer();
    for (let i = 0; i < 5; i++) event(draft({ requestHeaders: { authorization: `Bearer ${jwt}` } }), n);
    expect({ hits: n.tokens.hits, misses: n.tokens.misses }).toEqual({ hits: 4, misses: 1 });
  });
});
