// Labelled scenarios: consumes generateTraffic's background requests and canonical TokenEvents,
// injects one anomaly per detector and the benign look-alikes each must stay silent on, and emits
// both streams in time order plus one Label per injected token, family or deployment. Same config,
// same output: every injection draws from its own PRNG seeded from (seed, injection name), so
// turning one off leaves the others byte-identical. Built for /tmp/tw/detector-semantics.md.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { loadConfig } from '../../common/config.js';
import { configError } from '../../common/errors.js';
import { FINDING_KINDS } from '../../detectors/finding.js';
import { TRACKS, type TokenEvent, type Track } from '../model.js';
import type { SyntheticRequest } from './types.js';
import { Random } from './random.js';
import { buildJwt } from './jwt.js';
import { generateTraffic, trafficConfigSchema } from './traffic.js';

/** Whether to inject, when, and how many instances (victims, tokens or users). */
function injectionSchema(defaultCount: number, maxCount: number) {
  return z
    .object({
      /** Inject it. Default true. */
      enabled: z.boolean().default(true),
      /** Onset, ms after the stream start. Default: the injection's share of the stream, moved earlier if it would not fit. */
      atMs: z.number().int().nonnegative().optional(),
      /** Instances, per injection (see its field). */
      count: z.number().int().min(1).max(maxCount).default(defaultCount),
    })
    .strict()
    .prefault({});
}

const spikeSchema = z
  .object({
    /** Inject it. Default true. */
    enabled: z.boolean().default(true),
    /** Onset of the regression, ms after the stream start. Default half the stream, at least 3 min before its end. */
    atMs: z.number().int().nonnegative().optional(),
    /** How long the canary keeps failing, ms. Default to the end of the stream. */
    durationMs: z.number().int().min(60_000).optional(),
    /** Service whose canary (v2) regresses. Default `orders`. */
    service: z.string().regex(/^[a-z][a-z0-9-]*$/).default('orders'),
    /** Share of the canary's requests with still-valid tokens it rejects as expired. Default 0.2. */
    failureShare: z.number().gt(0).max(1).default(0.2),
    /** Requests per second added by a cohort pinned to the canary, from 2 min before the onset. Default 1. */
    cohortRatePerSec: z.number().min(0).max(50).default(1),
  })
  .strict()
  .prefault({});

