// refresh_token_reuse: a refresh token redeemed twice (RFC 9700 section 4.14.2): the
// second redemption is an attacker or the victim racing one, so the whole family must be
// revoked. A retry inside the IdP's reuse grace from the same address (Auth0's reuse
// interval, Keycloak's refresh token max reuse) is a client retry: silent. The IdP's own
// reuse_detected events are findings too.
import { z } from 'zod';
import type { TokenEvent } from '../ingest/model.js';
import type { Detector } from './detector.js';
import type { LifecycleStore } from '../lifecycle/store.js';
import { compact, findingId, iso, NONE, type Finding } from './finding.js';

export const refreshTokenReuseConfigSchema = z
  .object({
    /** A second redemption within this time from the same IP is a retry, ms. Default 30 s. */
    reuseGraceMs: z.number().int().nonnegative().default(30_000),
  })
  .strict();
export type RefreshTokenReuseConfig = z.output<typeof refreshTokenReuseConfigSchema>;

/** Creates the refresh_token_reuse detector. */
export function createRefreshTokenReuse(config: RefreshTokenReuseConfig): Detector {
  return {
    kind: 'refresh_token_reuse',
    onEvent(e, store) {
      if (e.source !== 'token') return NONE;
      const ev = e.event;
      if (ev.type === 'reuse_detected') return [finding(ev, store, 'high', 'the identity provider detected the reuse', null)];
      if (ev.type !== 'refreshed' || ev.parentRefreshTokenId === null) return NONE;
      const parent = store.state.refresh.get(ev.parentRefreshTokenId);
      if (!parent || Number.isNaN(parent.redeemedAt)) return NONE;
      const gap = ev.ts - parent.redeemedAt;
      const sameClient = ev.ip === null || parent.redeemIp === null || ev.ip === parent.redeemIp;
      if (gap <= config.reuseGraceMs && sameClient) return NONE;
      return [finding(ev, store, 'critical', `redeemed again ${Math.round(gap / 1000)} s after its first redemption`, parent)];
    },
  };
}

function finding(
  ev: TokenEvent,
  store: LifecycleStore,
  severity: 'high' | 'critical',
  why: string,
  parent: { redeemedAt: number; redeemIp: string | null; redeemedBy: string | null; family: number } | null,
): Finding {
  const refreshId = ev.parentRefreshTokenId ?? ev.refreshTokenId;
  const familyIndex = parent?.family ?? (refreshId !== null ? store.state.refresh.get(refreshId)?.family : undefined);
  const family = familyIndex !== undefined ? store.state.families.at(familyIndex).id : refreshId;
  return compact({
    id: findingId('refresh_token_reuse', family ?? ev.sessionId ?? ev.subject),
    kind: 'refresh_token_reuse',
    severity,
    action: 'revoke',
    detectedAt: iso(ev.ts),
    firstEventAt: iso(parent?.redeemedAt ?? ev.ts),
    jti: ev.tokenId ?? undefined,
    sessionId: ev.sessionId ?? undefined,
    subject: ev.subject ?? undefined,
    summary: `Refresh token ${refreshId ?? '(unknown)'} of ${ev.subject ?? 'an unknown subject'} was ${why}: revoke its whole token family.`,
    evidence: {
      idp: ev.idp,
      idpEventType: ev.idpEventType,
      refreshTokenId: refreshId,
      family,
      firstRedemption: parent ? { at: iso(parent.redeemedAt), ip: parent.redeemIp, newRefreshTokenId: parent.redeemedBy } : null,
      secondRedemption: { at: iso(ev.ts), ip: ev.ip, clientId: ev.clientId, newRefreshTokenId: ev.refreshTokenId, reason: ev.reason },
    },
  }) as Finding;
}
