// The lifecycle rows cut from the store: a row per changed token at each tick, session and
// family revocations reaching every token they cover, expiry seen at the end and at
// eviction, and a recycled slot never written under an evicted token's key.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../common/metrics.js';
import { Analyzer, analyzerConfigSchema } from '../../detectors/analyzer.js';
import type { StreamEvent } from '../../lifecycle/stream-event.js';
import { access, idp, T0 } from '../../test/helpers/events.js';
import { LifecycleTracker } from './lifecycle-tracker.js';
import type { TokenLifecycle } from './rows.js';

function run(events: StreamEvent[], config: Record<string, unknown> = {}): { ticks: TokenLifecycle[][]; evicted: TokenLifecycle[]; final: TokenLifecycle[] } {
  const analyzer = new Analyzer(analyzerConfigSchema.parse({ allowedLatenessMs: 0, ...config }), new Metrics());
  const tracker = new LifecycleTracker(analyzer.store);
  const ticks: TokenLifecycle[][] = [];
  const evicted: TokenLifecycle[] = [];
  let now = 0;
  analyzer.onApplied = (e) => {
    now = e.event.ts;
    tracker.applied(e);
  };
  analyzer.onTick = (t) => {
    now = Math.max(now, t);
    ticks.push(tracker.cut(t));
  };
  analyzer.store.onEvict = (slot) => {
    const row = tracker.evicting(slot, now);
    if (row !== null) evicted.push(row);
  };
  for (const e of events) analyzer.push(e);
  analyzer.finish();
  return { ticks, evicted, final: tracker.final(now) };
}

describe('LifecycleTracker', () => {
  it('cuts one row per changed token per minute, with the strings the store does not keep', () => {
    const { ticks } = run([idp(0, 'issued', { tokenId: 'a', sessionId: 's1', subject: 'alice', exp: T0 + 600_000 }), access(1, 'a'), access(2, 'a'), access(70, 'a')]);
    const rows = ticks.flat().filter((r) => r.key === 'a');
    expect(rows.map((r) => r.uses)).toEqual([2, 3]);
    expect(rows[0]).toMatchObject({ jti: 'a', sessionId: 's1', subject: 'alice', clientId: 'web-app', state: 'active', exp: T0 + 600_000 });
    expect(rows[0]!.tokenFp).toMatch(/^[0-9a-f]{32}$/);
    expect(rows[1]!.updatedAt).toBeGreaterThan(rows[0]!.updatedAt);
  });

  it('marks every token of a revoked session, not only the one the event names', () => {
    const { ticks } = run([
      idp(0, 'issued', { tokenId: 'a', sessionId: 's1', exp: T0 + 600_000 }),
      idp(1, 'issued', { tokenId: 'b', sessionId: 's1', exp: T0 + 600_000 }),
      idp(2, 'issued', { tokenId: 'c', sessionId: 's2', exp: T0 + 600_000 }),
      idp(70, 'logout', { sessionId: 's1' }),
      access(130, 'c'),
    ]);
    const second = ticks.flat().filter((r) => r.updatedAt > T0 + 60_000);
    expect(second.filter((r) => r.state === 'revoked').map((r) => [r.key, r.revokedBy])).toEqual([
      ['a', 'session'],
      ['b', 'session'],
    ]);
    expect(second.find((r) => r.key === 'c')?.state).toBe('active');
  });

  it('marks the tokens of a revoked refresh family and of a subject logged out everywhere, and no others', () => {
    const { ticks } = run([
      idp(0, 'issued', { tokenId: 'a', refreshTokenId: 'rt-1', subject: 'alice', exp: T0 + 600_000 }),
      idp(1, 'refreshed', { tokenId: 'b', parentRefreshTokenId: 'rt-1', refreshTokenId: 'rt-2', subject: 'alice', exp: T0 + 600_000 }),
      idp(2, 'issued', { tokenId: 'c', refreshTokenId: 'rt-9', subject: 'bob', exp: T0 + 600_000 }),
      access(3, 'd', {}, { sub: 'carol', exp: T0 + 600_000 }),
      access(4, 'e', {}, { sub: 'dave', exp: T0 + 600_000 }),
      idp(70, 'revoked', { refreshTokenId: 'rt-2' }),
      idp(71, 'logout', { subject: 'carol' }),
    ]);
    const second = ticks.flat().filter((r) => r.updatedAt > T0 + 60_000);
    expect(second.map((r) => [r.key, r.state, r.revokedBy]).sort()).toEqual([
      ['a', 'revoked', 'family'],
      ['b', 'revoked', 'family'],
      ['d', 'revoked', 'subject'],
    ]);
  });

  it('does not mark the token that took an evicted token’s slot when the evicted one’s session is revoked', () => {
    const { ticks, final } = run(
      [
        access(0, 'x', {}, { sid: 's-1', exp: T0 + 5_000 }),
        access(30, 'y', {}, { sid: 's-2', exp: T0 + 900_000 }),
        access(31, 'z', {}, { sid: 's-1', exp: T0 + 900_000 }),
        idp(70, 'logout', { sessionId: 's-1' }),
      ],
      { lifecycle: { evictionGraceMs: 0 } },
    );
    const rows = [...ticks.flat(), ...final].filter((r) => r.updatedAt > T0 + 60_000);
    expect(rows.map((r) => [r.key, r.state])).toEqual([['z', 'revoked']]);
  });

  it('writes a final row when time alone expired a token, and none for unchanged tokens', () => {
    // a's row is cut at minute 1 as issued; it expires at 150 s with no event of its own.
    const { ticks, final } = run([idp(0, 'issued', { tokenId: 'a', exp: T0 + 150_000 }), access(170, 'b')]);
    expect(ticks.flat().map((r) => [r.key, r.state])).toEqual([
      ['a', 'issued'],
      ['b', 'active'],
    ]);
    expect(final.map((r) => [r.key, r.state])).toEqual([['a', 'expired']]);
  });

  it('writes an evicted token’s last state and never a recycled slot under its key', () => {
    const { evicted, ticks, final } = run([access(0, 'a', {}, { exp: T0 + 5_000 }), access(30, 'c', {}, { exp: T0 + 900_000 }), access(40, 'd', {}, { exp: T0 + 900_000 })], {
      lifecycle: { evictionGraceMs: 0 },
    });
    expect(evicted.map((r) => [r.key, r.state, r.uses])).toEqual([['a', 'expired', 1]]);
    const later = [...ticks.flat(), ...final];
    expect(later.map((r) => r.key).sort()).toEqual(['c', 'd']);
    expect(later.find((r) => r.key === 'd')?.jti).toBe('d');
  });
});
