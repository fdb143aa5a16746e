// The labelled scenarios: every label describes what really was injected (checked against the
// streams with the detectors' own notions of network and user-agent family), nothing anomalous
// is left unlabelled, the same seed gives the same output, and every record renders in every format.
import { describe, expect, it } from 'vitest';
import { generateScenario, labelSchema, type Label, type Scenario } from './scenarios.js';
import { generateTraffic, trafficConfigSchema } from './traffic.js';
import { GATEWAY_RENDERERS, IDP_RENDERERS } from './formats/index.js';
import type { SyntheticRequest } from './types.js';
import { isIpv6, networkPrefix, uaFamily } from '../../lifecycle/clients.js';

const MINUTE = 60_000;
const SKEW_MS = 60_000;
const GRACE_MS = 30_000;
const WINDOW_MS = 5 * MINUTE;

const scenario = generateScenario();
const { start, durationMs } = trafficConfigSchema.parse({});
const end = start + durationMs;

interface Claims {
  jti: string;
  sid?: string;
  exp: number;
}
const claimCache = new Map<string, Claims | null>();

/** jti, sid and exp (epoch ms) of a request's JWT; null for API keys and anonymous requests. */
function claims(r: SyntheticRequest): Claims | null {
  if (r.rawToken === null) return null;
  let c = claimCache.get(r.rawToken);
  if (c === undefined) {
    const parts = r.rawToken.split('.');
    const body = parts.length === 3 ? (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>) : null;
    c = body && typeof body.jti === 'string' ? { jti: body.jti, sid: body.sid as string | undefined, exp: (body.exp as number) * 1000 } : null;
    claimCache.set(r.rawToken, c);
  }
  return c;
}

