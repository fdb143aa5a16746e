// The Envoy parser against its documented samples (test/fixtures/envoy, sources in
// SOURCES.md), against other formats' records, against bad input, and in round trips
// through the Envoy renderer's three variants.
import { describe, expect, it } from 'vitest';
import { accessEventSchema, type AccessEvent } from '../model.js';
import type { SyntheticRequest } from '../generator/types.js';
import { envoyRenderer } from '../generator/formats/envoy.js';
import { envoyParser } from './envoy.js';
import type { RawRecord } from './types.js';
import { fixtureLines, fpOf, makeJwt, syntheticRequest, testNormalizer } from '../../test/helpers/ingest.js';

const lines = fixtureLines('envoy/samples.txt');

/** The raw token a fixture line logs in its `authorization` key (the made-up JWTs of SOURCES.md). */
const bearerIn = (line: string): string => String((JSON.parse(line) as { authorization: string }).authorization).slice('Bearer '.length);
const VALID_JWT = bearerIn(lines[14]!);
const EXPIRED_JWT = bearerIn(lines[15]!);

const recordOf = (line: string): RawRecord =>
  line.startsWith('{') ? { kind: 'json', value: JSON.parse(line) as Record<string, unknown> } : { kind: 'text', line };

/** Parses and normalises one record, failing the test when either step rejects it. */
function eventOf(record: RawRecord): AccessEvent {
  const draft = envoyParser.parse(record);
  if (!draft.ok || draft.event === null) throw new Error(`parse: ${JSON.stringify(draft)}`);
  const event = testNormalizer().access(draft.event);
  if (!event.ok || event.event === null) throw new Error(`normalise: ${JSON.stringify(event)}`);
  return accessEventSchema.parse(event.event);
}

const none = { service: null, version: null, track: null };

