// Tests auth_failure_spike on synthetic gateway traffic built from a seeded PRNG: the issue's
// detection target (a canary rejecting 20% of valid tokens, flagged within 2 minutes at 1 request
// per second), the baselines, incident identity, the precision cases that must stay silent,
// determinism and bounded state. Events run through a real LifecycleStore, ticks at each minute.
import { describe, expect, it } from 'vitest';
import type { AuthError, Deployment } from '../ingest/model.js';
import { Random } from '../ingest/generator/random.js';
import { LifecycleStore, lifecycleConfigSchema } from '../lifecycle/store.js';
import type { StreamEvent } from '../lifecycle/stream-event.js';
import { Metrics } from '../common/metrics.js';
import { findingSchema, type Finding } from './finding.js';
import type { Detector } from './detector.js';
import { authFailureSpikeConfigSchema, authFailureSpikeDefaults, createAuthFailureSpike } from './auth-failure-spike.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

const STABLE: Deployment = Object.freeze({ service: 'orders', version: 'v1', track: 'stable' });
const CANARY: Deployment = Object.freeze({ service: 'orders', version: 'v2', track: 'canary' });

interface Token {
  jti: string;
  fp: string;
  /** The exp claim, epoch ms; null when the token carries none. */
  exp: number | null;
}

/** A pool of tokens valid for hours after T0. */
function tokens(rng: Random, count: number, exp: number | null = T0 + 3 * 60 * MINUTE): Token[] {
  return Array.from({ length: count }, () => ({ jti: rng.hex(8), fp: rng.hex(16), exp }));
}

function request(ts: number, deployment: Deployment, authError: AuthError | null, token: Token | null): StreamEvent {
  return {
    source: 'access',
    event: {
      ts: Math.round(ts),
      gateway: 'envoy',
      requestId: null,
      method: 'GET',
      path: '/orders',
      route: 'orders',
      host: 'api.example.com',
      status: authError === null ? 200 : authError === 'revoked' ? 403 : 401,
      latencyMs: 4,
      clientIp: '203.0.113.7',
      userAgent: 'okhttp/4.12.0',
      tokenFp: token?.fp ?? null,
      tokenKind: token === null ? null : 'jwt',
      claims:
        token === null
          ? null
          : { jti: token.jti, sub: 'u1', sid: null, clientId: 'shop', iat: T0 - MINUTE, exp: token.exp, iss: 'https://idp.example.com', aud: ['orders'], alg: 'RS256', verified: null },
      authError,
      deployment,
      consumerId: null,
    },
  };
}

/** Poisson arrivals at `perSecond` in [from, to), each answered by `outcome` (auth error or none). */
function flow(
  rng: Random,
  deployment: Deployment,
  from: number,
  to: number,
  perSecond: number,
  pool: Token[],
  outcome: (ts: number, token: Token) => AuthError | null,
): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let ts = from + rng.exp(1000 / perSecond); ts < to; ts += rng.exp(1000 / perSecond)) {
    const token = rng.pick(pool);
    out.push(request(ts, deployment, outcome(Math.round(ts), token), token));
  }
  return out;
}

/** Random auth failures at `rate`, as `invalid`. */
const noise = (rng: Random, rate: number) => (): AuthError | null => (rng.chance(rate) ? 'invalid' : null);

/** Feeds events in time order through the detector and a lifecycle store, ticking at each minute boundary up to `until`. */
function run(detector: Detector, events: StreamEvent[], until?: number): Finding[] {
  const store = new LifecycleStore(lifecycleConfigSchema.parse({}), new Metrics());
  const sorted = [...events].sort((a, b) => a.event.ts - b.event.ts);
  const out: Finding[] = [];
  let tick = (Math.floor(sorted[0]!.event.ts / MINUTE) + 1) * MINUTE;
  for (const e of sorted) {
    for (; tick <= e.event.ts; tick += MINUTE) out.push(...detector.onTick!(tick, store));
    out.push(...detector.onEvent(e, store));
    store.apply(e);
  }
  const end = until ?? sorted.at(-1)!.event.ts + MINUTE;
  for (; tick <= end; tick += MINUTE) out.push(...detector.onTick!(tick, store));
  return out;
}

/** Stable at 10 req/s with 0.5% random failures, from T0 for `minutes`. */
function stableTraffic(rng: Random, minutes: number, deployment: Deployment = STABLE): StreamEvent[] {
  return flow(rng, deployment, T0, T0 + minutes * MINUTE, 10, tokens(rng, 300), noise(rng, 0.005));
}

const ms = (isoTime: string): number => Date.parse(isoTime);

