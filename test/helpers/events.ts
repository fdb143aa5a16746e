// Builders for hand-made event sequences in detector and lifecycle tests: an AccessEvent or
// TokenEvent with sensible defaults, and a runner that pushes a sequence through an Analyzer.
import { createHash } from 'node:crypto';
import type { AccessEvent, Claims, TokenEvent } from '../../ingest/model.js';
import { Analyzer, analyzerConfigSchema, type AnalyzerConfig } from '../../detectors/analyzer.js';
import { Metrics } from '../../common/metrics.js';
import type { Finding } from '../../detectors/finding.js';
import type { StreamEvent } from '../../lifecycle/stream-event.js';

export const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
export const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
export const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
export const PYTHON = 'python-requests/2.32.3';

/** Claims of a token `jti` valid from T0 for `ttlSec`. */
export function claims(jti: string, o: Partial<Claims> = {}, ttlSec = 300): Claims {
  return { jti, sub: `sub-${jti}`, sid: `sid-${jti}`, clientId: 'web-app', iat: T0, exp: T0 + ttlSec * 1000, iss: 'https://idp.example.com', aud: ['api'], alg: 'RS256', verified: null, ...o };
}

/** A gateway request at `T0 + atSec` seconds using token `jti`. */
export function access(atSec: number, jti: string | null, o: Partial<AccessEvent> = {}, c: Partial<Claims> = {}): StreamEvent {
  const event: AccessEvent = {
    ts: T0 + Math.round(atSec * 1000),
    gateway: 'kong',
    requestId: `r-${atSec}-${jti}`,
    method: 'GET',
    path: '/api/orders',
    route: 'orders-route',
    host: 'api.example.com',
    status: 200,
    latencyMs: 12,
    clientIp: '198.51.100.10',
    userAgent: CHROME,
    tokenFp: jti === null ? null : createHash('sha256').update(jti).digest('hex').slice(0, 32),
    tokenKind: jti === null ? null : 'jwt',
    claims: jti === null ? null : claims(jti, c),
    authError: null,
    deployment: { service: 'orders', version: 'v1', track: 'stable' },
    consumerId: null,
    ...o,
  };
  return { source: 'access', event };
}

/** An IdP event at `T0 + atSec` seconds. */
export function idp(atSec: number, type: TokenEvent['type'], o: Partial<TokenEvent> = {}): StreamEvent {
  return {
    source: 'token',
    event: {
      ts: T0 + Math.round(atSec * 1000),
      idp: 'canonical',
      type,
      idpEventType: null,
      tokenId: null,
      refreshTokenId: null,
      parentRefreshTokenId: null,
      sessionId: null,
      subject: null,
      clientId: 'web-app',
      ip: '198.51.100.10',
      exp: null,
      reason: null,
      ...o,
    },
  };
}

/** Findings of `events` run through a fresh Analyzer (config overrides merged over the defaults). */
export function analyze(events: StreamEvent[], overrides: Record<string, unknown> = {}): Finding[] {
  const config: AnalyzerConfig = analyzerConfigSchema.parse(overrides);
  const a = new Analyzer(config, new Metrics());
  for (const e of events) a.push(e);
  a.finish();
  return a.findings();
}