// One row per line of samples.txt, in order; `null` marks the TCP-proxy record that is skipped.
const expected: Array<[string, Partial<AccessEvent> | null]> = [
  [
    'the Envoy docs default-format example',
    {
      ts: 1460751420310, // 2016-04-15T20:17:00.310Z
      method: 'POST', path: '/api/v1/locations', status: 204, latencyMs: 226, clientIp: '10.0.35.28', userAgent: 'nsq2http',
      requestId: 'cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2', host: 'locations', route: null, tokenFp: null, authError: null,
    },
  ],
  [
    'a default-format request without X-Forwarded-For',
    {
      ts: 1554740215931, // 2019-04-08T16:16:55.931Z
      method: 'GET', path: '/service/1', status: 200, latencyMs: 5, clientIp: null, userAgent: 'curl/7.54.0', host: 'localhost:8000',
    },
  ],
  [
    'a 404 with the NR (no route) flag',
    {
      ts: 1554942715439, // 2019-04-11T00:31:55.439Z
      method: 'GET', path: '/elastic', status: 404, latencyMs: 0, clientIp: '172.17.0.3', userAgent: 'curl/7.59.0', authError: null,
    },
  ],
  [
    'an Emissary-ingress line behind the ACCESS prefix',
    {
      ts: 1714067515294, // 2024-04-25T17:51:55.294Z
      method: 'GET', path: '/backend/', status: 200, latencyMs: 0, clientIp: '192.168.0.9', userAgent: 'curl/8.4.0', host: 'localhost:9001',
    },
  ],
  ['a TCP proxy record', null],
  [
    'the Istio docs outbound (sleep) sidecar line',
    {
      ts: 1606339578409, // 2020-11-25T21:26:18.409Z
      method: 'GET', path: '/status/418', status: 418, latencyMs: 4, clientIp: '10.44.1.23', userAgent: 'curl/7.73.0-DEV',
      requestId: '84961386-6d84-929d-98bd-c5aee93b5c88', host: 'httpbin:8000', route: 'default',
      deployment: { service: 'httpbin', version: null, track: null },
    },
  ],
  [
    'the Istio docs inbound (httpbin) sidecar line, service taken from the mTLS SNI',
    {
      ts: 1606339578409, // 2020-11-25T21:26:18.409Z
      method: 'GET', path: '/status/418', status: 418, latencyMs: 3, clientIp: '10.44.1.23', route: 'default',
      deployment: { service: 'httpbin', version: null, track: null },
    },
  ],
  [
    'an Istio 503 with UH no_healthy_upstream',
    {
      ts: 1662038157905, // 2022-09-01T13:15:57.905Z
      method: 'GET', path: '/productpage', status: 503, latencyMs: 0, clientIp: '10.128.0.60', authError: null, route: null,
      deployment: { service: 'productpage', version: null, track: null },
    },
  ],
  [
    'an Istio 400 for a request Envoy could not decode',
    {
      ts: 1662024993553, // 2022-09-01T09:36:33.553Z
      method: null, path: null, status: 400, latencyMs: 46, clientIp: '10.128.0.60', userAgent: null, requestId: null, authError: null,
      deployment: none,
    },
  ],
  [
    'an Istio inbound line from an IPv6 client',
    {
      ts: 1661174422460, // 2022-08-22T13:20:22.460Z
      method: 'GET', path: '/ratings/0', status: 200, latencyMs: 1, clientIp: '2a02:cf40::4e36', host: 'ratings:9080',
      deployment: { service: 'ratings', version: null, track: null },
    },
  ],
  [
    'an Istio gateway 401 for an expired JWT',
    {
      ts: 1795602001250, // 2026-11-25T10:20:01.250Z
      method: 'GET', path: '/api/orders/17', status: 401, latencyMs: 1, clientIp: '198.51.100.23', userAgent: 'curl/8.5.0',
      route: 'orders-route', tokenFp: null, authError: 'expired', deployment: { service: 'orders', version: 'v2', track: 'canary' },
    },
  ],
  [
    'an Istio gateway 401 without a JWT',
    {
      ts: 1795602002500, // 2026-11-25T10:20:02.500Z
      method: 'GET', path: '/api/orders', status: 401, latencyMs: 0, clientIp: '198.51.100.24', tokenFp: null, authError: 'missing',
      deployment: { service: 'orders', version: 'v2', track: 'canary' },
    },
  ],
  [
    'an Istio JSON inbound record',
    {
      ts: 1662641465656, // 2022-09-08T12:51:05.656Z
      method: 'GET', path: '/reviews/0', status: 200, latencyMs: 15, clientIp: '10.124.0.13', userAgent: 'curl/7.79.1',
      requestId: '9fcc7101-13bd-9753-98d6-820806088d9d', host: 'reviews:9080', route: 'default',
      deployment: { service: 'reviews', version: null, track: null },
    },
  ],
  [
    'an Istio JSON 400 with unset operators as "-" and null',
    {
      ts: 1662024993553, // 2022-09-01T09:36:33.553Z
      method: null, path: null, status: 400, latencyMs: 46, clientIp: '10.128.0.60', host: null, route: null, deployment: none,
    },
  ],
  [
    'an Istio JSON record with the Authorization and deployment headers added',
    {
      ts: 1795602000100, // 2026-11-25T10:20:00.100Z
      method: 'GET', path: '/api/orders/17', status: 200, latencyMs: 23, clientIp: '198.51.100.23',
      userAgent: 'orders-web/4.2 (+https://shop.example.com)', route: 'orders-route', host: 'api.example.com',
      tokenFp: fpOf(VALID_JWT), tokenKind: 'jwt', authError: null, deployment: { service: 'orders', version: 'v2.3.1', track: 'canary' },
    },
  ],
  [
    'an Istio JSON 401 for an expired JWT with its WWW-Authenticate challenge',
    {
      ts: 1795602003000, // 2026-11-25T10:20:03.000Z
      method: 'GET', path: '/api/orders/18', status: 401, latencyMs: 1, clientIp: '198.51.100.25',
      tokenFp: fpOf(EXPIRED_JWT), authError: 'expired', deployment: { service: 'orders', version: 'v1', track: 'stable' },
    },
  ],
  [
    'an Envoy Gateway default-format 401 without a JWT',
    {
      ts: 1795602004750, // 2026-11-25T10:20:04.750Z
      method: 'GET', path: '/api/orders', status: 401, latencyMs: 0, clientIp: '198.51.100.26', userAgent: 'curl/8.5.0',
      requestId: '8e3f9a4c-5d6e-4f70-8b12-c3d4e5f6a7b8', host: 'api.example.com',
      route: 'httproute/shop/orders/rule/0/match/0/api_example_com', tokenFp: null, authError: 'missing',
    },
  ],
];

