// Kong log serializer parser: documented samples, detection against every other format,
// rejection of bad input, and the round trip through the Kong renderer.
import { describe, expect, it } from 'vitest';
import { kongParser } from './kong.js';
import { kongRenderer } from '../generator/formats/kong.js';
import { accessEventSchema, type AccessEvent } from '../model.js';
import type { SyntheticRequest } from '../generator/types.js';
import type { RawRecord } from './types.js';
import { fixtureLines, fpOf, makeJwt, syntheticRequest, testNormalizer } from '../../test/helpers/ingest.js';

const json = (line: string): RawRecord => ({ kind: 'json', value: JSON.parse(line) as Record<string, unknown> });
const text = (line: string): RawRecord => ({ kind: 'text', line });

function normalise(record: RawRecord): AccessEvent {
  const draft = kongParser.parse(record);
  if (!draft.ok || draft.event === null) throw new Error(`parse failed: ${JSON.stringify(draft)}`);
  const event = testNormalizer().access(draft.event);
  if (!event.ok || event.event === null) throw new Error(`normalise failed: ${JSON.stringify(event)}`);
  return accessEventSchema.parse(event.event);
}

const samples = fixtureLines('kong/samples.jsonl');

// Tokens of the fixture lines (fake, built like makeJwt).
const JWT_OK =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJrb25nLWp0aS0wMDAxIiwic3ViIjoidXNlci0xNyIsInNpZCI6InNlc3MtOSIsImF6cCI6IndlYi1hcHAiLCJpYXQiOjE3NjQwNjU0MDAsImV4cCI6MTc2NDA2NzIwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZS5jb20vcmVhbG1zL2RlbW8iLCJhdWQiOiJvcmRlcnMtYXBpIn0.tbKNwJqi03H2yJyTXIYt_NTtL361tzil0NAQw3831RA';
const JWT_EXPIRED =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJrb25nLWp0aS0wMDAyIiwic3ViIjoidXNlci0yMSIsInNpZCI6InNlc3MtNCIsImF6cCI6IndlYi1hcHAiLCJpYXQiOjE3NjQwNjEyMDAsImV4cCI6MTc2NDA2MzAwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZS5jb20vcmVhbG1zL2RlbW8iLCJhdWQiOiJvcmRlcnMtYXBpIn0.4PvYUCzB41Rs0JzivZCcwwwzW7kFtvcHaHgIMF7ay1Q';
const OAUTH2_TOKEN = 'fakeOauth2AccessToken00000000001';
const KEY_AUTH_KEY = 'fake-key-auth-apikey-0001';

