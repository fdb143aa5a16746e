import { describe, expect, it } from 'vitest';
import { access, analyze, idp } from '../test/helpers/events.js';

const expiry = (fs: ReturnType<typeof analyze>) => fs.filter((f) => f.kind === 'use_after_expiry');

describe('use_after_expiry', () => {
  it('flags a request that succeeds with a token well past exp: high alert, once per token', () => {
    // claims() tokens expire at T0 + 300 s; skew is 60 s.
    const fs = expiry(analyze([access(100, 'e1'), access(420, 'e1', { deployment: { service: 'legacy', version: 'v0', track: 'stable' } }), access(480, 'e1')]));
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ severity: 'high', action: 'alert', jti: 'e1', service: 'legacy', version: 'v0', detectedAt: '2026-11-25T10:07:00.000Z' });
    expect(fs[0]!.evidence).toMatchObject({ acceptedRequests: 2, expFrom: 'jwt_claim' });
  });

  it('stays silent within the clock skew and for a 401 after expiry followed by a refresh', () => {
    const events = [
      access(330, 'e2'),
      access(400, 'e3', { status: 401, authError: 'expired' }),
      access(401, 'e4', {}, { iat: Date.UTC(2026, 10, 25, 10, 6, 40), exp: Date.UTC(2026, 10, 25, 10, 11, 40) }),
    ];
    expect(expiry(analyze(events))).toEqual([]);
  });

  it('uses the expiry from the IdP issued event when the token carries none', () => {
    const exp = Date.UTC(2026, 10, 25, 10, 1, 0);
    const events = [idp(0, 'issued', { tokenId: 'e5', exp }), access(200, 'e5', {}, { exp: null })];
    expect(expiry(analyze(events))[0]?.evidence).toMatchObject({ expFrom: 'idp_event', secondsPastExpiry: 140 });
  });
});