describe('envoy documented samples', () => {
  it('has one expectation per fixture line', () => {
    expect(lines).toHaveLength(expected.length);
  });

  it.each(expected.map(([name, want], i) => [name, i, want] as const).filter(([, , want]) => want !== null))(
    '%s normalises to its expected event',
    (_name, i, want) => {
      const event = eventOf(recordOf(lines[i]!));
      expect(event).toMatchObject(want!);
      expect(event.gateway).toBe('envoy');
    },
  );

  it('skips the TCP proxy record instead of dead-lettering it', () => {
    const result = envoyParser.parse(recordOf(lines[4]!));
    expect(result).toEqual({ ok: true, event: null, skipped: 'not_http', detail: 'Envoy TCP proxy record, not an HTTP request' });
  });

  it('decodes the claims of a logged JWT and never outputs the token', () => {
    const event = eventOf(recordOf(lines[14]!));
    expect(event.claims).toMatchObject({ jti: 'jti-envoy-0001', sub: 'user-201', sid: 'sess-201', clientId: 'orders-web' });
    expect(eventOf(recordOf(lines[15]!)).claims).toMatchObject({ jti: 'jti-envoy-0002', exp: 1795601900_000 });
    const out = JSON.stringify(event);
    expect(out).not.toContain(VALID_JWT);
    expect(out).not.toContain(VALID_JWT.split('.')[2]!);
  });
});