/** Which anomalies and look-alikes to inject on top of the background traffic. */
export const scenarioConfigSchema = z
  .object({
    /** Background traffic (generateTraffic); its seed also seeds every injection. Default generateTraffic's defaults (10 min, 50 users). */
    traffic: trafficConfigSchema.prefault({}),
    /** Anomalies the detectors must flag. Default all. */
    anomalies: z
      .object({
        /** token_replay: victims whose token python-requests replays from another /24. Default 1 victim at 10% of the stream. */
        tokenReplay: injectionSchema(1, 20),
        /** refresh_token_reuse: families whose refresh token an attacker redeems 2 min after the victim did. Default 1 at 25%. */
        refreshTokenReuse: injectionSchema(1, 20),
        /** use_after_revoke: tokens still accepted after a revocation (even instances) or logout (odd). Default 2 at 30%. */
        useAfterRevoke: injectionSchema(2, 20),
        /** use_after_expiry: cached tokens, 5 min past exp, that legacy v0 accepts. Default 3 at 75%. */
        useAfterExpiry: injectionSchema(3, 20),
        /** auth_failure_spike: a canary rejecting still-valid tokens as expired. Default on, at 50%, `orders`. */
        authFailureSpike: spikeSchema,
      })
      .strict()
      .prefault({}),
    /** Look-alikes the detectors must stay silent on: no revoke, no rollback, nothing high or critical. Default all. */
    benign: z
      .object({
        /** Users (each with its own token) behind one NAT address and user agent. Default 12 at 5%. */
        natPool: injectionSchema(12, 200),
        /** Phones whose token moves once from home wifi to a carrier network. Default 1 at 20%. */
        mobileHandover: injectionSchema(1, 20),
        /** Dual-stack browsers alternating IPv4 and IPv6 with one token. Default 1 at 15%. */
        dualStack: injectionSchema(1, 20),
        /** Clients sending one request just after expiry (401 expired), then refreshing. Default 1 at 60%. */
        lateRequestThenRefresh: injectionSchema(1, 20),
        /** Tokens issued in one second, expiring together: 401 expired on stable and canary in one minute. Default 24 at 70%. */
        expiryWave: injectionSchema(24, 500),
        /** Refreshes retried 2 s later from the same address (inside the reuse grace). Default 1 at 35%. */
        refreshRetryWithinGrace: injectionSchema(1, 20),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type ScenarioConfig = z.output<typeof scenarioConfigSchema>;
export type ScenarioInput = z.input<typeof scenarioConfigSchema>;

/** What a label can expect: a finding of one kind, or silence on a benign look-alike. */
export const LABEL_KINDS = [...FINDING_KINDS, 'benign'] as const;

const epochMs = z.number().int().nonnegative();

/** One injected anomaly or look-alike, as the ground truth a detector run is scored against. */
export const labelSchema = z
  .object({
    /** The finding kind the injection must raise, or `benign` for a look-alike. */
    kind: z.enum(LABEL_KINDS),
    /** The injection, snake_case (`stolen_token`, `nat_pool`, ...). */
    name: z.string().regex(/^[a-z][a-z0-9_]*$/),
    /** `finding`: the detector of `kind` must flag it; `silent`: no revoke, no rollback, nothing high or critical. */
    expect: z.enum(['finding', 'silent']),
    /** The access token (jti) at its centre. */
    jti: z.string().optional(),
    /** The refresh family, named by its first refresh-token id. */
    refreshFamily: z.string().optional(),
    sessionId: z.string().optional(),
    service: z.string().optional(),
    version: z.string().optional(),
    track: z.enum(TRACKS).optional(),
    /** First event of the injected pattern, epoch ms. */
    from: epochMs,
    /** Last event of the injected pattern, epoch ms. */
    until: epochMs,
    /** What was injected, for a person reading labels.json. */
    note: z.string(),
  })
  .strict()
  .refine((l) => l.from <= l.until, { message: 'from must not be after until', path: ['until'] })
  .refine((l) => (l.kind === 'benign') === (l.expect === 'silent'), { message: 'benign labels expect silence, the others a finding', path: ['expect'] });
export type Label = z.infer<typeof labelSchema>;

/** A scenario: background plus injections, both streams time-ordered, and the labels. */
export interface Scenario {
  requests: SyntheticRequest[];
  tokenEvents: TokenEvent[];
  labels: Label[];
}

// The detector defaults the injections are placed around (detector semantics): an anomaly
// clears each margin by a wide berth, a look-alike stays inside it.
const CLOCK_SKEW_MS = 60_000;
const REVOCATION_GRACE_MS = 30_000;
const REUSE_GRACE_MS = 30_000;
// Tokens must outlive the longest single-token injection (replay, revoke), so TTL has a floor.
const MIN_TOKEN_TTL_MS = 180_000;
// Instances of one injection start this far apart, so they do not share a second.
const STAGGER_MS = 15_000;
// The canary cohort starts this long before the onset, so the canary has a clean history.
const SPIKE_LEAD_MS = 120_000;
// A default regression lasts at least this long: per-minute detectors judge a window of minutes
// at each minute boundary, and a stream that ends first leaves the last minutes unjudged.
const SPIKE_MIN_MS = 180_000;

const FALSE_EXPIRY = 'Bearer error="invalid_token", error_description="The access token expired"';
// What a gateway answers a token that really expired, as the background traffic does.
const REAL_EXPIRY = 'Bearer realm="api", error="invalid_token", error_description="The access token expired"';
const ISSUER = 'https://idp.example.com/realms/demo';
const HOST = 'api.example.com';

const SERVICES = ['orders', 'payments', 'catalog'] as const;
const PATHS: Record<string, readonly string[]> = {
  orders: ['/api/orders', '/api/orders/{id}', '/api/orders/{id}/items'],
  payments: ['/api/payments', '/api/payments/{id}'],
  catalog: ['/api/products', '/api/products/{id}', '/api/search'],
  legacy: ['/legacy/reports', '/legacy/reports/{id}', '/legacy/export'],
};
const VERSIONS: Record<Track, string> = { stable: 'v1', canary: 'v2', blue: 'v1', green: 'v2' };

const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
] as const;
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const CORPORATE_EDGE =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70';
const REPLAY_ATTACKER_UA = 'python-requests/2.31.0';
const REUSE_ATTACKER_UA = 'curl/8.5.0';
const BATCH_UAS = ['Go-http-client/1.1', 'Java/17.0.9', 'Apache-HttpClient/4.5.14 (Java/17.0.9)'] as const;
const POS_UA = 'okhttp/4.12.0';

// Address plan. Ordinary users live in 198.51.0.0/16 like the background; actors whose network
// is the point get reserved ranges, so no /24 is shared by accident: TEST-NET-3 and TEST-NET-1
// (RFC 5737) stand for attackers' foreign hosting, 198.18.0.0/15 (RFC 2544) for corporate and home
// networks, 100.64.0.0/10 (RFC 6598) is what mobile carriers' CGNAT hands out, 2001:db8::/32 (RFC 3849).
const REPLAY_ATTACKER_NET = '203.0.113';
const REUSE_ATTACKER_NET = '192.0.2';
const NAT_EGRESS_IP = '198.18.0.10';
const HOME_WIFI_NET = '198.18.64';
const CARRIER_NET = '100.64.23';
const DUAL_STACK_V4_NET = '198.18.96';
const DUAL_STACK_V6_NET = '2001:db8:beef:96';
const BATCH_NET = '198.18.128';
const POS_NET = '198.19';

interface Token {
  raw: string;
  jti: string;
  /** Expiry, epoch ms, whole seconds as in the JWT. */
  exp: number;
  refreshId: string;
}

interface Actor {
  subject: string;
  session: string | null;
  clientId: string;
  ip: string;
  ua: string;
  /** Refresh tokens are `<id>#<counter>`, Auth0's rotating-token naming; an attacker's copy of the actor shares it, so ids stay unique. */
  family: { id: string; counter: number };
  token: Token | null;
}

interface Route {
  service: string;
  version: string;
  track: Track;
}

const onTrack = (service: string, track: Track, version = VERSIONS[track]): Route => ({ service, version, track });

interface Scene {
  start: number;
  end: number;
  ttlMs: number;
  requests: SyntheticRequest[];
  tokenEvents: TokenEvent[];
  labels: Label[];
}

/** One injection's actors and their traffic, drawn from that injection's own PRNG. */
class Cast {
  constructor(
    readonly scene: Scene,
    readonly rnd: Random,
  ) {}

  actor(a: { ip: string; ua: string; clientId: string; subject?: string; session?: string | null }): Actor {
    return {
      subject: a.subject ?? `user-${this.rnd.hex(4)}`,
      session: a.session === undefined ? `sess-${this.rnd.hex(8)}` : a.session,
      clientId: a.clientId,
      ip: a.ip,
      ua: a.ua,
      family: { id: `rt-${this.rnd.hex(12)}`, counter: 0 },
      token: null,
    };
  }

  homeIp(): string {
    return `198.51.${this.rnd.int(0, 255)}.${this.rnd.int(1, 254)}`;
  }

  private mint(actor: Actor, ts: number): Token {
    const jti = `jti-${this.rnd.hex(12)}`;
    const exp = Math.floor((ts + this.scene.ttlMs) / 1000);
    const sid = actor.session === null ? {} : { sid: actor.session };
    const raw = buildJwt({ jti, sub: actor.subject, ...sid, azp: actor.clientId, iat: Math.floor(ts / 1000), exp, iss: ISSUER, aud: 'api' });
    actor.family.counter++;
    actor.token = { raw, jti, exp: exp * 1000, refreshId: `${actor.family.id}#${actor.family.counter}` };
    return actor.token;
  }

  event(type: TokenEvent['type'], ts: number, actor: Actor, fields: Partial<TokenEvent> = {}): TokenEvent {
    const e: TokenEvent = {
      ts,
      idp: 'canonical',
      type,
      idpEventType: null,
      tokenId: null,
      refreshTokenId: null,
      parentRefreshTokenId: null,
      sessionId: actor.session,
      subject: actor.subject,
      clientId: actor.clientId,
      ip: actor.ip,
      exp: null,
      reason: null,
      ...fields,
    };
    this.scene.tokenEvents.push(e);
    return e;
  }

  issue(actor: Actor, ts: number): Token {
    const t = this.mint(actor, ts);
    this.event('issued', ts, actor, { tokenId: t.jti, refreshTokenId: t.refreshId, exp: t.exp });
    return t;
  }

  /** Redeems `parent` (default the actor's current refresh token) from the actor's address. */
  refresh(actor: Actor, ts: number, parent = actor.token!.refreshId): Token {
    const t = this.mint(actor, ts);
    this.event('refreshed', ts, actor, { tokenId: t.jti, refreshTokenId: t.refreshId, parentRefreshTokenId: parent, exp: t.exp });
    return t;
  }

  request(actor: Actor, ts: number, route: Route, o: { status?: number; token?: Token; wwwAuthenticate?: string } = {}): SyntheticRequest {
    if (ts < this.scene.start || ts >= this.scene.end) throw new Error(`scenario request at ${ts} outside the stream`);
    const status = o.status ?? 200;
    const template = this.rnd.pick(PATHS[route.service] ?? [`/api/${route.service}`]);
    const token = o.token ?? actor.token;
    const r: SyntheticRequest = {
      ts,
      requestId: this.rnd.hex(16),
      method: this.rnd.chance(0.1) ? 'POST' : 'GET',
      path: template.replace('{id}', String(this.rnd.int(1, 99999))),
      query: this.rnd.chance(0.3) ? `page=${this.rnd.int(1, 9)}` : null,
      host: HOST,
      status,
      latencyMs: status === 401 ? this.rnd.int(1, 5) : this.rnd.int(8, 250),
      clientIp: actor.ip,
      userAgent: actor.ua,
      rawToken: token?.raw ?? null,
      tokenIn: 'authorization',
      wwwAuthenticate: o.wwwAuthenticate ?? null,
      service: route.service,
      route: `${route.service}-route`,
      version: route.version,
      track: route.track,
      upstream: `${route.service}-${route.track}`,
      consumerId: null,
    };
    this.scene.requests.push(r);
    return r;
  }

  /**
   * Poisson requests from `from` (or the stream start) until `until` with the actor's current
   * token, refreshing it `refreshAheadMs` before expiry as a well-behaved client does (null: never).
   */
  browse(actor: Actor, from: number, until: number, meanGapMs: number, route: () => Route, refreshAheadMs: number | null = 30_000): SyntheticRequest[] {
    const out: SyntheticRequest[] = [];
    let t = Math.max(from, this.scene.start);
    for (;;) {
      let ts = Math.floor(t);
      if (refreshAheadMs !== null && actor.token !== null && actor.token.exp - ts < refreshAheadMs) {
        this.refresh(actor, ts);
        ts += this.rnd.int(150, 400);
      }
      if (ts >= until) return out;
      out.push(this.request(actor, ts, route()));
      t = ts + this.rnd.exp(meanGapMs);
    }
  }

  label(l: Label): void {
    this.scene.labels.push(l);
  }
}

const stableAnywhere = (rnd: Random) => (): Route => onTrack(rnd.pick(SERVICES), 'stable');
/** `from` / `until` of a label: the first and last of its (non-empty, time-ordered) requests. */
const spanOf = (requests: SyntheticRequest[]) => ({ from: requests[0]!.ts, until: requests[requests.length - 1]!.ts });

// ---- anomalies -------------------------------------------------------------------------------

function tokenReplay(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    const victim = cast.actor({ ip: cast.homeIp(), ua: rnd.pick(BROWSERS), clientId: 'web-app' });
    const stolen = cast.issue(victim, t0);
    cast.browse(victim, t0 + 200, t0 + 180_000, 5_000, stableAnywhere(rnd));
    // The attacker copied the token (malware, a leaked HAR file) and pulls data with it between
    // the victim's own requests: another network AND another user-agent family, well inside the window.
    const attacker: Actor = { ...victim, ip: `${REPLAY_ATTACKER_NET}.${rnd.int(2, 254)}`, ua: REPLAY_ATTACKER_UA };
    const first = t0 + 30_000;
    const last = Math.min(t0 + 150_000, stolen.exp - 15_000);
    const times = Array.from({ length: 6 }, (_, k) => Math.floor(first + ((last - first) * k) / 5 + rnd.int(-2_000, 2_000)));
    const requests = times.map((ts) => cast.request(attacker, ts, onTrack(rnd.pick(['orders', 'payments']), 'stable'), { token: stolen }));
    cast.label({
      kind: 'token_replay',
      name: 'stolen_token',
      expect: 'finding',
      jti: stolen.jti,
      sessionId: victim.session!,
      ...spanOf(requests),
      note: `token of a browser at ${victim.ip} also used ${requests.length} times (status 200) by ${REPLAY_ATTACKER_UA} from ${attacker.ip}, interleaved with the victim within ${Math.round((last - first) / 1000)} s`,
    });
  }
}

function refreshTokenReuse(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    const victim = cast.actor({ ip: cast.homeIp(), ua: rnd.pick(BROWSERS), clientId: 'web-app' });
    const root = cast.issue(victim, t0).refreshId;
    cast.browse(victim, t0 + 200, t0 + 30_000, 5_000, stableAnywhere(rnd));
    const legit = t0 + 30_000;
    cast.refresh(victim, legit);
    // The attacker exfiltrated the refresh token before the victim rotated it and redeems it
    // long after the reuse grace, from elsewhere: RFC 9700 section 4.14.2 says revoke the family.
    const attacker: Actor = { ...victim, ip: `${REUSE_ATTACKER_NET}.${rnd.int(2, 254)}`, ua: REUSE_ATTACKER_UA, token: null };
    const reuse = legit + 120_000;
    const attackerToken = cast.refresh(attacker, reuse, root);
    for (const dt of [5_000, 15_000, 30_000]) cast.request(attacker, reuse + dt + rnd.int(0, 999), onTrack('orders', 'stable'));
    cast.browse(victim, legit + 200, t0 + 180_000, 5_000, stableAnywhere(rnd));
    cast.label({
      kind: 'refresh_token_reuse',
      name: 'stolen_refresh_token',
      expect: 'finding',
      jti: attackerToken.jti,
      refreshFamily: root,
      sessionId: victim.session!,
      from: legit,
      until: reuse,
      note: `refresh token ${root} redeemed by the victim at ${victim.ip}, then again ${(reuse - legit) / 1000} s later from ${attacker.ip}, which then calls orders with the new access token`,
    });
  }
}

function useAfterRevoke(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  // The gateway in front of payments validates signatures and expiry only, never revocation.
  const route = onTrack('payments', 'stable');
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    const byLogout = i % 2 === 1;
    const victim = cast.actor({ ip: cast.homeIp(), ua: rnd.pick(BROWSERS), clientId: 'web-app' });
    const token = cast.issue(victim, t0);
    cast.browse(victim, t0 + 200, t0 + 40_000, 5_000, () => route);
    const revokedAt = t0 + 40_000;
    if (byLogout) cast.event('logout', revokedAt, victim);
    else cast.event('revoked', revokedAt, victim, { tokenId: token.jti, refreshTokenId: token.refreshId, reason: 'user signed out of all devices' });
    // The client never learns of it and keeps sending the same JWT; each request is accepted.
    const requests: SyntheticRequest[] = [];
    for (let ts = revokedAt + 5_000 + rnd.int(0, 2_000); ts < revokedAt + 125_000; ts += rnd.int(8_000, 12_000)) {
      requests.push(cast.request(victim, ts, route));
    }
    const accepted = requests.filter((r) => r.ts > revokedAt + REVOCATION_GRACE_MS).length;
    cast.label({
      kind: 'use_after_revoke',
      name: byLogout ? 'logged_out_session_accepted' : 'revoked_token_accepted',
      expect: 'finding',
      jti: token.jti,
      sessionId: victim.session!,
      ...route,
      from: revokedAt,
      until: requests[requests.length - 1]!.ts,
      note: `${byLogout ? `logout of session ${victim.session}` : `revocation of ${token.jti}`}, then ${accepted} requests with the token accepted (200) more than ${REVOCATION_GRACE_MS / 1000} s later`,
    });
  }
}

