// use_after_revoke: a request succeeds with a token the IdP revoked (the token itself, its
// session by logout, its refresh family, or every session of its subject) longer ago than
// the propagation grace: a gateway is not honouring revocation.
import { z } from 'zod';
import type { Detector } from './detector.js';
import { LifecycleStore } from '../lifecycle/store.js';
import { iso, NONE, type Finding } from './finding.js';
import { lastRequest, OpenFindings, tokenFinding } from './token-finding.js';

export const useAfterRevokeConfigSchema = z
  .object({
    /** Time gateways get to learn of a revocation (cache TTLs, introspection caching), ms. Default 30 s. */
    propagationGraceMs: z.number().int().nonnegative().default(30_000),
  })
  .strict();
export type UseAfterRevokeConfig = z.output<typeof useAfterRevokeConfigSchema>;

/** Creates the use_after_revoke detector. */
export function createUseAfterRevoke(config: UseAfterRevokeConfig): Detector {
  const open = new OpenFindings<Finding>();
  return {
    kind: 'use_after_revoke',
    onEvent(e, store) {
      if (e.source !== 'access' || e.event.status >= 400) return NONE;
      const ev = e.event;
      const key = LifecycleStore.keyOf(ev);
      const slot = store.find(key);
      if (slot < 0) return NONE;
      const revocation = store.revocation(slot, ev.claims?.sub ?? null);
      if (revocation === null || ev.ts <= revocation.at + config.propagationGraceMs) return NONE;
      let f = open.get(key!);
      if (!f) {
        f = tokenFinding('use_after_revoke', key!, ev, store, slot, revocation.at);
        f.evidence = { acceptedRequests: 0 };
        open.set(key!, f);
      }
      const accepted = (f.evidence.acceptedRequests as number) + 1;
      const after = Math.round((ev.ts - revocation.at) / 1000);
      f.summary = `${ev.gateway} accepted token ${f.jti ?? f.tokenFp} ${after} s after its ${revocation.by === 'token' ? '' : `${revocation.by} `}revocation (${accepted} request${accepted > 1 ? 's' : ''}): the gateway is not honouring revocation.`.replace('  ', ' ');
      f.evidence = {
        acceptedRequests: accepted,
        revokedAt: iso(revocation.at),
        revokedBy: revocation.by,
        family: store.familyOf(slot),
        propagationGraceMs: config.propagationGraceMs,
        secondsAfterRevocation: after,
        lastRequest: lastRequest(ev),
      };
      return [f];
    },
  };
}