/** The target scenario: stable at 10 req/s, a canary at 1 req/s that rejects 20% of valid tokens as expired from `onset`. */
function canaryRejecting20Percent(seed: number, onset: number, minutes = 20): Finding[] {
  const rng = new Random(seed);
  const pool = tokens(rng, 200);
  const canary = flow(rng, CANARY, T0, T0 + minutes * MINUTE, 1, pool, (ts) =>
    ts >= onset && rng.chance(0.2) ? 'expired' : rng.chance(0.005) ? 'invalid' : null,
  );
  return run(createAuthFailureSpike(), [...stableTraffic(rng, minutes), ...canary]);
}

describe('auth_failure_spike detection', () => {
  it('flags a canary that starts rejecting 20% of valid tokens as expired for rollback within 2 minutes at 1 request per second', () => {
    const onset = T0 + 10 * MINUTE + 30_000;
    const findings = canaryRejecting20Percent(7, onset);

    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.version === 'v2')).toBe(true);
    const first = findings[0]!;
    findingSchema.parse(first);
    expect(ms(first.detectedAt) - onset).toBeLessThanOrEqual(120_000);
    expect(ms(first.detectedAt) - onset).toBe(90_000);
    expect(first.firstEventAt).toBe(new Date(T0 + 10 * MINUTE).toISOString());
    expect(first).toMatchObject({ kind: 'auth_failure_spike', severity: 'critical', action: 'rollback', service: 'orders', track: 'canary' });
    expect(first.evidence).toMatchObject({ baselineKind: 'stable_track', test: 'fisher_exact' });
    expect(first.summary).toMatch(
      /^orders v2 \(canary\) rejects \d+(\.\d)?% of requests as auth failures against 0\.\d% on stable over the last (minute|[23] minutes) \(p=[\d.]+e-\d+\); \d+ were false expiries of still-valid tokens$/,
    );
    // The incident goes on: updates keep its id and first detection time, with fresh evidence.
    expect(new Set(findings.map((f) => f.id)).size).toBe(1);
    expect(new Set(findings.map((f) => f.detectedAt)).size).toBe(1);
    const last = findings.at(-1)!;
    expect(last.evidence.evaluations).toBe(findings.length);
    expect(last.evidence.lastEvaluatedAt).not.toBe(first.evidence.lastEvaluatedAt);
  });

  it('meets the 2-minute target whatever second of the minute the regression starts in', () => {
    for (const [seed, second] of [[1, 1], [2, 15], [3, 30], [4, 45], [5, 59]] as const) {
      const onset = T0 + 10 * MINUTE + second * 1000;
      const first = canaryRejecting20Percent(seed, onset, 14)[0];
      expect(first?.action).toBe('rollback');
      expect(ms(first!.detectedAt) - onset).toBeLessThanOrEqual(120_000);
    }
  });

  it('gives a high rollback finding, without false expiries, to a canary rejecting valid tokens as invalid against unlabelled stable traffic', () => {
    const rng = new Random(11);
    const unlabelled: Deployment = Object.freeze({ service: 'orders', version: null, track: null });
    const canary = flow(rng, CANARY, T0, T0 + 15 * MINUTE, 2, tokens(rng, 100), (ts) =>
      rng.chance(ts >= T0 + 8 * MINUTE ? 0.2 : 0.005) ? 'invalid' : null,
    );
    const findings = run(createAuthFailureSpike(), [...stableTraffic(rng, 15, unlabelled), ...canary]);

    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ version: 'v2', severity: 'high', action: 'rollback' });
    expect(findings[0]!.evidence).toMatchObject({ baselineKind: 'stable_track', version: { falseExpiries: 0 } });
    expect(findings[0]!.summary).not.toMatch(/false expir/);
  });

  it('ignores the version-less 401s a gateway answers itself once the track names its versions', () => {
    const rng = new Random(21);
    // A gateway auth plugin rejects before proxying, so its 401s log no version: a series of
    // nothing but failures that must not be judged as an "unknown version" release.
    const answeredByGateway: Deployment = Object.freeze({ service: 'orders', version: null, track: 'canary' });
    const events = [
      ...stableTraffic(rng, 20),
      ...flow(rng, CANARY, T0, T0 + 20 * MINUTE, 1, tokens(rng, 50), noise(rng, 0.005)),
      ...flow(rng, answeredByGateway, T0, T0 + 20 * MINUTE, 0.5, tokens(rng, 50, T0 - MINUTE), () => 'missing'),
    ].sort((a, b) => a.event.ts - b.event.ts);
    expect(run(createAuthFailureSpike(), events)).toEqual([]);
  });

  it('judges a green version without stable traffic against its own previous minutes', () => {
    const rng = new Random(12);
    const green: Deployment = Object.freeze({ service: 'payments', version: 'v8', track: 'green' });
    const events = flow(rng, green, T0, T0 + 30 * MINUTE, 3, tokens(rng, 100), (ts) => (rng.chance(ts >= T0 + 25 * MINUTE ? 0.25 : 0.005) ? 'malformed' : null));
    const findings = run(createAuthFailureSpike(), events);

    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ service: 'payments', version: 'v8', track: 'green', action: 'rollback', severity: 'high' });
    expect(findings[0]!.evidence).toMatchObject({ baselineKind: 'own_history', baselineWindow: { minutes: 30 } });
    expect(findings[0]!.summary).toMatch(/^payments v8 \(green\) rejects \d+(\.\d)?% of requests as auth failures over the last (minute|[23] minutes) against 0\.\d% in its own 30 minutes up to \d\d:\d\d UTC \(p=/);
  });

  it('raises a stable regression as a high alert judged against its own history, even with false expiries', () => {
    const rng = new Random(13);
    const pool = tokens(rng, 300);
    const events = flow(rng, STABLE, T0, T0 + 30 * MINUTE, 10, pool, (ts) =>
      ts >= T0 + 20 * MINUTE && rng.chance(0.1) ? 'expired' : rng.chance(0.005) ? 'invalid' : null,
    );
    const findings = run(createAuthFailureSpike(), events);

    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ track: 'stable', action: 'alert', severity: 'high' });
    expect(findings[0]!.evidence).toMatchObject({ baselineKind: 'own_history', falseExpiryTest: { significant: true } });
  });

  it('keeps a lasting regression out of its own baseline, so it is still judged against the minutes before it began', () => {
    const rng = new Random(18);
    const events = flow(rng, STABLE, T0, T0 + 65 * MINUTE, 5, tokens(rng, 300), (ts) => (rng.chance(ts >= T0 + 35 * MINUTE ? 0.15 : 0.005) ? 'invalid' : null));
    const findings = run(createAuthFailureSpike(), events);

    expect(new Set(findings.map((f) => f.id)).size).toBe(1);
    // 29 minutes in, the history (minutes 31 to 60) holds 4 clean minutes and 26 incident minutes, left out.
    const late = findings.find((f) => f.evidence.lastEvaluatedAt === new Date(T0 + 64 * MINUTE).toISOString());
    expect(late?.evidence.baseline).toMatchObject({ excludedIncidentMinutes: 26 });
    expect((late!.evidence.baseline as { failureRate: number }).failureRate).toBeLessThan(0.02);
  });

  it('alerts on a blue version rather than rolling it back', () => {
    const rng = new Random(14);
    const blue: Deployment = Object.freeze({ service: 'orders', version: 'v3', track: 'blue' });
    const events = flow(rng, blue, T0, T0 + 15 * MINUTE, 2, tokens(rng, 100), (ts) => (rng.chance(ts >= T0 + 8 * MINUTE ? 0.2 : 0.005) ? 'invalid' : null));
    const findings = run(createAuthFailureSpike(), [...stableTraffic(rng, 15), ...events]);

    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.action === 'alert' && f.track === 'blue')).toBe(true);
  });

  it('keeps one id while an incident lasts and gives a rise after five quiet evaluations a new id', () => {
    const rng = new Random(15);
    const bad = (ts: number): boolean => (ts >= T0 + 10 * MINUTE && ts < T0 + 15 * MINUTE) || ts >= T0 + 30 * MINUTE;
    const canary = flow(rng, CANARY, T0, T0 + 40 * MINUTE, 2, tokens(rng, 100), (ts) => (rng.chance(bad(ts) ? 0.3 : 0.005) ? 'invalid' : null));
    const findings = run(createAuthFailureSpike(), [...stableTraffic(rng, 40), ...canary]);

    const ids = [...new Set(findings.map((f) => f.id))];
    expect(ids).toHaveLength(2);
    const second = findings.find((f) => f.id === ids[1])!;
    expect(ms(second.firstEventAt)).toBe(T0 + 30 * MINUTE);
    expect(second.evidence.evaluations).toBe(1);
  });

  it('reopens nothing when the rate dips for fewer than five evaluations', () => {
    const rng = new Random(16);
    // Bad for 5 minutes, fine for 3 (the 3-minute window is clean for 1 to 3 evaluations), bad again.
    const bad = (ts: number): boolean => (ts >= T0 + 10 * MINUTE && ts < T0 + 15 * MINUTE) || (ts >= T0 + 18 * MINUTE && ts < T0 + 25 * MINUTE);
    const canary = flow(rng, CANARY, T0, T0 + 25 * MINUTE, 2, tokens(rng, 100), (ts) => (rng.chance(bad(ts) ? 0.3 : 0.005) ? 'invalid' : null));
    const findings = run(createAuthFailureSpike(), [...stableTraffic(rng, 25), ...canary]);

    expect(new Set(findings.map((f) => f.id)).size).toBe(1);
  });

  it('counts an expired rejection as a false expiry when only the lifecycle store knows the exp is hours ahead', () => {
    const rng = new Random(17);
    // The tokens carry no exp claim; the IdP announced their expiry when it issued them.
    const pool = tokens(rng, 50, null);
    const issued: StreamEvent[] = pool.map((t) => ({
      source: 'token',
      event: {
        ts: T0 - MINUTE,
        idp: 'keycloak',
        type: 'issued',
        idpEventType: 'LOGIN',
        tokenId: t.jti,
        refreshTokenId: null,
        parentRefreshTokenId: null,
        sessionId: null,
        subject: 'u1',
        clientId: 'shop',
        ip: null,
        exp: T0 + 3 * 60 * MINUTE,
        reason: null,
      },
    }));
    const canary = flow(rng, CANARY, T0, T0 + 12 * MINUTE, 1, pool, (ts) => (ts >= T0 + 6 * MINUTE && rng.chance(0.2) ? 'expired' : null));
    const findings = run(createAuthFailureSpike(), [...issued, ...stableTraffic(rng, 12), ...canary]);

    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ severity: 'critical', action: 'rollback' });
    expect((findings[0]!.evidence.version as { falseExpiries: number }).falseExpiries).toBeGreaterThan(0);
  });
});