function useAfterExpiry(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  const route = onTrack('legacy', 'stable', 'v0');
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    // A reporting job that caches its token between runs; legacy v0 never checks exp, so it works.
    const job = cast.actor({
      ip: `${BATCH_NET}.${10 + i}`,
      ua: BATCH_UAS[i % BATCH_UAS.length]!,
      clientId: 'reporting-batch',
      subject: `svc-reporting-${rnd.hex(3)}`,
      session: null,
    });
    const token = cast.issue(job, t0 - 5 * 60_000 - cast.scene.ttlMs);
    const requests: SyntheticRequest[] = [];
    for (let ts = t0; ts < t0 + 105_000; ts += rnd.int(12_000, 18_000)) requests.push(cast.request(job, ts, route));
    cast.label({
      kind: 'use_after_expiry',
      name: 'expired_token_accepted',
      expect: 'finding',
      jti: token.jti,
      ...route,
      ...spanOf(requests),
      note: `${requests.length} requests with a token expired ${Math.round((t0 - token.exp) / 1000)} s or more earlier, all 200 from legacy v0 (stable)`,
    });
  }
}

interface SpikePlan {
  at: number;
  end: number;
  service: string;
  failureShare: number;
  cohortRatePerSec: number;
}

/** The cohort pinned to the canary: enough canary traffic that ~1 req/s is there whatever the background. */
function spikeCohort(cast: Cast, plan: SpikePlan): void {
  const members = 4;
  if (plan.cohortRatePerSec === 0) return;
  const route = onTrack(plan.service, 'canary');
  for (let m = 0; m < members; m++) {
    const user = cast.actor({ ip: cast.homeIp(), ua: cast.rnd.pick(BROWSERS), clientId: 'web-app' });
    const from = Math.max(cast.scene.start, plan.at - SPIKE_LEAD_MS) + cast.rnd.int(0, 5_000);
    cast.issue(user, from);
    // Refreshing 30 s before the skew margin: every token the cohort presents is valid beyond doubt.
    cast.browse(user, from + 200, plan.end, (members * 1000) / plan.cohortRatePerSec, () => route, CLOCK_SKEW_MS + 30_000);
  }
}