/** Map.groupBy, which Node 20 lacks. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}

const withJti = (s: Scenario, jti: string): SyntheticRequest[] => s.requests.filter((r) => claims(r)?.jti === jti);
const labelsNamed = (name: string): Label[] => scenario.labels.filter((l) => l.name === name);
const client = (r: SyntheticRequest): string => `${networkPrefix(r.clientIp)}|${uaFamily(r.userAgent)}`;
const isExpiredChallenge = (r: SyntheticRequest): boolean => r.status === 401 && /expired/.test(r.wwwAuthenticate ?? '');

function one(name: string): Label {
  const found = labelsNamed(name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

describe('scenario labels', () => {
  it('labels every default injection, each valid and inside the stream', () => {
    const names = new Set(scenario.labels.map((l) => l.name));
    expect([...names].sort()).toEqual(
      [
        'canary_false_expiry',
        'dual_stack',
        'expired_token_accepted',
        'expiry_wave',
        'late_request_then_refresh',
        'logged_out_session_accepted',
        'mobile_handover',
        'nat_pool',
        'refresh_retry_within_grace',
        'revoked_token_accepted',
        'stolen_refresh_token',
        'stolen_token',
      ].sort(),
    );
    for (const l of scenario.labels) {
      expect(labelSchema.parse(l)).toEqual(l);
      expect(l.from, l.name).toBeGreaterThanOrEqual(start);
      expect(l.until, l.name).toBeLessThan(end);
    }
    expect(new Set(scenario.labels.filter((l) => l.kind !== 'benign').map((l) => l.kind)).size).toBe(5);
  });

  it('keeps requests and token events in time order', () => {
    for (const stream of [scenario.requests, scenario.tokenEvents]) {
      for (let i = 1; i < stream.length; i++) expect(stream[i]!.ts).toBeGreaterThanOrEqual(stream[i - 1]!.ts);
    }
    expect(scenario.requests.every((r) => r.ts >= start && r.ts < end)).toBe(true);
  });

  it('stolen_token: two clients differing in network and user-agent family use the jti within 5 minutes, all accepted', () => {
    const l = one('stolen_token');
    const uses = withJti(scenario, l.jti!);
    const byClient = groupBy(uses, client);
    expect(byClient.size).toBe(2);
    const [victim, attacker] = [...byClient.values()].sort((a, b) => b.length - a.length) as [SyntheticRequest[], SyntheticRequest[]];
    expect(networkPrefix(victim[0]!.clientIp)).not.toBe(networkPrefix(attacker[0]!.clientIp));
    expect(uaFamily(victim[0]!.userAgent)).not.toBe(uaFamily(attacker[0]!.userAgent));
    expect(uaFamily(attacker[0]!.userAgent)).toBe('python');
    expect(attacker.length).toBeGreaterThanOrEqual(3);
    expect(uses.every((r) => r.status === 200)).toBe(true);
    for (const a of attacker) expect(victim.some((v) => Math.abs(v.ts - a.ts) < WINDOW_MS)).toBe(true);
    // Interleaved: the victim keeps using the token between the attacker's first and last request.
    expect(victim.some((v) => v.ts > attacker[0]!.ts && v.ts < attacker[attacker.length - 1]!.ts)).toBe(true);
    expect([l.from, l.until]).toEqual([attacker[0]!.ts, attacker[attacker.length - 1]!.ts]);
  });

  it('stolen_refresh_token: one refresh token is redeemed twice, minutes apart, from two addresses', () => {
    const l = one('stolen_refresh_token');
    const redemptions = scenario.tokenEvents.filter((e) => e.type === 'refreshed' && e.parentRefreshTokenId === l.refreshFamily);
    expect(redemptions).toHaveLength(2);
    const [legit, reuse] = redemptions as [(typeof redemptions)[0], (typeof redemptions)[0]];
    expect(reuse.ts - legit.ts).toBeGreaterThan(GRACE_MS);
    expect(reuse.ip).not.toBe(legit.ip);
    expect(reuse.sessionId).toBe(l.sessionId);
    expect(reuse.tokenId).toBe(l.jti);
    expect(scenario.tokenEvents.find((e) => e.type === 'issued' && e.refreshTokenId === l.refreshFamily)).toBeDefined();
    expect([l.from, l.until]).toEqual([legit.ts, reuse.ts]);
  });

  it('revoked_token_accepted and logged_out_session_accepted: the token keeps getting 200s more than 30 s after the IdP revoked it', () => {
    for (const [name, type] of [
      ['revoked_token_accepted', 'revoked'],
      ['logged_out_session_accepted', 'logout'],
    ] as const) {
      const l = one(name);
      const revocation = scenario.tokenEvents.find((e) => e.type === type && (type === 'revoked' ? e.tokenId === l.jti : e.sessionId === l.sessionId));
      expect(revocation, name).toBeDefined();
      expect(revocation!.ts).toBe(l.from);
      const late = withJti(scenario, l.jti!).filter((r) => r.ts > revocation!.ts + GRACE_MS);
      expect(late.length, name).toBeGreaterThanOrEqual(3);
      expect(late.every((r) => r.status === 200 && r.service === l.service && r.version === l.version && r.track === l.track)).toBe(true);
      expect(late.every((r) => r.ts < claims(r)!.exp)).toBe(true);
    }
  });

  it('expired_token_accepted: legacy v0 answers 200 to several tokens well past exp', () => {
    const labels = labelsNamed('expired_token_accepted');
    expect(labels.length).toBeGreaterThanOrEqual(3);
    for (const l of labels) {
      const uses = withJti(scenario, l.jti!);
      expect(uses.length).toBeGreaterThanOrEqual(3);
      for (const r of uses) {
        expect([r.status, r.service, r.version, r.track]).toEqual([200, 'legacy', 'v0', 'stable']);
        expect(r.ts - claims(r)!.exp).toBeGreaterThan(SKEW_MS);
      }
    }
  });

  it('canary_false_expiry: after the onset the canary rejects about 20% of valid-token requests as expired at 1 req/s or more, stable none', () => {
    const l = one('canary_false_expiry');
    const after = scenario.requests.filter((r) => r.service === l.service && r.ts >= l.from && r.ts <= l.until);
    const canary = after.filter((r) => r.track === 'canary');
    const validToken = canary.filter((r) => claims(r) !== null && claims(r)!.exp - r.ts > SKEW_MS);
    const falseExpiries = validToken.filter((r) => r.status === 401);
    expect(falseExpiries.every((r) => r.wwwAuthenticate === 'Bearer error="invalid_token", error_description="The access token expired"')).toBe(true);
    // The release itself rejects, so gateways log its deployment headers on the 401s too.
    expect(falseExpiries.every((r) => r.rejectedBy === 'upstream')).toBe(true);
    const share = falseExpiries.length / validToken.filter((r) => r.status === 200 || r.status === 401).length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.25);
    expect(canary.length / ((l.until - l.from) / 1000)).toBeGreaterThanOrEqual(1);
    expect(canary.every((r) => r.version === 'v2')).toBe(true);

    const stable = after.filter((r) => r.track === 'stable');
    expect(stable.filter((r) => isExpiredChallenge(r) && claims(r)!.exp - r.ts > SKEW_MS)).toEqual([]);
    expect(stable.filter((r) => r.status === 401 || r.status === 403).length / stable.length).toBeLessThan(0.05);
    const before = scenario.requests.filter((r) => r.service === l.service && r.track === 'canary' && r.ts < l.from);
    expect(before.filter((r) => isExpiredChallenge(r) && claims(r)!.exp - r.ts > SKEW_MS)).toEqual([]);
  });

  it('nat_pool: many users with their own tokens share one address and user agent', () => {
    const labels = labelsNamed('nat_pool');
    expect(labels.length).toBeGreaterThanOrEqual(10);
    const uses = labels.map((l) => withJti(scenario, l.jti!));
    const clients = new Set(uses.flat().map((r) => `${r.clientIp}|${r.userAgent}`));
    expect(clients.size).toBe(1);
    expect(new Set(labels.map((l) => l.sessionId)).size).toBe(labels.length);
  });

  it('mobile_handover: the token moves once from one /24 to another with the same user-agent family, never back', () => {
    const l = one('mobile_handover');
    const uses = withJti(scenario, l.jti!);
    const networks = uses.map((r) => networkPrefix(r.clientIp));
    const changes = networks.filter((n, i) => i > 0 && n !== networks[i - 1]).length;
    expect(new Set(networks).size).toBe(2);
    expect(changes).toBe(1);
    expect(new Set(uses.map((r) => uaFamily(r.userAgent))).size).toBe(1);
    expect(uses.some((r) => r.clientIp.startsWith('100.64.'))).toBe(true);
  });

  it('dual_stack: the token alternates between one IPv4 and one IPv6 address with one user agent', () => {
    const l = one('dual_stack');
    const uses = withJti(scenario, l.jti!);
    expect(new Set(uses.map((r) => r.clientIp)).size).toBe(2);
    expect(new Set(uses.map((r) => isIpv6(r.clientIp)))).toEqual(new Set([true, false]));
    expect(new Set(uses.map((r) => r.userAgent)).size).toBe(1);
    const switches = uses.filter((r, i) => i > 0 && r.clientIp !== uses[i - 1]!.clientIp).length;
    expect(switches).toBeGreaterThanOrEqual(3);
  });

  it('late_request_then_refresh: one 401 expired just after exp, a refresh, then 200s with a new token', () => {
    const l = one('late_request_then_refresh');
    const uses = withJti(scenario, l.jti!);
    const rejected = uses.filter((r) => r.status === 401);
    expect(rejected).toHaveLength(1);
    const late = rejected[0]!;
    expect(isExpiredChallenge(late)).toBe(true);
    expect(late.ts).toBeGreaterThan(claims(late)!.exp);
    expect(late.ts - claims(late)!.exp).toBeLessThan(SKEW_MS);
    expect(uses.filter((r) => r.ts > claims(r)!.exp && r.status < 400)).toEqual([]);
    const refresh = scenario.tokenEvents.find((e) => e.type === 'refreshed' && e.sessionId === l.sessionId && e.ts > late.ts);
    expect(refresh!.ts - late.ts).toBeLessThan(1_000);
    const next = scenario.requests.filter((r) => claims(r)?.jti === refresh!.tokenId);
    expect(next.length).toBeGreaterThan(0);
    expect(next.every((r) => r.status === 200 && r.ts > refresh!.ts)).toBe(true);
  });

  it('expiry_wave: many tokens sharing one exp get 401 expired on stable and canary within one minute', () => {
    const l = one('expiry_wave');
    const wave = scenario.requests.filter((r) => r.service === l.service && isExpiredChallenge(r) && r.ts >= l.from && r.ts <= l.until);
    const tokens = new Set(wave.map((r) => claims(r)!.jti));
    expect(tokens.size).toBeGreaterThanOrEqual(20);
    expect(new Set(wave.map((r) => claims(r)!.exp)).size).toBe(1);
    expect(wave.every((r) => r.ts > claims(r)!.exp)).toBe(true);
    expect(l.until - l.from).toBeLessThan(MINUTE);
    expect(Math.floor(l.from / MINUTE)).toBe(Math.floor(l.until / MINUTE));
    expect(wave.filter((r) => r.track === 'canary').length).toBeGreaterThanOrEqual(5);
    expect(wave.filter((r) => r.track === 'stable').length).toBeGreaterThanOrEqual(5);
  });

  it('refresh_retry_within_grace: one refresh token is redeemed twice within 30 s from the same address', () => {
    const l = one('refresh_retry_within_grace');
    const redemptions = scenario.tokenEvents.filter((e) => e.type === 'refreshed' && e.parentRefreshTokenId === l.refreshFamily);
    expect(redemptions).toHaveLength(2);
    expect(redemptions[1]!.ts - redemptions[0]!.ts).toBeLessThanOrEqual(GRACE_MS);
    expect(redemptions[1]!.ip).toBe(redemptions[0]!.ip);
    expect([l.from, l.until]).toEqual([redemptions[0]!.ts, redemptions[1]!.ts]);
  });
});

// The other direction: whatever the semantics would flag must carry a label expecting it, so
// background traffic and look-alikes cannot raise an unlabelled finding.
describe('scenario ground truth is complete', () => {
  const expected = (name: string, pick: (l: Label) => string | undefined): Set<string | undefined> => new Set(labelsNamed(name).map(pick));
  const byJti = groupBy(
    scenario.requests.filter((r) => claims(r) !== null),
    (r) => claims(r)!.jti,
  );

  it('every token used by two clients differing in network and user-agent family within 5 minutes is a labelled stolen_token', () => {
    const flagged = new Set<string>();
    for (const [jti, uses] of byJti) {
      if (new Set(uses.map(client)).size === 1) continue;
      for (let i = 0; i < uses.length && !flagged.has(jti); i++) {
        for (let j = i + 1; j < uses.length && uses[j]!.ts - uses[i]!.ts <= WINDOW_MS; j++) {
          const [a, b] = [uses[i]!, uses[j]!];
          if (networkPrefix(a.clientIp) !== networkPrefix(b.clientIp) && uaFamily(a.userAgent) !== uaFamily(b.userAgent)) flagged.add(jti);
        }
      }
    }
    expect(flagged).toEqual(expected('stolen_token', (l) => l.jti));
  });

  it('no token flaps back to an earlier IPv4 network with the same user-agent family', () => {
    for (const uses of byJti.values()) {
      for (const sameFamily of groupBy(uses.filter((r) => !isIpv6(r.clientIp)), (r) => uaFamily(r.userAgent)).values()) {
        const networks = sameFamily.map((r) => networkPrefix(r.clientIp));
        const runs = networks.filter((n, i) => i === 0 || n !== networks[i - 1]);
        expect(new Set(runs).size).toBe(runs.length);
      }
    }
  });

  it('every request accepted more than the clock skew past exp is a labelled expired_token_accepted', () => {
    const flagged = new Set(scenario.requests.filter((r) => r.status < 400 && claims(r) !== null && r.ts > claims(r)!.exp + SKEW_MS).map((r) => claims(r)!.jti));
    expect(flagged).toEqual(expected('expired_token_accepted', (l) => l.jti));
  });

  it('every request accepted more than 30 s after its revocation or logout is a labelled use_after_revoke', () => {
    const revokedAt = new Map<string, number>();
    for (const e of scenario.tokenEvents) {
      if (e.type === 'revoked' && e.tokenId !== null) revokedAt.set(`jti:${e.tokenId}`, e.ts);
      if (e.type === 'logout' && e.sessionId !== null) revokedAt.set(`sid:${e.sessionId}`, e.ts);
    }
    const flagged = new Set<string>();
    for (const r of scenario.requests) {
      const c = claims(r);
      if (r.status >= 400 || c === null) continue;
      const at = Math.min(revokedAt.get(`jti:${c.jti}`) ?? Infinity, revokedAt.get(`sid:${c.sid}`) ?? Infinity);
      if (r.ts > at + GRACE_MS) flagged.add(c.jti);
    }
    const labelled = new Set([...labelsNamed('revoked_token_accepted'), ...labelsNamed('logged_out_session_accepted')].map((l) => l.jti));
    expect(flagged).toEqual(labelled);
  });

  it('every refresh token redeemed twice is labelled: a reuse when apart or elsewhere, a retry otherwise', () => {
    const redeemed = groupBy(
      scenario.tokenEvents.filter((e) => e.type === 'refreshed' && e.parentRefreshTokenId !== null),
      (e) => e.parentRefreshTokenId!,
    );
    const reuse = new Set<string>();
    const retry = new Set<string>();
    for (const [parent, events] of redeemed) {
      if (events.length < 2) continue;
      const [a, b] = events as [(typeof events)[0], (typeof events)[0]];
      (b.ts - a.ts > GRACE_MS || a.ip !== b.ip ? reuse : retry).add(parent);
    }
    expect(reuse).toEqual(expected('stolen_refresh_token', (l) => l.refreshFamily));
    expect(retry).toEqual(expected('refresh_retry_within_grace', (l) => l.refreshFamily));
  });

  it('false expiries happen only on the labelled canary after its onset', () => {
    const l = one('canary_false_expiry');
    const falseExpiries = scenario.requests.filter((r) => isExpiredChallenge(r) && claims(r) !== null && claims(r)!.exp - r.ts > SKEW_MS);
    expect(falseExpiries.length).toBeGreaterThan(0);
    for (const r of falseExpiries) {
      expect([r.service, r.version, r.track]).toEqual([l.service, l.version, l.track]);
      expect(r.ts).toBeGreaterThanOrEqual(l.from);
    }
  });
});

describe('scenario determinism and config', () => {
  it('the same seed gives identical requests, token events and labels', () => {
    expect(generateScenario()).toEqual(scenario);
  });

  it('another seed gives other traffic and other ids', () => {
    const other = generateScenario({ traffic: { seed: 2 } });
    expect(other.labels.map((l) => l.jti)).not.toEqual(scenario.labels.map((l) => l.jti));
    expect(other.requests.length).not.toBe(scenario.requests.length);
  });

  it('turning one injection off leaves the other injections unchanged', () => {
    const without = generateScenario({ anomalies: { tokenReplay: { enabled: false } } });
    expect(without.labels).toEqual(scenario.labels.filter((l) => l.name !== 'stolen_token'));
  });

  it('with every injection off the output is the background traffic itself', () => {
    const off = { enabled: false };
    const quiet = generateScenario({
      traffic: { seed: 3, users: 10 },
      anomalies: { tokenReplay: off, refreshTokenReuse: off, useAfterRevoke: off, useAfterExpiry: off, authFailureSpike: off },
      benign: { natPool: off, mobileHandover: off, dualStack: off, lateRequestThenRefresh: off, expiryWave: off, refreshRetryWithinGrace: off },
    });
    expect(quiet).toEqual({ ...generateTraffic({ seed: 3, users: 10 }), labels: [] });
  });

  it('default onsets move earlier so that every injection fits a 4-minute stream', () => {
    const short = generateScenario({ traffic: { durationMs: 4 * MINUTE, users: 5 } });
    expect(new Set(short.labels.map((l) => l.name)).size).toBe(12);
    for (const l of short.labels) expect(l.until).toBeLessThan(start + 4 * MINUTE);
  });

  it('an onset that leaves the injection no room is refused, naming the field', () => {
    expect(() => generateScenario({ anomalies: { tokenReplay: { atMs: 9 * MINUTE } } })).toThrow(/scenario\.anomalies\.tokenReplay\.atMs/);
    expect(() => generateScenario({ benign: { natPool: { count: 0 } } })).toThrow(/scenario\.benign\.natPool\.count/);
  });

  it('tokens living under 3 minutes are refused, naming the field', () => {
    expect(() => generateScenario({ traffic: { tokenTtlSec: 120 } })).toThrow(/scenario\.traffic\.tokenTtlSec/);
  });
});

describe('scenario rendering', () => {
  it('every request renders in every gateway format variant without throwing', () => {
    for (const renderer of GATEWAY_RENDERERS) {
      for (const variant of renderer.variants) {
        for (const r of scenario.requests) {
          const line = renderer.render(r, variant);
          if (line.length === 0 || line.includes('\n')) throw new Error(`${renderer.format} ${variant}: bad line for request ${r.requestId}`);
        }
      }
    }
  });

  it('every token event renders in every IdP format without throwing', () => {
    for (const renderer of IDP_RENDERERS) for (const e of scenario.tokenEvents) expect(renderer.render(e)).not.toContain('\n');
  });
});