describe('kong parser: documented samples', () => {
  it('reads the Kong 3.8 file-log sample of developer.konghq.com', () => {
    expect(normalise(json(samples[0]!))).toMatchObject({
      // started_at is epoch ms already: 1726783839538 = 2024-09-19T22:10:39.538Z
      ts: 1726783839538,
      gateway: 'kong',
      requestId: '2f6946328ffc4946b8c9120704a4a155',
      method: 'GET',
      path: '/example-route',
      route: 'example_route',
      host: 'localhost',
      status: 200,
      latencyMs: 173,
      clientIp: '192.168.65.1',
      userAgent: 'HTTPie/3.2.3',
      tokenFp: null,
      authError: null,
      deployment: { service: 'example_service', version: null, track: null },
      consumerId: null,
    });
  });

  it('fingerprints the authenticated credential of the 2.x-3.3 docs sample, which logs no token', () => {
    expect(normalise(json(samples[1]!))).toMatchObject({
      // 1614232668342 = 2021-02-25T05:57:48.342Z (the response Date header says 05:57:48 GMT)
      ts: 1614232668342,
      method: 'GET',
      path: '/log',
      route: '78f79740-c410-4fd9-a998-d0a60a99dc9b',
      status: 200,
      latencyMs: 515,
      clientIp: '192.168.144.1',
      userAgent: 'HTTPie/2.4.0',
      tokenFp: fpOf('c62c1455-9b1d-4f2d-8797-509ba83b8ae8'),
      tokenKind: 'api_key',
      authError: null,
      // No service name: the upstream host httpbin.org names it.
      deployment: { service: 'httpbin', version: null, track: null },
      consumerId: 'foo',
    });
  });

  it('reads a restored Authorization JWT and the deployment headers of a canary', () => {
    const event = normalise(json(samples[2]!));
    expect(event).toMatchObject({
      // 2025-11-25T10:15:30.123Z: 1764028800 s (20417 days x 86400) + 36930 s, + 123 ms
      ts: 1764065730123,
      requestId: '6c1f0e3b9a2d4e5f8a7b6c5d4e3f2a1b',
      method: 'GET',
      path: '/api/orders/42',
      route: 'orders-route',
      host: 'api.example.com',
      status: 200,
      latencyMs: 39,
      clientIp: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0',
      tokenFp: fpOf(JWT_OK),
      tokenKind: 'jwt',
      authError: null,
      deployment: { service: 'orders', version: '2.4.1', track: 'canary' },
      consumerId: 'web-app',
    });
    expect(event.claims).toMatchObject({ jti: 'kong-jti-0001', sub: 'user-17', sid: 'sess-9', clientId: 'web-app' });
  });

  it('classifies the oauth2 plugin challenge for an expired token as expired', () => {
    expect(normalise(json(samples[3]!))).toMatchObject({
      // 2025-11-25T10:16:45.007Z: 1764028800 s + 37005 s, + 7 ms
      ts: 1764065805007,
      method: 'GET',
      path: '/api/orders',
      status: 401,
      latencyMs: 3,
      clientIp: '198.51.100.23',
      userAgent: 'okhttp/4.12.0',
      tokenFp: fpOf(OAUTH2_TOKEN),
      tokenKind: 'opaque',
      authError: 'expired',
      deployment: { service: 'orders', version: null, track: 'stable' },
    });
  });

  it('reports a jwt-plugin expiry as invalid, Kong giving no description, while the claims show the past exp', () => {
    const event = normalise(json(samples[4]!));
    expect(event).toMatchObject({
      // 2025-11-25T10:16:02.481Z: 1764028800 s + 36962 s, + 481 ms
      ts: 1764065762481,
      method: 'DELETE',
      path: '/api/orders/7',
      status: 401,
      latencyMs: 1,
      clientIp: '203.0.113.40',
      userAgent: 'curl/8.5.0',
      tokenFp: fpOf(JWT_EXPIRED),
      authError: 'invalid',
    });
    // exp 1764063000 s = 2025-11-25T09:30:00Z, before the request.
    expect(event.claims?.exp).toBe(1764063000000);
    expect(event.claims!.exp!).toBeLessThan(event.ts);
  });

  it('classifies a 401 without any token as missing', () => {
    expect(normalise(json(samples[5]!))).toMatchObject({
      // 2025-11-25T10:17:11.950Z: 1764028800 s + 37031 s, + 950 ms
      ts: 1764065831950,
      method: 'POST',
      path: '/api/orders',
      status: 401,
      latencyMs: 0,
      clientIp: '192.0.2.15',
      userAgent: 'python-requests/2.32.3',
      tokenFp: null,
      authError: 'missing',
    });
  });

  it('never fingerprints the REDACTED placeholder and falls back to the credential id', () => {
    const event = normalise(json(samples[6]!));
    expect(event).toMatchObject({
      // 2025-11-25T10:18:00.250Z: 1764028800 s + 37080 s, + 250 ms
      ts: 1764065880250,
      path: '/api/orders/42',
      status: 200,
      latencyMs: 22,
      clientIp: '203.0.113.88',
      userAgent: 'Dalvik/2.1.0 (Linux; U; Android 14)',
      tokenFp: fpOf('e7d6c5b4-a392-4817-8f6e-5d4c3b2a1908'),
      tokenKind: 'api_key',
      deployment: { service: 'orders', version: null, track: 'blue' },
      consumerId: 'mobile-app',
    });
    expect(event.tokenFp).not.toBe(fpOf('REDACTED'));
  });

  it('fingerprints the key-auth apikey header', () => {
    expect(normalise(json(samples[7]!))).toMatchObject({
      // 2025-11-25T10:19:20.000Z: 1764028800 s + 37160 s
      ts: 1764065960000,
      method: 'GET',
      path: '/httpbin/headers',
      route: 'httpbin-route',
      status: 200,
      latencyMs: 8,
      clientIp: '172.18.0.1',
      userAgent: 'curl/7.81.0',
      tokenFp: fpOf(KEY_AUTH_KEY),
      tokenKind: 'api_key',
      deployment: { service: 'httpbin-service', version: null, track: null },
      consumerId: 'travel-web-app',
    });
  });

  it('reads an upstream 503 from an IPv6 client without believing an untrusted X-Forwarded-For', () => {
    expect(normalise(json(samples[8]!))).toMatchObject({
      // 2025-11-25T10:20:05.555Z: 1764028800 s + 37205 s, + 555 ms
      ts: 1764066005555,
      method: 'PUT',
      path: '/api/payments/9',
      route: 'payments-route',
      status: 503,
      latencyMs: 852,
      clientIp: '2001:db8::7',
      userAgent: 'Go-http-client/2.0',
      tokenFp: fpOf(JWT_OK),
      authError: null,
      deployment: { service: 'payments', version: null, track: 'blue' },
    });
  });

  it('parses each element of an http-log batch array', () => {
    // http-log with queue.max_batch_size > 1 posts a JSON array; the registry splits it before dispatch.
    const batch = JSON.parse(`[${samples[0]},${samples[1]}]`) as Array<Record<string, unknown>>;
    expect(batch.map((value) => normalise({ kind: 'json', value }).ts)).toEqual([1726783839538, 1614232668342]);
  });

  it('keeps every token out of the events', () => {
    const events = JSON.stringify(samples.map((l) => normalise(json(l))));
    for (const secret of [JWT_OK, JWT_OK.split('.')[2]!, JWT_EXPIRED, JWT_EXPIRED.split('.')[2]!, OAUTH2_TOKEN, KEY_AUTH_KEY]) {
      expect(events).not.toContain(secret);
    }
  });
});

