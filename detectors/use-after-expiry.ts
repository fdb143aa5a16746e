// use_after_expiry: a request succeeds with a token past its `exp` plus clock skew, so the
// gateway or the service version did not validate expiry. Expiry comes from the JWT claim,
// else from the IdP's issued event. A 401 after expiry is the system working: silent.
import { z } from 'zod';
import type { Detector } from './detector.js';
import { LifecycleStore } from '../lifecycle/store.js';
import { iso, NONE, type Finding } from './finding.js';
import { lastRequest, OpenFindings, tokenFinding } from './token-finding.js';

export const useAfterExpiryConfigSchema = z
  .object({
    /** Tolerated clock difference between issuer and gateway (RFC 7519 section 4.1.4 leeway), ms. Default 60 s. */
    clockSkewMs: z.number().int().nonnegative().default(60_000),
  })
  .strict();
export type UseAfterExpiryConfig = z.output<typeof useAfterExpiryConfigSchema>;

/** Creates the use_after_expiry detector. */
export function createUseAfterExpiry(config: UseAfterExpiryConfig): Detector {
  const open = new OpenFindings<Finding>();
  return {
    kind: 'use_after_expiry',
    onEvent(e, store) {
      if (e.source !== 'access' || e.event.status >= 400) return NONE;
      const ev = e.event;
      const key = LifecycleStore.keyOf(ev);
      if (key === null) return NONE;
      const slot = store.find(key);
      const exp = ev.claims?.exp ?? (slot >= 0 ? store.tokens.exp[slot]! : NaN);
      if (exp === null || Number.isNaN(exp) || ev.ts <= exp + config.clockSkewMs) return NONE;
      let f = open.get(key);
      if (!f) {
        f = tokenFinding('use_after_expiry', key, ev, store, slot, ev.ts);
        f.evidence = { acceptedRequests: 0 };
        open.set(key, f);
      }
      const accepted = (f.evidence.acceptedRequests as number) + 1;
      const late = Math.round((ev.ts - exp) / 1000);
      f.summary = `${ev.deployment.service ?? ev.host ?? 'A service'} ${ev.deployment.version ?? ''} accepted token ${f.jti ?? f.tokenFp} ${late} s after it expired (${accepted} request${accepted > 1 ? 's' : ''}): expiry is not being validated.`.replace('  ', ' ');
      f.evidence = {
        acceptedRequests: accepted,
        exp: iso(exp),
        clockSkewMs: config.clockSkewMs,
        secondsPastExpiry: late,
        lastRequest: lastRequest(ev),
        expFrom: ev.claims?.exp != null ? 'jwt_claim' : 'idp_event',
      };
      return [f];
    },
  };
}