describe('auth_failure_spike precision', () => {
  it('stays silent on a wave of tokens that really expire together on stable and canary', () => {
    const rng = new Random(21);
    const waveExp = T0 + 10 * MINUTE;
    const wave = tokens(rng, 200, waveExp);
    const steady = tokens(rng, 200);
    const pool = [...wave, ...steady];
    // Past exp, or less than the clock skew before it (a gateway whose clock runs 30 s ahead), a rejection is a real expiry.
    const expiry = (ts: number, token: Token): AuthError | null => (token.exp !== null && ts >= token.exp - 30_000 ? 'expired' : null);
    const events = [
      ...flow(rng, STABLE, T0, T0 + 20 * MINUTE, 10, pool, expiry),
      ...flow(rng, CANARY, T0, T0 + 20 * MINUTE, 3, pool, expiry),
    ];
    expect(events.filter((e) => e.source === 'access' && e.event.authError === 'expired').length).toBeGreaterThan(3000);
    expect(run(createAuthFailureSpike(), events)).toEqual([]);
  });

  it('stays silent when the canary fails as often as stable', () => {
    const rng = new Random(22);
    const events = [
      ...flow(rng, STABLE, T0, T0 + 20 * MINUTE, 10, tokens(rng, 300), noise(rng, 0.08)),
      ...flow(rng, CANARY, T0, T0 + 20 * MINUTE, 3, tokens(rng, 100), noise(rng, 0.08)),
    ];
    expect(run(createAuthFailureSpike(), events)).toEqual([]);
  });

  it('stays silent below the minimum sample even when half the canary requests fail', () => {
    const rng = new Random(23);
    // One request every 10 s: 18 in a 3-minute window, below the 30 the guardrail asks for.
    const canary = flow(rng, CANARY, T0, T0 + 20 * MINUTE, 0.1, tokens(rng, 50), noise(rng, 0.5));
    expect(run(createAuthFailureSpike(), [...stableTraffic(rng, 20), ...canary])).toEqual([]);
  });

  it('stays silent on 1% random failures on both tracks over 30 minutes', () => {
    const rng = new Random(24);
    const events = [
      ...flow(rng, STABLE, T0, T0 + 30 * MINUTE, 10, tokens(rng, 300), noise(rng, 0.01)),
      ...flow(rng, CANARY, T0, T0 + 30 * MINUTE, 2, tokens(rng, 100), noise(rng, 0.01)),
    ];
    expect(run(createAuthFailureSpike(), events)).toEqual([]);
  });

  it('stays silent on a significant but trivial rise over a huge sample, which a lower minimum effect would flag', () => {
    const rng = new Random(25);
    const events = [
      ...flow(rng, STABLE, T0, T0 + 8 * MINUTE, 100, tokens(rng, 300), noise(rng, 0.01)),
      ...flow(rng, CANARY, T0, T0 + 8 * MINUTE, 100, tokens(rng, 300), noise(rng, 0.025)),
    ];
    expect(run(createAuthFailureSpike(), events)).toEqual([]);
    const loose = run(createAuthFailureSpike({ minEffect: 0.01 }), events);
    expect(loose.length).toBeGreaterThan(0);
    expect(loose[0]!.evidence.test).toBe('two_proportion_z');
  });

  it('does not count revoked tokens refused by a canary as auth failures', () => {
    const rng = new Random(26);
    const canary = flow(rng, CANARY, T0, T0 + 15 * MINUTE, 2, tokens(rng, 100), () => (rng.chance(0.3) ? 'revoked' : null));
    expect(run(createAuthFailureSpike(), [...stableTraffic(rng, 15), ...canary])).toEqual([]);
  });
});

