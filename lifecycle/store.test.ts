import { describe, expect, it } from 'vitest';
import { LifecycleStore, lifecycleConfigSchema } from './store.js';
import { Metrics } from '../common/metrics.js';
import { access, idp, T0 } from '../test/helpers/events.js';
import { encodeCheckpoint, decodeCheckpoint } from './checkpoint.js';
import { Analyzer, analyzerConfigSchema } from '../detectors/analyzer.js';
import { ANNOUNCED_BY_IDP, SEEN_AT_GATEWAY, SUPERSEDED } from './token-table.js';

const store = (o: Record<string, unknown> = {}, metrics = new Metrics()) => new LifecycleStore(lifecycleConfigSchema.parse(o), metrics);

describe('LifecycleStore', () => {
  it('tracks tokens seen only at the gateway and tokens announced by the IdP alike', () => {
    const s = store();
    s.apply(idp(0, 'issued', { tokenId: 'a', refreshTokenId: 'rt-a', sessionId: 'sa', exp: T0 + 300_000 }));
    s.apply(access(5, 'b'));
    s.apply(access(6, 'a'));
    const a = s.find('a');
    const b = s.find('b');
    expect(s.tokens.flags[a]! & (ANNOUNCED_BY_IDP | SEEN_AT_GATEWAY)).toBe(ANNOUNCED_BY_IDP | SEEN_AT_GATEWAY);
    expect(s.tokens.flags[b]! & ANNOUNCED_BY_IDP).toBe(0);
    expect([s.sessionOf(a), s.familyOf(a), s.tokens.uses[a], s.tokens.exp[a]]).toEqual(['sa', 'rt-a', 1, T0 + 300_000]);
  });

  it('marks the previous access token of a family superseded on refresh', () => {
    const s = store();
    s.apply(idp(0, 'issued', { tokenId: 'a1', refreshTokenId: 'r1' }));
    s.apply(idp(100, 'refreshed', { tokenId: 'a2', refreshTokenId: 'r2', parentRefreshTokenId: 'r1' }));
    expect(s.tokens.flags[s.find('a1')]! & SUPERSEDED).toBe(SUPERSEDED);
    expect(s.familyOf(s.find('a2'))).toBe('r1');
    expect(s.state.refresh.get('r1')?.redeemedBy).toBe('r2');
  });

  it('evicts a token after its expiry plus the grace, counting the eviction', () => {
    const metrics = new Metrics();
    const s = store({ evictionGraceMs: 60_000 }, metrics);
    s.apply(access(0, 'x'));
    s.advance(T0 + 300_000 + 59_000);
    expect(s.find('x')).toBeGreaterThanOrEqual(0);
    s.advance(T0 + 300_000 + 61_000);
    expect(s.find('x')).toBe(-1);
    expect(metrics.get('tokenwatch_lifecycle_evictions_total', { cause: 'expired' })).toBe(1);
  });

  it('keeps a token that is still in use past its first deadline', () => {
    const s = store({ idleTtlMs: 60_000, evictionGraceMs: 0 });
    s.apply(access(0, null, { tokenFp: 'f'.repeat(32) }));
    s.apply(access(50, null, { tokenFp: 'f'.repeat(32) }));
    s.advance(T0 + 61_000);
    expect(s.find('f'.repeat(32))).toBeGreaterThanOrEqual(0);
    s.advance(T0 + 111_000);
    expect(s.find('f'.repeat(32))).toBe(-1);
  });

  it('evicts the least recently used tokens beyond the hard cap', () => {
    const metrics = new Metrics();
    const s = store({ maxTokens: 3 }, metrics);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) s.apply(access(i, k));
    s.apply(access(5, 'a'));
    s.apply(access(6, 'e'));
    s.advance(T0 + 6000);
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => s.find(k) >= 0)).toEqual([true, false, false, true, true]);
    expect(metrics.get('tokenwatch_lifecycle_evictions_total', { cause: 'lru_cap' })).toBe(2);
    expect(s.size).toBe(3);
  });

  it('frees sessions and families once no token references them and they went idle', () => {
    const s = store({ sessionTtlMs: 60_000, evictionGraceMs: 0, idleTtlMs: 1000 });
    s.apply(idp(0, 'issued', { tokenId: 'a', refreshTokenId: 'r', sessionId: 'sess', exp: T0 + 10_000 }));
    expect(s.state.sessions.size).toBe(1);
    s.advance(T0 + 2 * 60 * 60_000);
    expect([s.size, s.state.sessions.size, s.state.families.size, s.state.refresh.size]).toEqual([0, 0, 0, 0]);
  });
});

describe('checkpoint', () => {
  it('restores revocations and redemptions, so detection continues across a restart', () => {
    const config = analyzerConfigSchema.parse({});
    const before = new Analyzer(config, new Metrics());
    before.push(idp(0, 'issued', { tokenId: 'k1', refreshTokenId: 'rk1', sessionId: 'sk' }));
    before.push(idp(10, 'refreshed', { tokenId: 'k2', refreshTokenId: 'rk2', parentRefreshTokenId: 'rk1' }));
    before.push(access(12, 'k2'));
    before.push(idp(20, 'revoked', { tokenId: 'k2' }));
    before.finish();
    const bytes = encodeCheckpoint(before.store.state);

    const after = new Analyzer(config, new Metrics(), decodeCheckpoint(bytes));
    after.push(access(100, 'k2'));
    after.push(idp(120, 'refreshed', { tokenId: 'k9', refreshTokenId: 'rk9', parentRefreshTokenId: 'rk1', ip: '203.0.113.1' }));
    after.finish();
    expect(after.findings().map((f) => f.kind).sort()).toEqual(['refresh_token_reuse', 'use_after_revoke']);
    expect(after.store.tokens.uses[after.store.find('k2')]).toBe(2);
  });

  it('refuses bytes that are not a tokenwatch checkpoint, with a clear error', () => {
    expect(() => decodeCheckpoint(Buffer.from('garbage'))).toThrow(/checkpoint/);
  });
});
