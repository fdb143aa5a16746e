import { describe, expect, it } from 'vitest';
import { analyze, idp } from '../test/helpers/events.js';

const reuse = (fs: ReturnType<typeof analyze>) => fs.filter((f) => f.kind === 'refresh_token_reuse');
const chain = () => [idp(0, 'issued', { tokenId: 'a1', refreshTokenId: 'rt1', sessionId: 's', subject: 'alice' }), idp(100, 'refreshed', { tokenId: 'a2', refreshTokenId: 'rt2', parentRefreshTokenId: 'rt1', sessionId: 's', subject: 'alice' })];

describe('refresh_token_reuse', () => {
  it('flags a refresh token redeemed twice: critical, revoke the family', () => {
    const fs = reuse(analyze([...chain(), idp(400, 'refreshed', { tokenId: 'x1', refreshTokenId: 'rtx', parentRefreshTokenId: 'rt1', ip: '203.0.113.66', subject: 'alice' })]));
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ severity: 'critical', action: 'revoke', subject: 'alice', firstEventAt: '2026-11-25T10:01:40.000Z' });
    expect(fs[0]!.evidence).toMatchObject({ family: 'rt1', firstRedemption: { ip: '198.51.100.10', newRefreshTokenId: 'rt2' }, secondRedemption: { ip: '203.0.113.66' } });
  });

  it('stays silent for a retry within the reuse grace from the same address', () => {
    expect(reuse(analyze([...chain(), idp(102, 'refreshed', { tokenId: 'a2b', refreshTokenId: 'rt2b', parentRefreshTokenId: 'rt1' })]))).toEqual([]);
  });

  it('stays silent along a normal rotation chain', () => {
    expect(reuse(analyze([...chain(), idp(200, 'refreshed', { tokenId: 'a3', refreshTokenId: 'rt3', parentRefreshTokenId: 'rt2' })]))).toEqual([]);
  });

  it('reports the identity provider’s own reuse detection: high, revoke', () => {
    const fs = reuse(analyze([...chain(), idp(300, 'reuse_detected', { refreshTokenId: 'rt1', subject: 'alice' })]));
    expect(fs[0]).toMatchObject({ severity: 'high', action: 'revoke' });
  });
});