/** The canary answers `failureShare` of its valid-token requests with a false "expired" 401. */
function spikeFailures(requests: SyntheticRequest[], plan: SpikePlan, rnd: Random, scene: Scene): SyntheticRequest[] {
  const exps = new Map<string, number | null>();
  let first = Infinity;
  let last = -Infinity;
  const out = requests.map((r) => {
    if (r.service !== plan.service || r.track !== 'canary' || r.status !== 200 || r.ts < plan.at || r.ts >= plan.end || r.rawToken === null) return r;
    let exp = exps.get(r.rawToken);
    if (exp === undefined) exps.set(r.rawToken, (exp = jwtExp(r.rawToken)));
    if (exp === null || exp - r.ts <= CLOCK_SKEW_MS || !rnd.chance(plan.failureShare)) return r;
    first = Math.min(first, r.ts);
    last = Math.max(last, r.ts);
    // The regression is in the release's own token validation, so the upstream answers and its
    // deployment headers are logged, as for any request it serves.
    return { ...r, status: 401, latencyMs: rnd.int(1, 5), wwwAuthenticate: FALSE_EXPIRY, rejectedBy: 'upstream' as const };
  });
  if (first <= last) {
    scene.labels.push({
      kind: 'auth_failure_spike',
      name: 'canary_false_expiry',
      expect: 'finding',
      service: plan.service,
      version: VERSIONS.canary,
      track: 'canary',
      from: first,
      until: last,
      note: `${plan.service} ${VERSIONS.canary} (canary) rejects ${Math.round(plan.failureShare * 100)}% of requests with still-valid tokens as "The access token expired" (401) from the onset; stable ${VERSIONS.stable} keeps accepting them`,
    });
  }
  return out;
}

