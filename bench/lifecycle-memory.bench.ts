// Heap per tracked token: one million live tokens (distinct jti, session and client each,
// expiry in the future) folded into the lifecycle store, memory measured after a full GC
// before and after. Counts the JS heap and the typed-array buffers the columns live in.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LifecycleStore, lifecycleConfigSchema } from '../lifecycle/store.js';
import { Metrics } from '../common/metrics.js';
import type { AccessEvent } from '../ingest/model.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Bytes of heap and buffers per tracked token with `tokens` live tokens. */
export function lifecycleMemoryBench(tokens: number): { tokens: number; bytesPerToken: number; tracked: number } {
  const t0 = Date.UTC(2026, 10, 25, 10);
  const before = used();
  const store = new LifecycleStore(lifecycleConfigSchema.parse({ maxTokens: tokens * 2 }), new Metrics());
  const event: AccessEvent = {
    ts: t0, gateway: 'kong', requestId: null, method: 'GET', path: '/api/orders', route: 'orders', host: 'api.example.com', status: 200,
    latencyMs: 5, clientIp: '198.51.100.1', userAgent: 'okhttp/4.12.0', tokenFp: null, tokenKind: 'jwt',
    claims: { jti: null, sub: null, sid: null, clientId: 'app', iat: t0, exp: t0 + 3_600_000, iss: 'https://idp', aud: null, alg: 'RS256', verified: null },
    authError: null, deployment: { service: 'orders', version: 'v1', track: 'stable' }, consumerId: null,
  };
  for (let i = 0; i < tokens; i++) {
    event.ts = t0 + Math.floor(i / 1000);
    event.claims!.jti = `jti-${i.toString(36).padStart(8, '0')}-${(i * 2654435761 >>> 0).toString(16)}`;
    event.claims!.sid = null;
    event.clientIp = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    store.apply({ source: 'access', event });
  }
  const after = used();
  return { tokens, bytesPerToken: (after - before) / store.size, tracked: store.size };
}
