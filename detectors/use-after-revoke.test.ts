import { describe, expect, it } from 'vitest';
import { access, analyze, idp } from '../test/helpers/events.js';

const revoke = (fs: ReturnType<typeof analyze>) => fs.filter((f) => f.kind === 'use_after_revoke');

describe('use_after_revoke', () => {
  it('flags a request that succeeds with a token revoked longer ago than the grace', () => {
    const fs = revoke(analyze([access(0, 'r1'), idp(10, 'revoked', { tokenId: 'r1' }), access(20, 'r1'), access(60, 'r1')]));
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ severity: 'high', action: 'alert', jti: 'r1', detectedAt: '2026-11-25T10:01:00.000Z', firstEventAt: '2026-11-25T10:00:10.000Z' });
    expect(fs[0]!.evidence).toMatchObject({ revokedBy: 'token', secondsAfterRevocation: 50 });
  });

  it('stays silent when the gateway rejects the revoked token', () => {
    expect(revoke(analyze([access(0, 'r2'), idp(10, 'revoked', { tokenId: 'r2' }), access(60, 'r2', { status: 401, authError: 'revoked' })]))).toEqual([]);
  });

  it('revokes every token of a session on logout, not tokens issued after it', () => {
    const events = [
      access(0, 'r3', {}, { sid: 's-1' }),
      idp(30, 'logout', { sessionId: 's-1' }),
      access(90, 'r3', {}, { sid: 's-1' }),
      access(95, 'r4', {}, { sid: 's-1', iat: Date.UTC(2026, 10, 25, 10, 1, 0) }),
    ];
    const fs = revoke(analyze(events));
    expect(fs.map((f) => f.jti)).toEqual(['r3']);
    expect(fs[0]!.evidence.revokedBy).toBe('session');
  });

  it('revokes the access tokens of a refresh family when its refresh token is revoked (RFC 7009)', () => {
    const events = [idp(0, 'issued', { tokenId: 'r5', refreshTokenId: 'rt-5', sessionId: 'sx' }), access(5, 'r5'), idp(10, 'revoked', { refreshTokenId: 'rt-5' }), access(100, 'r5')];
    expect(revoke(analyze(events))[0]?.evidence).toMatchObject({ revokedBy: 'family', family: 'rt-5' });
  });
});