// ---- benign look-alikes ---------------------------------------------------------------------

function natPool(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  for (let k = 0; k < count; k++) {
    const user = cast.actor({ ip: NAT_EGRESS_IP, ua: CORPORATE_EDGE, clientId: 'web-app' });
    const t = at + rnd.int(0, 20_000);
    const token = cast.issue(user, t);
    const requests = cast.browse(user, t + 200, at + 120_000, 6_000, stableAnywhere(rnd));
    cast.label({
      kind: 'benign',
      name: 'nat_pool',
      expect: 'silent',
      jti: token.jti,
      sessionId: user.session!,
      ...spanOf(requests),
      note: `one of ${count} users, each with their own token, behind the corporate NAT ${NAT_EGRESS_IP} with one managed browser build`,
    });
  }
}

function mobileHandover(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    const phone = cast.actor({ ip: `${HOME_WIFI_NET}.${rnd.int(2, 254)}`, ua: IPHONE, clientId: 'mobile-app' });
    const token = cast.issue(phone, t0);
    const wifi = phone.ip;
    const before = cast.browse(phone, t0 + 200, t0 + 60_000, 4_000, stableAnywhere(rnd));
    // Leaving home: the phone drops wifi and continues on the carrier's CGNAT, never back.
    phone.ip = `${CARRIER_NET}.${rnd.int(2, 254)}`;
    const after = cast.browse(phone, t0 + 60_000 + rnd.int(2_000, 6_000), t0 + 120_000, 4_000, stableAnywhere(rnd));
    cast.label({
      kind: 'benign',
      name: 'mobile_handover',
      expect: 'silent',
      jti: token.jti,
      sessionId: phone.session!,
      from: before[0]!.ts,
      until: after[after.length - 1]!.ts,
      note: `an iPhone's token used from home wifi ${wifi}, then once and for all from the carrier ${phone.ip}: same user agent, sequential`,
    });
  }
}

