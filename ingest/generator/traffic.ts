// Synthetic, seeded traffic: users who obtain tokens from an IdP, call services through a
// gateway, refresh before expiry (some only after a 401 "expired"), and log out; services
// with stable and canary versions. Emits format-neutral SyntheticRequests and canonical
// TokenEvents in time order; the renderers in ./formats write them as real log formats.
import { z } from 'zod';
import type { TokenEvent, Track } from '../model.js';
import type { SyntheticRequest } from './types.js';
import { Random } from './random.js';
import { buildJwt } from './jwt.js';

export const trafficConfigSchema = z
  .object({
    /** PRNG seed; same seed, same traffic. Default 1. */
    seed: z.number().int().default(1),
    /** Stream start, epoch ms. Default 2026-11-25T10:00:00Z. */
    start: z.number().int().nonnegative().default(Date.UTC(2026, 10, 25, 10, 0, 0)),
    /** Length of the stream, ms. Default 10 minutes. */
    durationMs: z.number().int().positive().default(10 * 60_000),
    /** Concurrent users, each with one session. Default 50. */
    users: z.number().int().positive().default(50),
    /** Mean gap between one user's requests, ms. Default 2000. */
    meanGapMs: z.number().positive().default(2000),
    /** Access token lifetime, seconds. Default 300. */
    tokenTtlSec: z.number().int().positive().default(300),
    /** Share of requests sent with no token. Default 0.02. */
    anonymousShare: z.number().min(0).max(1).default(0.02),
    /** Share of users sending their token in the query string. Default 0.05. */
    queryTokenShare: z.number().min(0).max(1).default(0.05),
    /** Share of users who use an API key instead of OAuth tokens. Default 0.05. */
    apiKeyShare: z.number().min(0).max(1).default(0.05),
    /** Share of requests routed to the canary version. Default 0.1. */
    canaryShare: z.number().min(0).max(1).default(0.1),
  })
  .strict();
export type TrafficConfig = z.output<typeof trafficConfigSchema>;

export interface Traffic {
  requests: SyntheticRequest[];
  tokenEvents: TokenEvent[];
}

const SERVICES = ['orders', 'payments', 'catalog'] as const;
const PATHS: Record<(typeof SERVICES)[number], string[]> = {
  orders: ['/api/orders', '/api/orders/{id}', '/api/orders/{id}/items'],
  payments: ['/api/payments', '/api/payments/{id}'],
  catalog: ['/api/products', '/api/products/{id}', '/api/search'],
};
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'okhttp/4.12.0',
  'python-requests/2.32.3',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
];
const ISSUER = 'https://idp.example.com/realms/demo';
const VERSIONS: Record<Track, string> = { stable: 'v1', canary: 'v2', blue: 'v1', green: 'v2' };

interface User {
  id: string;
  ip: string;
  ua: string;
  session: string;
  clientId: string;
  tokenIn: SyntheticRequest['tokenIn'];
  apiKey: string | null;
  token: { raw: string; jti: string; exp: number; refreshId: string } | null;
  /** Refreshes only after a 401 expired (a lazy client), not ahead of expiry. */
  lazy: boolean;
}

/** Generates a time-ordered request stream and its IdP events. */
export function generateTraffic(input: Partial<TrafficConfig> = {}): Traffic {
  const cfg = trafficConfigSchema.parse(input);
  const rnd = new Random(cfg.seed);
  const requests: SyntheticRequest[] = [];
  const tokenEvents: TokenEvent[] = [];
  const end = cfg.start + cfg.durationMs;

  for (let u = 0; u < cfg.users; u++) {
    const user: User = {
      id: `user-${u}`,
      ip: rnd.chance(0.15) ? `2001:db8:${rnd.int(1, 0xffff).toString(16)}::${rnd.int(1, 0xffff).toString(16)}` : `198.51.${rnd.int(0, 255)}.${rnd.int(1, 254)}`,
      ua: rnd.pick(USER_AGENTS),
      session: `sess-${rnd.hex(8)}`,
      clientId: rnd.pick(['web-app', 'mobile-app', 'partner-api']),
      tokenIn: rnd.chance(cfg.queryTokenShare) ? 'query' : 'authorization',
      apiKey: rnd.chance(cfg.apiKeyShare) ? `key_${rnd.hex(20)}` : null,
      token: null,
      lazy: rnd.chance(0.3),
    };
    let t = cfg.start + rnd.exp(cfg.meanGapMs);
    while (t < end) {
      const ts = Math.floor(t);
      if (!user.apiKey && (!user.token || (!user.lazy && user.token.exp - ts < 30_000))) {
        issue(user, ts, cfg, rnd, tokenEvents);
      }
      const expired = user.token !== null && !user.apiKey && ts > user.token.exp;
      requests.push(request(user, ts, expired, cfg, rnd));
      if (expired) issue(user, ts + 150, cfg, rnd, tokenEvents);
      t += rnd.exp(cfg.meanGapMs);
    }
    if (!user.apiKey && rnd.chance(0.2)) {
      tokenEvents.push(tokenEvent('logout', end - rnd.int(1000, 30_000), user, cfg));
    }
  }
  requests.sort((a, b) => a.ts - b.ts);
  tokenEvents.sort((a, b) => a.ts - b.ts);
  return { requests, tokenEvents };
}

