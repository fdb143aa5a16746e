// use_after_revoke: a request succeeds with a token the IdP revoked (the token itself, its
// session by logout, its refresh family, or every session of its subject) longer ago than
// the propagation grace: a gateway is not honouring revocation.
import { z } from 'zod';
import type { Detector } from './detector.js';
import { LifecycleStore } from '../lifecycle/store.js';
import { compact, findingId, iso, type Finding } from './finding.js';

export const useAfterRevokeConfigSchema = z
  .object({
    /** Time gateways get to learn of a revocation (cache TTLs, introspection caching), ms. Default 30 s. */
    propagationGraceMs: z.number().int().nonnegative().default(30_000),
  })
  .strict();
export type UseAfterRevokeConfig = z.output<typeof useAfterRevokeConfigSchema>;

/** Creates the use_after_revoke detector. */
export function createUseAfterRevoke(config: UseAfterRevokeConfig): Detector {
  const open = new Map<string, Finding>();
  return {
    kind: 'use_after_revoke',
    onEvent(e, store) {
      if (e.source !== 'access' || e.event.status >= 400) return [];
      const ev = e.event;
      const key = LifecycleStore.keyOf(ev);
      const slot = store.find(key);
      if (slot < 0) return [];
      const revocation = store.revocation(slot, ev.claims?.sub ?? null);
      if (revocation === null || ev.ts <= revocation.at + config.propagationGraceMs) return [];
      let f = open.get(key!);
      if (!f) {
        f = compact({
          id: findingId('use_after_revoke', key),
          kind: 'use_after_revoke',
          severity: 'high',
          action: 'alert',
          detectedAt: iso(ev.ts),
          firstEventAt: iso(revocation.at),
          tokenFp: ev.tokenFp ?? undefined,
          jti: ev.claims?.jti ?? undefined,
          sessionId: ev.claims?.sid ?? store.sessionOf(slot) ?? undefined,
          subject: ev.claims?.sub ?? undefined,
          service: ev.deployment.service ?? undefined,
          version: ev.deployment.version ?? undefined,
          track: ev.deployment.track ?? undefined,
          summary: '',
          evidence: { acceptedRequests: 0 },
        }) as Finding;
        open.set(key!, f);
        if (open.size > 10_000) open.delete(open.keys().next().value as string);
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
        lastRequest: { ts: iso(ev.ts), requestId: ev.requestId, gateway: ev.gateway, path: ev.path, status: ev.status, clientIp: ev.clientIp },
      };
      return [f];
    },
  };
}