function dualStack(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    const v4 = `${DUAL_STACK_V4_NET}.${rnd.int(2, 254)}`;
    const v6 = `${DUAL_STACK_V6_NET}::${rnd.int(0x10, 0xfff).toString(16)}`;
    const user = cast.actor({ ip: v6, ua: BROWSERS[0], clientId: 'web-app' });
    const token = cast.issue(user, t0);
    // Happy Eyeballs (RFC 8305): each new connection races v6 and v4, so the address flips in short runs.
    const requests: SyntheticRequest[] = [];
    let run = rnd.int(1, 3);
    for (let t = t0 + 200; t < t0 + 120_000; t = Math.floor(t + rnd.exp(4_000))) {
      requests.push(cast.request(user, t, stableAnywhere(rnd)()));
      if (--run === 0) {
        user.ip = user.ip === v6 ? v4 : v6;
        run = rnd.int(1, 3);
      }
    }
    cast.label({
      kind: 'benign',
      name: 'dual_stack',
      expect: 'silent',
      jti: token.jti,
      sessionId: user.session!,
      ...spanOf(requests),
      note: `one browser alternating between ${v4} and ${v6} with the same token and user agent`,
    });
  }
}

function lateRequestThenRefresh(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    const user = cast.actor({ ip: cast.homeIp(), ua: rnd.pick(BROWSERS), clientId: 'web-app' });
    // Issued one lifetime before the onset, so it expires there; the client refreshes only when told.
    const token = cast.issue(user, t0 - cast.scene.ttlMs);
    cast.browse(user, token.exp - 60_000, token.exp - 1_000, 8_000, stableAnywhere(rnd), null);
    const late = token.exp + rnd.int(2_000, 20_000);
    const rejected = cast.request(user, late, stableAnywhere(rnd)(), { status: 401, wwwAuthenticate: REAL_EXPIRY });
    cast.refresh(user, late + rnd.int(150, 400));
    const after = cast.browse(user, late + 500, late + 40_000, 6_000, stableAnywhere(rnd));
    cast.label({
      kind: 'benign',
      name: 'late_request_then_refresh',
      expect: 'silent',
      jti: token.jti,
      sessionId: user.session!,
      from: rejected.ts,
      until: after[0]?.ts ?? rejected.ts,
      note: `one request ${Math.round((late - token.exp) / 1000)} s after exp answered 401 expired, then a refresh and 200s with the new token`,
    });
  }
}

