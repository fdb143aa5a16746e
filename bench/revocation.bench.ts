// Cost of a session logout in the store's lifecycle tracker with many tokens tracked: each
// logout marks the tokens of its session, found through the tracker's index, so the cost
// should follow the session's size, not the number of tokens tracked.
import { Analyzer, analyzerConfigSchema } from '../detectors/analyzer.js';
import { Metrics } from '../common/metrics.js';
import { LifecycleTracker } from '../sinks/clickhouse/lifecycle-tracker.js';
import type { AccessEvent, TokenEvent } from '../ingest/model.js';

/** µs per session logout with `tokens` tracked tokens (one session each), over `logouts` logouts. */
export function revocationBench(tokens: number, logouts: number): { tokens: number; microsPerLogout: number } {
  const t0 = Date.UTC(2026, 10, 25, 10);
  const analyzer = new Analyzer(analyzerConfigSchema.parse({ allowedLatenessMs: 0 }), new Metrics());
  const tracker = new LifecycleTracker(analyzer.store);
  analyzer.onApplied = (e) => tracker.applied(e);
  for (let i = 0; i < tokens; i++) {
    const jti = `jti-${i}`;
    const event: AccessEvent = {
      ts: t0 + i, gateway: 'kong', requestId: null, method: 'GET', path: '/api/orders', route: 'orders', host: 'api.example.com', status: 200,
      latencyMs: 5, clientIp: '198.51.100.1', userAgent: 'okhttp/4.12.0', tokenFp: null, tokenKind: 'jwt',
      claims: { jti, sub: `user-${i}`, sid: `sid-${i}`, clientId: 'app', iat: t0, exp: t0 + 3_600_000, iss: 'https://idp', aud: null, alg: 'RS256', verified: null },
      authError: null, deployment: { service: 'orders', version: 'v1', track: 'stable' }, consumerId: null,
    };
    analyzer.push({ source: 'access', event });
  }
  tracker.cut(t0 + tokens);
  const start = process.hrtime.bigint();
  for (let i = 0; i < logouts; i++) {
    const event: TokenEvent = {
      ts: t0 + tokens + i, idp: 'canonical', type: 'logout', idpEventType: null, tokenId: null, refreshTokenId: null, parentRefreshTokenId: null,
      sessionId: `sid-${(i * 7919) % tokens}`, subject: null, clientId: 'app', ip: null, exp: null, reason: null,
    };
    analyzer.push({ source: 'token', event });
  }
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / logouts;
  const marked = tracker.cut(t0 + tokens + logouts).length;
  if (marked !== logouts) throw new Error(`revocation bench: ${marked} tokens marked for ${logouts} session logouts`);
  return { tokens, microsPerLogout: micros };
}