describe('auth_failure_spike state', () => {
  it('gives the same findings and ids for the same input twice', () => {
    const build = (): StreamEvent[] => {
      const rng = new Random(31);
      const canary = flow(rng, CANARY, T0, T0 + 15 * MINUTE, 1, tokens(rng, 100), (ts) => (ts >= T0 + 8 * MINUTE && rng.chance(0.2) ? 'expired' : null));
      return [...stableTraffic(rng, 15), ...canary];
    };
    const a = run(createAuthFailureSpike(), build());
    const b = run(createAuthFailureSpike(), build());
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it('forgets deployments idle for more than an hour of stream time', () => {
    const rng = new Random(32);
    const detector = createAuthFailureSpike();
    const old: Deployment = Object.freeze({ service: 'orders', version: 'v0', track: 'canary' });
    const events = [request(T0, old, null, null), ...flow(rng, STABLE, T0, T0 + 60 * MINUTE, 0.2, tokens(rng, 10), () => null)];
    run(detector, events, T0 + 60 * MINUTE);
    expect(detector.trackedDeployments).toBe(2);
    run(detector, [request(T0 + 62 * MINUTE, STABLE, null, null)], T0 + 63 * MINUTE);
    expect(detector.trackedDeployments).toBe(1);
  });

  it('never tracks more deployments than maxDeployments', () => {
    const detector = createAuthFailureSpike({ maxDeployments: 10 });
    const events = Array.from({ length: 50 }, (_, i) => request(T0 + i * 1000, { service: 'orders', version: `v${i}`, track: 'canary' }, null, null));
    run(detector, events);
    expect(detector.trackedDeployments).toBe(10);
  });

  it('drops and counts a request older than the minutes it keeps', () => {
    const detector = createAuthFailureSpike();
    const store = new LifecycleStore(lifecycleConfigSchema.parse({}), new Metrics());
    // Out of order on purpose: 40 minutes late is beyond the window plus history (33 minutes).
    for (const ts of [T0, T0 + 40 * MINUTE, T0 + 10_000, T0 + 20 * MINUTE]) detector.onEvent(request(ts, STABLE, 'invalid', null), store);
    expect(detector.lateEvents).toBe(1);
  });

  it('ignores IdP events and requests that name no service', () => {
    const detector = createAuthFailureSpike();
    const nowhere: Deployment = Object.freeze({ service: null, version: 'v1', track: 'canary' });
    run(detector, [request(T0, nowhere, 'invalid', null), request(T0 + 1000, nowhere, 'invalid', null)]);
    expect(detector.trackedDeployments).toBe(0);
  });
});

describe('auth_failure_spike config', () => {
  it('documents its defaults: 3-minute window, 30-minute history, p < 0.001, 5 points, 30 requests, 5 failures', () => {
    expect(authFailureSpikeDefaults).toEqual({
      windowMinutes: 3,
      historyMinutes: 30,
      significance: 0.001,
      minEffect: 0.05,
      minRequests: 30,
      minFailures: 5,
      minBaselineRequests: 30,
      minFalseExpiries: 3,
      clockSkewMs: 60_000,
      quietEvaluationsToClose: 5,
      idleMs: 3_600_000,
      maxDeployments: 1000,
    });
    expect(Object.isFrozen(authFailureSpikeDefaults)).toBe(true);
  });

  it('names the bad field when the config is invalid', () => {
    expect(() => createAuthFailureSpike({ windowMinutes: 0 })).toThrow(/detectors\.auth_failure_spike\.windowMinutes/);
    expect(() => authFailureSpikeConfigSchema.parse({ window: 3 })).toThrow();
  });
});