function expiryWave(cast: Cast, at: number, count: number, service: string): void {
  const rnd = cast.rnd;
  // Point-of-sale terminals that all sign in when the shop system starts: one second, one exp.
  const issuedAt = Math.floor((at - cast.scene.ttlMs) / 1000) * 1000;
  const rejected: SyntheticRequest[] = [];
  for (let k = 0; k < count; k++) {
    const terminal = cast.actor({ ip: `${POS_NET}.${k % 256}.${rnd.int(2, 254)}`, ua: POS_UA, clientId: 'pos-terminal' });
    const route = onTrack(service, k % 4 === 0 ? 'canary' : 'stable');
    const token = cast.issue(terminal, issuedAt + rnd.int(0, 900));
    cast.browse(terminal, token.exp - 60_000, token.exp - 1_000, 10_000, () => route, null);
    const late = token.exp + rnd.int(1_000, 40_000);
    rejected.push(cast.request(terminal, late, route, { status: 401, wwwAuthenticate: REAL_EXPIRY }));
    cast.refresh(terminal, late + rnd.int(150, 400));
    cast.browse(terminal, late + 500, late + 30_000, 8_000, () => route);
  }
  const canary = rejected.filter((r) => r.track === 'canary');
  cast.label({
    kind: 'benign',
    name: 'expiry_wave',
    expect: 'silent',
    service,
    version: VERSIONS.canary,
    track: 'canary',
    from: Math.min(...rejected.map((r) => r.ts)),
    until: Math.max(...rejected.map((r) => r.ts)),
    note: `${count} tokens issued in one second expire together: ${rejected.length - canary.length} 401 expired on ${service} stable and ${canary.length} on its canary within one minute, exp in the past, each followed by a refresh`,
  });
}

function refreshRetryWithinGrace(cast: Cast, at: number, count: number): void {
  const rnd = cast.rnd;
  for (let i = 0; i < count; i++) {
    const t0 = at + i * STAGGER_MS;
    const user = cast.actor({ ip: cast.homeIp(), ua: IPHONE, clientId: 'mobile-app' });
    const root = cast.issue(user, t0).refreshId;
    cast.browse(user, t0 + 200, t0 + 20_000, 5_000, stableAnywhere(rnd));
    // The first response is lost to a timeout; the app retries with the same refresh token.
    const first = t0 + 20_000;
    cast.refresh(user, first);
    const retry = first + 2_000;
    cast.refresh(user, retry, root);
    cast.browse(user, retry + 200, t0 + 60_000, 5_000, stableAnywhere(rnd));
    cast.label({
      kind: 'benign',
      name: 'refresh_retry_within_grace',
      expect: 'silent',
      refreshFamily: root,
      sessionId: user.session!,
      from: first,
      until: retry,
      note: `refresh token ${root} redeemed twice ${(retry - first) / 1000} s apart from the same address ${user.ip}, inside the ${REUSE_GRACE_MS / 1000} s reuse grace`,
    });
  }
}

// ---- assembly --------------------------------------------------------------------------------

interface Plan {
  /** Config path, for error messages. */
  field: string;
  settings: { enabled: boolean; atMs?: number | undefined; count: number };
  /** Default onset as a share of the stream. */
  share: number;
  /** Time one instance needs from its onset, ms. */
  spanMs: number;
  /** Whether instances start STAGGER_MS apart (otherwise they run together). */
  staggered: boolean;
  run: (cast: Cast, at: number, count: number) => void;
}

