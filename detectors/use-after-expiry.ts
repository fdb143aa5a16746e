// use_after_expiry: a request succeeds with a token past its `exp` plus clock skew, so the
// gateway or the service version did not validate expiry. Expiry comes from the JWT claim,
// else from the IdP's issued event. A 401 after expiry is the system working: silent.
import { z } from 'zod';
import type { Detector } from './detector.js';
import { LifecycleStore } from '../lifecycle/store.js';
import { compact, findingId, iso, type Finding } from './finding.js';

export const useAfterExpiryConfigSchema = z
  .object({
    /** Tolerated clock difference between issuer and gateway (RFC 7519 section 4.1.4 leeway), ms. Default 60 s. */
    clockSkewMs: z.number().int().nonnegative().default(60_000),
  })
  .strict();
export type UseAfterExpiryConfig = z.output<typeof useAfterExpiryConfigSchema>;

/** Creates the use_after_expiry detector. */
export function createUseAfterExpiry(config: UseAfterExpiryConfig): Detector {
  const open = new Map<string, Finding>();
  return {
    kind: 'use_after_expiry',
    onEvent(e, store) {
      if (e.source !== 'access' || e.event.status >= 400) return [];
      const ev = e.event;
      const key = LifecycleStore.keyOf(ev);
      if (key === null) return [];
      const slot = store.find(key);
      const exp = ev.claims?.exp ?? (slot >= 0 ? store.tokens.exp[slot]! : NaN);
      if (exp === null || Number.isNaN(exp) || ev.ts <= exp + config.clockSkewMs) return [];
      let f = open.get(key);
      if (!f) {
        f = compact({
          id: findingId('use_after_expiry', key),
          kind: 'use_after_expiry',
          severity: 'high',
          action: 'alert',
          detectedAt: iso(ev.ts),
          firstEventAt: iso(ev.ts),
          tokenFp: ev.tokenFp ?? undefined,
          jti: ev.claims?.jti ?? undefined,
          sessionId: ev.claims?.sid ?? (slot >= 0 ? store.sessionOf(slot) : null) ?? undefined,
          subject: ev.claims?.sub ?? undefined,
          service: ev.deployment.service ?? undefined,
          version: ev.deployment.version ?? undefined,
          track: ev.deployment.track ?? undefined,
          summary: '',
          evidence: { acceptedRequests: 0 },
        }) as Finding;
        open.set(key, f);
        if (open.size > 10_000) open.delete(open.keys().next().value as string);
      }
      const accepted = (f.evidence.acceptedRequests as number) + 1;
      const late = Math.round((ev.ts - exp) / 1000);
      f.summary = `${ev.deployment.service ?? ev.host ?? 'A service'} ${ev.deployment.version ?? ''} accepted token ${f.jti ?? f.tokenFp} ${late} s after it expired (${accepted} request${accepted > 1 ? 's' : ''}): expiry is not being validated.`.replace('  ', ' ');
      f.evidence = {
        acceptedRequests: accepted,
        exp: iso(exp),
        clockSkewMs: config.clockSkewMs,
        secondsPastExpiry: late,
        lastRequest: { ts: iso(ev.ts), requestId: ev.requestId, gateway: ev.gateway, path: ev.path, status: ev.status, clientIp: ev.clientIp },
        expFrom: ev.claims?.exp != null ? 'jwt_claim' : 'idp_event',
      };
      return [f];
    },
  };
}