function issue(user: User, ts: number, cfg: TrafficConfig, rnd: Random, events: TokenEvent[]): void {
  const parent = user.token?.refreshId ?? null;
  const jti = `jti-${rnd.hex(12)}`;
  const exp = ts + cfg.tokenTtlSec * 1000;
  const raw = buildJwt({
    jti,
    sub: user.id,
    sid: user.session,
    azp: user.clientId,
    iat: Math.floor(ts / 1000),
    exp: Math.floor(exp / 1000),
    iss: ISSUER,
    aud: 'api',
  });
  user.token = { raw, jti, exp: Math.floor(exp / 1000) * 1000, refreshId: `rt-${rnd.hex(12)}` };
  const ev = tokenEvent(parent ? 'refreshed' : 'issued', ts, user, cfg);
  events.push({ ...ev, parentRefreshTokenId: parent });
}

function tokenEvent(type: 'issued' | 'refreshed' | 'logout', ts: number, user: User, cfg: TrafficConfig): TokenEvent {
  return {
    ts,
    idp: 'canonical',
    type,
    idpEventType: null,
    tokenId: type === 'logout' ? null : (user.token?.jti ?? null),
    refreshTokenId: type === 'logout' ? null : (user.token?.refreshId ?? null),
    parentRefreshTokenId: null,
    sessionId: user.session,
    subject: user.id,
    clientId: user.clientId,
    ip: user.ip,
    exp: type === 'logout' ? null : ts + cfg.tokenTtlSec * 1000,
    reason: null,
  };
}

function request(user: User, ts: number, expired: boolean, cfg: TrafficConfig, rnd: Random): SyntheticRequest {
  const service = rnd.pick(SERVICES);
  const track: Track = rnd.chance(cfg.canaryShare) ? 'canary' : 'stable';
  const template = rnd.pick(PATHS[service]);
  const anonymous = rnd.chance(cfg.anonymousShare);
  const rawToken = anonymous ? null : (user.apiKey ?? user.token!.raw);
  const status = anonymous ? 401 : expired ? 401 : rnd.chance(0.01) ? 503 : rnd.chance(0.02) ? 404 : 200;
  const method = template.endsWith('{id}') && rnd.chance(0.1) ? 'PUT' : rnd.chance(0.15) ? 'POST' : 'GET';
  return {
    ts,
    requestId: rnd.hex(16),
    method,
    path: template.replace('{id}', String(rnd.int(1, 99999))),
    query: rnd.chance(0.3) ? `page=${rnd.int(1, 9)}` : null,
    host: 'api.example.com',
    status,
    latencyMs: status === 401 ? rnd.int(1, 5) : rnd.int(8, 250),
    clientIp: user.ip,
    userAgent: user.ua,
    rawToken,
    tokenIn: user.apiKey ? 'api_key_header' : user.tokenIn,
    wwwAuthenticate: anonymous
      ? 'Bearer realm="api"'
      : expired
        ? 'Bearer realm="api", error="invalid_token", error_description="The access token expired"'
        : null,
    service,
    route: `${service}-route`,
    version: VERSIONS[track],
    track,
    upstream: `${service}-${track}`,
    consumerId: user.apiKey ? `consumer-${user.id}` : null,
  };
}