// Small records in the shapes of every other supported input.
const others: Array<[string, RawRecord]> = [
  ['Kong log-serializer JSON', { kind: 'json', value: { request: { method: 'GET', uri: '/a', headers: {} }, response: { status: 200, headers: {} }, started_at: 1764065730123, client_ip: '203.0.113.7', latencies: { request: 12, kong: 1, proxy: 11 }, route: { name: 'r' }, service: { name: 's' } } }],
  ['AWS API Gateway JSON', { kind: 'json', value: { requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', ip: '203.0.113.7', requestTime: '25/Nov/2026:10:15:30 +0000', httpMethod: 'GET', resourcePath: '/pets', status: '200', protocol: 'HTTP/1.1', responseLength: '42' } }],
  ['NGINX JSON', { kind: 'json', value: { time_iso8601: '2026-11-25T10:15:30+00:00', remote_addr: '203.0.113.7', request: 'GET /a HTTP/1.1', status: 200, request_time: 0.012, http_user_agent: 'curl/8', upstream_addr: '10.0.0.1:80', http_authorization: 'Bearer x' } }],
  ['NGINX combined', { kind: 'text', line: '203.0.113.7 - - [25/Nov/2026:10:15:30 +0000] "GET /a HTTP/1.1" 200 612 "-" "curl/8.5.0"' }],
  ['ingress-nginx upstreaminfo', { kind: 'text', line: '203.0.113.7 - - [25/Nov/2026:10:15:30 +0000] "GET /a HTTP/1.1" 200 612 "-" "curl/8.5.0" 87 0.012 [shop-orders-8080] [] 10.42.0.17:8080 612 0.011 200 7f3a9c21e0b84d5f' }],
  ['Traefik JSON', { kind: 'json', value: { ClientAddr: '203.0.113.7:51234', DownstreamStatus: 200, Duration: 37000000, RequestMethod: 'GET', RequestPath: '/a', StartUTC: '2026-11-25T10:15:30.123Z', RouterName: 'r@file' } }],
  ['Traefik CLF', { kind: 'text', line: '203.0.113.7 - - [25/Nov/2026:10:15:30 +0000] "GET /a HTTP/2.0" 200 612 "-" "curl/8.5.0" 1042 "r@file" "http://orders:8080" 37ms' }],
  ['Tyk analytics JSON', { kind: 'json', value: { Method: 'GET', Host: 'api.example.com', Path: '/a', RawPath: '/a', ResponseCode: 200, APIKey: 'abc', TimeStamp: '2026-11-25T10:15:30Z', APIName: 'orders', APIID: 'x', RequestTime: 37, IPAddress: '203.0.113.7' } }],
  ['Tyk logfmt access log', { kind: 'text', line: 'time="Nov 25 10:15:30" level=info msg="" api_id=orders api_name=orders client_ip=203.0.113.7 host=api.example.com method=GET path=/a protocol=HTTP/1.1 status=200 latency_total=37 prefix=access-log' }],
  ['Keycloak event', { kind: 'json', value: { type: 'REFRESH_TOKEN', realmId: 'shop', clientId: 'web', userId: 'u1', sessionId: 's1', ipAddress: '203.0.113.7', time: 1764065730123, details: {} } }],
  ['Auth0 log event', { kind: 'json', value: { date: '2026-11-25T10:15:30.123Z', type: 'sertft', log_id: '90020261125101530123', client_id: 'web', ip: '203.0.113.7' } }],
  ['Okta system log event', { kind: 'json', value: { eventType: 'app.oauth2.token.grant', uuid: '5a9b0c1d-0000-4000-8000-000000000001', published: '2026-11-25T10:15:30.123Z', outcome: { result: 'SUCCESS' } } }],
  ['canonical AccessEvent', { kind: 'json', value: { ts: 1764065730123, gateway: 'envoy', requestId: 'r', method: 'GET', path: '/a', route: null, host: null, status: 200, latencyMs: 3, clientIp: '203.0.113.7', userAgent: 'curl/8', tokenFp: null, tokenKind: null, claims: null, authError: null, deployment: { service: null, version: null, track: null }, consumerId: null } }],
];

describe('envoy detect', () => {
  it('claims every documented sample', () => {
    for (const line of lines) expect(envoyParser.detect(recordOf(line)), line.slice(0, 60)).toBe(true);
  });

  it.each(others)('does not claim a %s record', (_name, record) => {
    expect(envoyParser.detect(record)).toBe(false);
  });
});

describe('envoy bad input', () => {
  const istioLine = lines[5]!;
  const json = (value: Record<string, unknown>): RawRecord => ({ kind: 'json', value });
  const base = { start_time: '2026-11-25T10:20:00.100Z', method: 'GET', path: '/a', response_code: 200, duration: 3 };

  it.each<[string, RawRecord, string]>([
    ['a garbage text line', { kind: 'text', line: '[2026-11-25T10:20:00.100Z] hello world' }, 'format_mismatch'],
    ['a truncated Istio line', { kind: 'text', line: istioLine.slice(0, Math.floor(istioLine.length / 2)) }, 'format_mismatch'],
    ['a text line with an unreadable START_TIME', { kind: 'text', line: lines[0]!.replace('2016-04-15T20:17:00.310Z', 'yesterday') }, 'invalid_timestamp'],
    ['a text line with a status outside HTTP', { kind: 'text', line: lines[0]!.replace('" 204 -', '" 42 -') }, 'invalid_field'],
    ['a JSON record without start_time', json({ ...base, start_time: undefined }), 'missing_field'],
    ['a JSON record with an unreadable start_time', json({ ...base, start_time: 'yesterday' }), 'invalid_timestamp'],
    ['a JSON record with a boolean start_time', json({ ...base, start_time: true }), 'invalid_timestamp'],
    ['a JSON record without response_code', json({ ...base, response_code: undefined }), 'missing_field'],
    ['a JSON record with an object response_code', json({ ...base, response_code: {} }), 'invalid_field'],
    ['a JSON record with a text response_code', json({ ...base, response_code: 'OK' }), 'invalid_field'],
    ['a JSON record with a text duration', json({ ...base, duration: 'fast' }), 'invalid_field'],
    ['a JSON record with an object method', json({ ...base, method: { verb: 'GET' } }), 'invalid_field'],
    ['an empty JSON record', json({}), 'missing_field'],
  ])('rejects %s', (_name, record, reason) => {
    const result = envoyParser.parse(record);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toBe(reason);
  });

  it('never puts the logged token into a rejection detail', () => {
    const result = envoyParser.parse(json({ ...base, start_time: `Bearer ${VALID_JWT}`, authorization: `Bearer ${VALID_JWT}` }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).not.toContain(VALID_JWT.split('.')[1]!);
  });

  it('never throws on values of any type', () => {
    const values: unknown[] = [null, true, 0, -1, 1e300, '', '-', [], [1], {}, { a: 1 }, 'x'.repeat(10_000)];
    for (const v of values) {
      for (const key of ['start_time', 'response_code', 'method', 'path', 'duration', 'authorization', 'upstream_cluster']) {
        expect(() => envoyParser.parse(json({ ...base, [key]: v }))).not.toThrow();
      }
    }
  });
});

const CHALLENGE_EXPIRED = 'Bearer realm="https://api.example.com", error="invalid_token", error_description="The access token expired"';
const expiredToken = makeJwt({ jti: 'jti-rt-expired', sub: 'user-17', exp: Math.floor(Date.UTC(2026, 10, 25, 10, 0) / 1000) });

const roundTrips: Array<[string, Partial<SyntheticRequest>]> = [
  ['a bearer token in the Authorization header on the canary track', {}],
  ['a token in the query string', { tokenIn: 'query' }],
  ['an API key header', { tokenIn: 'api_key_header', rawToken: 'tw-fake-api-key-0001-not-a-secret' }],
  ['an anonymous request', { rawToken: null }],
  ['a 401 for an expired token with a WWW-Authenticate challenge', { status: 401, rawToken: expiredToken, wwwAuthenticate: CHALLENGE_EXPIRED }],
  ['a 401 without a token', { status: 401, rawToken: null, wwwAuthenticate: 'Bearer realm="https://api.example.com"' }],
  ['a 503 on the blue track', { status: 503, track: 'blue', version: 'v3', upstream: 'orders-blue' }],
  ['an IPv6 client on the green track', { clientIp: '2001:db8::7', track: 'green', version: 'v4', upstream: 'orders-green' }],
  ['the stable track', { track: 'stable', version: 'v1', upstream: 'orders-stable' }],
];

describe('envoy round trip through the renderer', () => {
  const cases = envoyRenderer.variants.flatMap((variant) => roundTrips.map(([name, o]) => [variant, name, o] as const));

  it.each(cases)('the %s variant gives back %s', (variant, _name, overrides) => {
    const req = syntheticRequest(overrides);
    const line = envoyRenderer.render(req, variant);
    expect(line).not.toContain('\n');
    const event = eventOf(recordOf(line));
    expect(event).toMatchObject({ ts: req.ts, status: req.status, method: req.method, path: req.path, clientIp: req.clientIp });
    expect(event.latencyMs).toBe(req.latencyMs);
    // Every variant logs the path with its query; only the JSON dictionary logs the headers.
    const logged =
      req.rawToken !== null &&
      (req.tokenIn === 'query' || (envoyRenderer.carriesAuthorization(variant) && ['authorization', 'api_key_header'].includes(req.tokenIn)));
    expect(event.tokenFp).toBe(logged ? fpOf(req.rawToken!) : null);
    if (req.status !== 401) expect(event.authError).toBeNull();
    // Envoy's default text format logs neither the token nor %RESPONSE_CODE_DETAILS%: a 401 is
    // a failure of unknown cause there: `invalid`, since not seeing a token is not seeing none.
    else if (variant === 'text') expect(event.authError).toBe('invalid');
    else expect(event.authError).toBe(req.rawToken === null ? 'missing' : 'expired');
    if (variant !== 'text') expect(event.deployment).toEqual({ service: req.service, version: req.version, track: req.track });
    if (req.rawToken !== null) {
      const out = JSON.stringify(event);
      expect(out).not.toContain(req.rawToken);
      const signature = req.rawToken.split('.')[2];
      if (signature) expect(out).not.toContain(signature);
    }
  });

  it('names its variants and which of them log the Authorization header', () => {
    expect(envoyRenderer.variants).toEqual(['json', 'text', 'istio']);
    expect(envoyRenderer.variants.map((v) => envoyRenderer.carriesAuthorization(v))).toEqual([true, false, false]);
  });
});