/** Generates the background traffic, the injections and their labels. Throws a config error naming the field. */
export function generateScenario(input: ScenarioInput = {}): Scenario {
  const cfg = loadConfig(scenarioConfigSchema, input, 'scenario');
  const traffic = cfg.traffic;
  const ttlMs = traffic.tokenTtlSec * 1000;
  if (ttlMs < MIN_TOKEN_TTL_MS) {
    throw configError('scenario.traffic.tokenTtlSec', `scenarios need tokens that live at least ${MIN_TOKEN_TTL_MS / 1000} s`);
  }
  const scene: Scene = { start: traffic.start, end: traffic.start + traffic.durationMs, ttlMs, requests: [], tokenEvents: [], labels: [] };
  const cast = (name: string): Cast => new Cast(scene, new Random(seedOf(traffic.seed, name)));
  const background = generateTraffic(traffic);

  let requests = background.requests;
  const spike = cfg.anomalies.authFailureSpike;
  if (spike.enabled) {
    const at = onset('scenario.anomalies.authFailureSpike', spike.atMs, 0.5, spike.durationMs ?? SPIKE_MIN_MS, traffic.durationMs);
    const plan: SpikePlan = { ...spike, at: scene.start + at, end: Math.min(scene.end, scene.start + at + (spike.durationMs ?? traffic.durationMs)) };
    spikeCohort(cast('auth_failure_spike'), plan);
    // The canary rejects background and cohort requests alike; other injections stay off its track.
    requests = spikeFailures(byTime([...requests, ...scene.requests]), plan, new Random(seedOf(traffic.seed, 'auth_failure_spike_failures')), scene);
    scene.requests = [];
  }
  // The wave lands on a service whose canary is healthy, so its silence is judged on its own.
  const waveService = spike.service === 'catalog' ? 'payments' : 'catalog';

  const a = cfg.anomalies;
  const b = cfg.benign;
  const plans: Plan[] = [
    { field: 'anomalies.tokenReplay', settings: a.tokenReplay, share: 0.1, spanMs: 180_000, staggered: true, run: tokenReplay },
    { field: 'anomalies.refreshTokenReuse', settings: a.refreshTokenReuse, share: 0.25, spanMs: 185_000, staggered: true, run: refreshTokenReuse },
    { field: 'anomalies.useAfterRevoke', settings: a.useAfterRevoke, share: 0.3, spanMs: 170_000, staggered: true, run: useAfterRevoke },
    { field: 'anomalies.useAfterExpiry', settings: a.useAfterExpiry, share: 0.75, spanMs: 105_000, staggered: true, run: useAfterExpiry },
    { field: 'benign.natPool', settings: b.natPool, share: 0.05, spanMs: 120_000, staggered: false, run: natPool },
    { field: 'benign.dualStack', settings: b.dualStack, share: 0.15, spanMs: 120_000, staggered: true, run: dualStack },
    { field: 'benign.mobileHandover', settings: b.mobileHandover, share: 0.2, spanMs: 120_000, staggered: true, run: mobileHandover },
    { field: 'benign.refreshRetryWithinGrace', settings: b.refreshRetryWithinGrace, share: 0.35, spanMs: 60_000, staggered: true, run: refreshRetryWithinGrace },
    { field: 'benign.lateRequestThenRefresh', settings: b.lateRequestThenRefresh, share: 0.6, spanMs: 60_000, staggered: true, run: lateRequestThenRefresh },
    {
      field: 'benign.expiryWave',
      settings: b.expiryWave,
      share: 0.7,
      spanMs: 75_000,
      staggered: false,
      run: (c, at, count) => expiryWave(c, at, count, waveService),
    },
  ];
  for (const p of plans) {
    if (!p.settings.enabled) continue;
    const span = p.spanMs + (p.staggered ? (p.settings.count - 1) * STAGGER_MS : 0);
    const at = onset(`scenario.${p.field}`, p.settings.atMs, p.share, span, traffic.durationMs);
    p.run(cast(p.field), scene.start + at, p.settings.count);
  }

  return {
    requests: byTime([...requests, ...scene.requests]),
    tokenEvents: byTime([...background.tokenEvents, ...scene.tokenEvents]),
    labels: [...scene.labels].sort((x, y) => x.from - y.from || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)),
  };
}

/** Onset in ms after the start: the configured one if the injection fits, else the default share moved to fit. */
function onset(field: string, atMs: number | undefined, share: number, spanMs: number, durationMs: number): number {
  if (spanMs > durationMs) {
    throw configError('scenario.traffic.durationMs', `${durationMs} ms is too short for ${field}, which needs ${spanMs} ms`);
  }
  if (atMs === undefined) return Math.min(Math.floor((share * durationMs) / 1000) * 1000, durationMs - spanMs);
  if (atMs + spanMs > durationMs) {
    throw configError(`${field}.atMs`, `the injection needs ${spanMs} ms from its onset, but the stream ends ${durationMs - atMs} ms after it`);
  }
  return atMs;
}

// Array.prototype.sort is stable, so equal timestamps keep their generation order.
const byTime = <T extends { ts: number }>(items: T[]): T[] => items.sort((x, y) => x.ts - y.ts);

function seedOf(seed: number, name: string): number {
  return createHash('sha256').update(`${seed}\u0000${name}`).digest().readUInt32BE(0);
}

/** `exp` of a JWT in epoch ms, or null for anything else (API keys, opaque tokens). */
function jwtExp(raw: string): number | null {
  const parts = raw.split('.');
  if (parts.length !== 3) return null;
  try {
    const exp = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}