// Small records in the shape of every other input format.
const OTHER_JSON: Record<string, Record<string, unknown>> = {
  'Envoy JSON': {
    start_time: '2025-11-25T10:15:30.123Z', method: 'GET', path: '/api/orders', protocol: 'HTTP/1.1', response_code: 200,
    response_flags: '-', bytes_received: 0, bytes_sent: 42, duration: 12, upstream_host: '10.0.0.5:8080',
    x_forwarded_for: '-', user_agent: 'curl/8.5.0', request_id: 'a1b2', authority: 'api.example.com', upstream_cluster: 'outbound|8080|v2|orders.default.svc.cluster.local',
  },
  'AWS API Gateway JSON': {
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', ip: '203.0.113.7', caller: '-', user: '-', requestTime: '25/Nov/2025:10:15:30 +0000',
    httpMethod: 'GET', resourcePath: '/orders/{id}', status: '200', protocol: 'HTTP/1.1', responseLength: '42',
  },
  'NGINX JSON': {
    time_local: '25/Nov/2025:10:15:30 +0000', remote_addr: '203.0.113.7', request: 'GET /api/orders HTTP/1.1', status: '200',
    body_bytes_sent: '42', request_time: '0.012', http_user_agent: 'curl/8.5.0', http_authorization: 'Bearer abc',
  },
  'Traefik JSON': {
    ClientAddr: '203.0.113.7:51234', ClientHost: '203.0.113.7', DownstreamStatus: 200, Duration: 12000000, RequestMethod: 'GET',
    RequestPath: '/api/orders', RequestProtocol: 'HTTP/1.1', RouterName: 'orders@docker', ServiceName: 'orders-canary@docker', StartUTC: '2025-11-25T10:15:30.123Z',
  },
  'Tyk analytics': {
    method: 'GET', host: 'orders:8080', path: '/api/orders', response_code: 200, api_key: '00000000', timestamp: '2025-11-25T10:15:30.123Z',
    api_name: 'orders', api_id: 'e1c4a9f07b2d4c58', request_time: 12, ip_address: '203.0.113.7', latency: { total: 12, upstream: 10, gateway: 2 },
  },
  'Tyk access log JSON': { level: 'info', time: '2025-11-25T10:15:30Z', prefix: 'access-log', method: 'GET', path: '/get', status: 200 },
  'Keycloak event': { time: 1764065730123, type: 'REFRESH_TOKEN', realmId: 'demo', clientId: 'web-app', userId: 'u-17', sessionId: 's-9', ipAddress: '203.0.113.7' },
  'Auth0 log': { date: '2025-11-25T10:15:30.123Z', type: 'sertft', client_id: 'abc', ip: '203.0.113.7', log_id: '90020251125101530123000000000000001' },
  'Okta event': { uuid: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b', published: '2025-11-25T10:15:30.123Z', eventType: 'app.oauth2.token.grant', outcome: { result: 'SUCCESS' } },
  'canonical AccessEvent': {
    ts: 1764065730123, gateway: 'kong', requestId: null, method: 'GET', path: '/', route: null, host: null, status: 200, latencyMs: 1,
    clientIp: null, userAgent: null, tokenFp: null, tokenKind: null, claims: null, authError: null, deployment: { service: null, version: null, track: null }, consumerId: null,
  },
};
const OTHER_TEXT: Record<string, string> = {
  'Envoy text': '[2025-11-25T10:15:30.123Z] "GET /api/orders HTTP/1.1" 200 - 0 42 12 10 "-" "curl/8.5.0" "a1b2" "api.example.com" "10.0.0.5:8080"',
  'Istio text':
    '[2025-11-25T10:15:30.123Z] "GET /api/orders HTTP/1.1" 200 - via_upstream - "-" 0 42 12 10 "-" "curl/8.5.0" "a1b2" "api.example.com" "10.0.0.5:8080" outbound|8080|v2|orders.default.svc.cluster.local 10.0.0.9:40000 10.0.0.5:8080 10.0.0.9:39000 - default',
  'NGINX combined': '203.0.113.7 - - [25/Nov/2025:10:15:30 +0000] "GET /api/orders HTTP/1.1" 200 42 "-" "curl/8.5.0"',
  'ingress-nginx upstreaminfo':
    '203.0.113.7 - - [25/Nov/2025:10:15:30 +0000] "GET /api/orders HTTP/1.1" 200 42 "-" "curl/8.5.0" 180 0.012 [default-orders-canary-80] [] 10.0.0.5:8080 42 0.012 200 a1b2c3',
  'Traefik CLF': '203.0.113.7 - - [25/Nov/2025:10:15:30 +0000] "GET /api/orders HTTP/1.1" 200 42 "-" "curl/8.5.0" 1 "orders@docker" "http://10.0.0.5:8080" 12ms',
  'Tyk access log': 'time="2025-11-25T10:15:30Z" level=info api_id=abc api_key=00000000 method=GET path=/get prefix=access-log status=200',
};

describe('kong parser: detect', () => {
  it('claims every documented sample', () => {
    for (const line of samples) expect(kongParser.detect(json(line))).toBe(true);
  });

  it.each(Object.entries(OTHER_JSON))('leaves %s records alone', (_name, value) => {
    expect(kongParser.detect({ kind: 'json', value })).toBe(false);
  });

  it.each(Object.entries(OTHER_TEXT))('leaves %s lines alone', (_name, line) => {
    expect(kongParser.detect(text(line))).toBe(false);
  });
});

describe('kong parser: bad input', () => {
  const base = (): Record<string, unknown> => JSON.parse(samples[2]!) as Record<string, unknown>;
  const reject = (value: Record<string, unknown>) => kongParser.parse({ kind: 'json', value });

  it('rejects a text line as format_mismatch', () => {
    expect(kongParser.parse(text('not json at all'))).toMatchObject({ ok: false, reason: 'format_mismatch' });
  });

  it('rejects a truncated line that reached it as text', () => {
    expect(kongParser.parse(text(samples[2]!.slice(0, 200)))).toMatchObject({ ok: false, reason: 'format_mismatch' });
  });

  it('rejects records without request, response, status or started_at as missing_field', () => {
    for (const drop of ['request', 'response', 'started_at']) {
      const v = base();
      delete v[drop];
      expect(reject(v)).toMatchObject({ ok: false, reason: 'missing_field' });
    }
    const v = base();
    delete (v.response as Record<string, unknown>).status;
    expect(reject(v)).toMatchObject({ ok: false, reason: 'missing_field', detail: 'response.status: missing' });
  });

  it('rejects wrong types as invalid_field', () => {
    expect(reject({ ...base(), request: 'GET /api/orders' })).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(reject({ ...base(), response: { status: 'teapot' } })).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(reject({ ...base(), response: { status: 42 } })).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(reject({ ...base(), started_at: 'yesterday' })).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(reject({ ...base(), client_ip: { v4: '1.2.3.4' } })).toMatchObject({ ok: false, reason: 'invalid_field' });
    const headersAsText = base();
    (headersAsText.request as Record<string, unknown>).headers = 'authorization: Bearer x';
    expect(reject(headersAsText)).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('rejects a started_at in seconds-or-less as invalid_timestamp', () => {
    expect(reject({ ...base(), started_at: 17 })).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });

  it('never throws, and never puts the token in a rejection', () => {
    const garbage: unknown[] = [null, 0, [], 'x', { request: null, response: null }, { request: {}, response: {}, started_at: {} }];
    for (const value of garbage) {
      expect(() => kongParser.parse({ kind: 'json', value: value as Record<string, unknown> })).not.toThrow();
    }
    const result = reject({ ...base(), response: { status: 'oops', headers: { 'www-authenticate': `Bearer ${JWT_OK}` } } });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(JWT_OK);
  });
});

describe('kong renderer round trip', () => {
  const ts = Date.UTC(2026, 10, 25, 10, 15, 30, 123);
  const expiredJwt = makeJwt({ jti: 'jti-exp', sub: 'user-3', exp: Math.floor(ts / 1000) - 60, iat: Math.floor(ts / 1000) - 3660 });
  const cases: Array<[string, Partial<SyntheticRequest>]> = [
    ['a JWT in the Authorization header', {}],
    ['a token in the query string', { tokenIn: 'query', query: `access_token=${encodeURIComponent('fake-opaque-query-token-0001')}&page=2`, rawToken: 'fake-opaque-query-token-0001' }],
    ['an API key header', { tokenIn: 'api_key_header', rawToken: 'fake-api-key-0001' }],
    ['an anonymous request', { rawToken: null, consumerId: null }],
    [
      'a 401 for an expired token with a challenge',
      { status: 401, rawToken: expiredJwt, wwwAuthenticate: 'Bearer error="invalid_token", error_description="The access token expired"', latencyMs: 2 },
    ],
    ['an upstream 503', { status: 503, latencyMs: 5012 }],
    ['an IPv6 client', { clientIp: '2001:db8::1234' }],
    ['the blue track', { track: 'blue', upstream: 'orders-blue' }],
    ['the green track', { track: 'green', upstream: 'orders-green' }],
    ['the stable track', { track: 'stable', upstream: 'orders-stable' }],
  ];

  for (const variant of kongRenderer.variants) {
    it.each(cases)(`${variant}: gives back %s`, (_name, overrides) => {
      const req = syntheticRequest(overrides);
      const record = json(kongRenderer.render(req, variant));
      expect(kongParser.detect(record)).toBe(true);
      const event = normalise(record);
      expect(event).toMatchObject({ ts: req.ts, status: req.status, method: req.method, path: req.path, clientIp: req.clientIp });
      expect(event.deployment.track).toBe(req.track);
      if (req.rawToken !== null && (kongRenderer.carriesAuthorization(variant) || req.tokenIn === 'query')) {
        expect(event.tokenFp).toBe(fpOf(req.rawToken));
      }
      if (req.rawToken === null) expect(event.tokenFp).toBeNull();
      if (req.status === 401) expect(event.authError).toBe('expired');
      const out = JSON.stringify(event);
      if (req.rawToken !== null) {
        expect(out).not.toContain(req.rawToken);
        const signature = req.rawToken.split('.')[2];
        if (signature) expect(out).not.toContain(signature);
      }
    });
  }

  it('renders an http-log batch of two whose elements each parse', () => {
    const a = syntheticRequest();
    const b = syntheticRequest({ requestId: 'req-0002', ts: a.ts + 250, status: 503 });
    const batch = JSON.parse(`[${kongRenderer.render(a, 'json')},${kongRenderer.render(b, 'json')}]`) as Array<Record<string, unknown>>;
    const events = batch.map((value) => normalise({ kind: 'json', value }));
    expect(events.map((e) => [e.ts, e.status, e.requestId])).toEqual([
      [a.ts, 200, 'req-7f3a9c21'],
      [a.ts + 250, 503, 'req-0002'],
    ]);
  });
});
