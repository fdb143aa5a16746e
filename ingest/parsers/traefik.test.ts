// The Traefik parser against its documented samples (test/fixtures/traefik, sources in
// SOURCES.md), against other formats' records, against bad input, and in round trips
// through the Traefik renderer's JSON and CLF variants.
import { describe, expect, it } from 'vitest';
import { accessEventSchema, type AccessEvent } from '../model.js';
import type { SyntheticRequest } from '../generator/types.js';
import { traefikRenderer } from '../generator/formats/traefik.js';
import { traefikParser } from './traefik.js';
import type { RawRecord } from './types.js';
import { fixtureLines, fpOf, makeJwt, syntheticRequest, testNormalizer } from '../../test/helpers/ingest.js';

const lines = fixtureLines('traefik/samples.txt');

/** The raw token a fixture line logs in request_Authorization (the made-up JWTs of SOURCES.md). */
const bearerIn = (line: string): string =>
  String((JSON.parse(line) as { request_Authorization: string }).request_Authorization).slice('Bearer '.length);
const VALID_JWT = bearerIn(lines[13]!);
const EXPIRED_JWT = bearerIn(lines[14]!);
// Replaces the Google token of Elastic's fixture (SOURCES.md): obviously fake, opaque.
const FAKE_QUERY_TOKEN = 'fake-oauth-token-0001-not-a-secret';

const recordOf = (line: string): RawRecord =>
  line.startsWith('{') ? { kind: 'json', value: JSON.parse(line) as Record<string, unknown> } : { kind: 'text', line };

/** Parses and normalises one record, failing the test when either step rejects it. */
function eventOf(record: RawRecord): AccessEvent {
  const draft = traefikParser.parse(record);
  if (!draft.ok || draft.event === null) throw new Error(`parse: ${JSON.stringify(draft)}`);
  const event = testNormalizer().access(draft.event);
  if (!event.ok || event.event === null) throw new Error(`normalise: ${JSON.stringify(event)}`);
  return accessEventSchema.parse(event.event);
}

const none = { service: null, version: null, track: null };

// One row per line of samples.txt, in order.
const expected: Array<[string, Partial<AccessEvent>]> = [
  [
    "Traefik's own CLF test line with an escaped quote in the user agent",
    {
      ts: 1257894000000, // 10/Nov/2009:23:00:00 +0000
      method: 'GET', path: '/', status: 200, latencyMs: 1, clientIp: '10.0.0.1', userAgent: 'foo " bar', route: 'test@file',
      host: null, tokenFp: null, authError: null, consumerId: null, deployment: none,
    },
  ],
  [
    "Traefik's own CLF test line in a -0900 time zone with a user name",
    {
      ts: 1257894000000, // 10/Nov/2009:14:00:00 -0900 = 23:00:00 UTC
      method: 'GET', path: '/foo', status: 123, latencyMs: 123000, clientIp: '10.0.0.1', userAgent: 'agent', route: 'foo', consumerId: 'Client',
    },
  ],
  [
    'a CLF 304 with a referer',
    {
      ts: 1506975727000, // 02/Oct/2017:20:22:07 +0000
      method: 'GET', path: '/ui/favicons/favicon-16x16.png', status: 304, latencyMs: 2, clientIp: '192.168.33.1', route: 'Host-host-1',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36',
    },
  ],
  [
    'a CLF 404 from an IPv6 loopback client',
    {
      ts: 1543503831000, // 29/Nov/2018:15:03:51 +0000
      method: 'GET', path: '/', status: 404, latencyMs: 0, clientIp: '::1', userAgent: 'curl/7.62.0', route: 'backend not found', deployment: none,
    },
  ],
  [
    'a CLF request with an OAuth token in its query string',
    {
      ts: 1516356062000, // 19/Jan/2018:10:01:02 +0000
      method: 'GET', path: '/assets/52f8f2e711d235d76044799e/owners', status: 200, latencyMs: 13, clientIp: '89.160.20.156',
      userAgent: 'Android', tokenFp: fpOf(FAKE_QUERY_TOKEN), tokenKind: 'opaque', authError: null,
    },
  ],
  [
    'an old-release CLF line with a bare - referer',
    {
      ts: 1519839033000, // 28/Feb/2018:17:30:33 +0000
      method: 'GET', path: '/en/', status: 200, latencyMs: 247, clientIp: '89.160.20.156', route: 'Host-host1-com-0',
    },
  ],
  [
    'a CLF line without a status',
    {
      ts: 1713186250000, // 15/Apr/2024:13:04:10 +0000
      method: 'GET', path: '/', status: 0, latencyMs: 0, clientIp: '::1', userAgent: null, route: null, authError: null,
    },
  ],
  [
    'a CLF 401 without a token',
    {
      ts: 1795602600000, // 25/Nov/2026:10:30:00 +0000
      method: 'GET', path: '/api/orders', status: 401, latencyMs: 1, clientIp: '198.51.100.30', userAgent: 'curl/8.5.0',
      // CLF cannot show whether a token was sent: a 401 of unknown cause is `invalid`.
      route: 'shop-orders-api-example-com-api@kubernetes', tokenFp: null, authError: 'invalid', deployment: none,
    },
  ],
  [
    'a Traefik 1.x JSON record (Frontend / Backend names)',
    {
      ts: 1615921014735, // 2021-03-16T18:56:54.735539596Z
      method: 'GET', path: '/', status: 404, latencyMs: 0.040356, clientIp: '127.0.0.1', userAgent: 'curl/7.67.0',
      host: 'backend.elastic-package-service.docker.localhost', route: 'backend not found',
      deployment: { service: 'Traefik', version: null, track: null },
    },
  ],
  [
    'a JSON ping@internal record',
    {
      ts: 1706802218669, // 2024-02-01T15:43:38.669746824Z
      method: 'GET', path: '/ping', status: 200, latencyMs: 0.024814, clientIp: '10.10.10.10', userAgent: null, route: 'ping@internal',
    },
  ],
  [
    'a JSON record with StartLocal only and a url.URL ServiceURL',
    {
      ts: 1706893628048, // 2024-02-02T17:07:08.048870614Z
      method: 'GET', path: '/foo/bar/baz.php', status: 404, latencyMs: 0.486767, clientIp: '10.10.10.20',
      route: 'service-foo-0101010101010101@kubernetescrd', deployment: { service: 'service-foo-0120101010101', version: null, track: null },
    },
  ],
  [
    'a JSON record whose ClientHost is the forwarded client',
    {
      ts: 1707479612609, // 2024-02-09T11:53:32.609696286Z
      method: 'GET', path: '/api/v1/study/140410210038/card/comment', status: 200, latencyMs: 59.518533, clientIp: '10.10.8.105',
      host: 'api-students.unpad.ac.id', deployment: { service: 'app-unpad-students-api-prod-app-unpad-students-api', version: null, track: null },
    },
  ],
  [
    'a JSON record from an IPv6 client',
    {
      ts: 1713187593809, // 2024-04-15T13:26:33.80902715Z
      method: 'GET', path: '/', status: 404, latencyMs: 0.032673, clientIp: '::1', route: null,
    },
  ],
  [
    'a JSON record with the Authorization and deployment headers kept',
    {
      ts: 1795602601250, // 2026-11-25T10:30:01.250377512Z
      method: 'GET', path: '/api/orders/17', status: 200, latencyMs: 23.412518, clientIp: '198.51.100.31',
      userAgent: 'orders-web/4.2 (+https://shop.example.com)', requestId: '9f4a0b5d-6e7f-4081-9c23-d4e5f6a7b8c9', host: 'api.example.com',
      route: 'shop-orders-api-example-com-api@kubernetes', tokenFp: fpOf(VALID_JWT), tokenKind: 'jwt', authError: null,
      deployment: { service: 'orders', version: 'v2.3.1', track: 'canary' },
    },
  ],
  [
    'a JSON 401 for an expired JWT with its WWW-Authenticate challenge',
    {
      ts: 1795602602500, // 2026-11-25T11:30:02.5+01:00 = 10:30:02.500 UTC
      method: 'GET', path: '/api/orders/18', status: 401, latencyMs: 3.021877, clientIp: '198.51.100.32', route: 'orders@docker',
      tokenFp: fpOf(EXPIRED_JWT), authError: 'expired', deployment: { service: 'orders', version: null, track: 'stable' },
    },
  ],
  [
    'a JSON 401 without a token from an IPv6 client',
    {
      ts: 1795602603000, // 2026-11-25T10:30:03Z
      method: 'POST', path: '/api/orders', status: 401, latencyMs: 1.877003, clientIp: '2001:db8:5::17', tokenFp: null, authError: 'missing',
      deployment: { service: 'orders', version: null, track: 'blue' },
    },
  ],
  [
    'a JSON record whose Authorization header Traefik redacted',
    {
      ts: 1795602604750, // 2026-11-25T10:30:04.75Z
      method: 'GET', path: '/api/orders/19', status: 200, latencyMs: 8, clientIp: '198.51.100.33', tokenFp: null, consumerId: 'alice',
      deployment: { service: 'orders', version: null, track: 'green' },
    },
  ],
];

describe('traefik documented samples', () => {
  it('has one expectation per fixture line', () => {
    expect(lines).toHaveLength(expected.length);
  });

  it.each(expected.map(([name, want], i) => [name, i, want] as const))('%s normalises to its expected event', (_name, i, want) => {
    const event = eventOf(recordOf(lines[i]!));
    expect(event).toMatchObject(want);
    expect(event.gateway).toBe('traefik');
  });

  it('keeps the forwarded chain of ClientHost as X-Forwarded-For for trusted-proxy resolution', () => {
    const draft = traefikParser.parse(recordOf(lines[11]!));
    expect(draft.ok && draft.event?.requestHeaders['x-forwarded-for']).toBe('175.16.199.10');
    const behindProxy = testNormalizer({ trustedProxies: ['10.10.8.0/24'] }).access(draft.ok && draft.event ? draft.event : never());
    expect(behindProxy.ok && behindProxy.event?.clientIp).toBe('175.16.199.10');
  });

  it('reads a forwarded list in the CLF client field as X-Forwarded-For', () => {
    const line = lines[0]!.replace(/^10\.0\.0\.1/, '203.0.113.9, 10.0.0.1');
    const draft = traefikParser.parse(recordOf(line));
    expect(draft.ok && draft.event).toMatchObject({ clientIp: '10.0.0.1', requestHeaders: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } });
  });

  it('decodes the claims of a logged JWT and never outputs the token', () => {
    const event = eventOf(recordOf(lines[13]!));
    expect(event.claims).toMatchObject({ jti: 'jti-traefik-0001', sub: 'user-301', sid: 'sess-301', clientId: 'orders-web' });
    expect(eventOf(recordOf(lines[14]!)).claims).toMatchObject({ jti: 'jti-traefik-0002', exp: 1795602500_000 });
    for (const i of [4, 13, 14]) {
      const out = JSON.stringify(eventOf(recordOf(lines[i]!)));
      for (const secret of [VALID_JWT, EXPIRED_JWT.split('.')[2]!, VALID_JWT.split('.')[2]!, FAKE_QUERY_TOKEN]) expect(out).not.toContain(secret);
    }
  });
});

function never(): never {
  throw new Error('unreachable');
}

// Small records in the shapes of every other supported input.
const others: Array<[string, RawRecord]> = [
  ['Kong log-serializer JSON', { kind: 'json', value: { request: { method: 'GET', uri: '/a', headers: {} }, response: { status: 200, headers: {} }, started_at: 1764065730123, client_ip: '203.0.113.7', latencies: { request: 12, kong: 1, proxy: 11 }, route: { name: 'r' }, service: { name: 's' } } }],
  ['AWS API Gateway JSON', { kind: 'json', value: { requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', ip: '203.0.113.7', requestTime: '25/Nov/2026:10:15:30 +0000', httpMethod: 'GET', resourcePath: '/pets', status: '200', protocol: 'HTTP/1.1', responseLength: '42' } }],
  ['NGINX JSON', { kind: 'json', value: { time_iso8601: '2026-11-25T10:15:30+00:00', remote_addr: '203.0.113.7', request: 'GET /a HTTP/1.1', status: 200, request_time: 0.012, http_user_agent: 'curl/8', upstream_addr: '10.0.0.1:80', http_authorization: 'Bearer x' } }],
  ['NGINX combined', { kind: 'text', line: '203.0.113.7 - - [25/Nov/2026:10:15:30 +0000] "GET /a HTTP/1.1" 200 612 "-" "curl/8.5.0"' }],
  ['NGINX main (combined plus X-Forwarded-For)', { kind: 'text', line: '203.0.113.7 - - [25/Nov/2026:10:15:30 +0000] "GET /a HTTP/1.1" 200 612 "-" "curl/8.5.0" "198.51.100.1"' }],
  ['ingress-nginx upstreaminfo', { kind: 'text', line: '203.0.113.7 - - [25/Nov/2026:10:15:30 +0000] "GET /a HTTP/1.1" 200 612 "-" "curl/8.5.0" 87 0.012 [shop-orders-8080] [] 10.42.0.17:8080 612 0.011 200 7f3a9c21e0b84d5f' }],
  // accessLog.format=genericCLF is plain combined by design: it belongs to the combined parser.
  ["Traefik's genericCLF (plain combined)", { kind: 'text', line: '10.0.0.1 - Client [10/Nov/2009:23:00:00 +0000] "GET /foo http" 123 132 "referer" "agent"' }],
  ['Envoy default text', { kind: 'text', line: '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"' }],
  ['Istio text', { kind: 'text', line: '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default' }],
  ['Envoy JSON', { kind: 'json', value: { start_time: '2026-11-25T10:15:30.123Z', method: 'GET', path: '/a', response_code: 200, response_flags: '-', duration: 37, upstream_cluster: 'outbound|8080||orders.shop.svc.cluster.local' } }],
  ['Tyk analytics JSON', { kind: 'json', value: { Method: 'GET', Host: 'api.example.com', Path: '/a', RawPath: '/a', ResponseCode: 200, APIKey: 'abc', TimeStamp: '2026-11-25T10:15:30Z', APIName: 'orders', APIID: 'x', RequestTime: 37, IPAddress: '203.0.113.7' } }],
  ['Tyk logfmt access log', { kind: 'text', line: 'time="Nov 25 10:15:30" level=info msg="" api_id=orders api_name=orders client_ip=203.0.113.7 host=api.example.com method=GET path=/a protocol=HTTP/1.1 status=200 latency_total=37 prefix=access-log' }],
  ['Keycloak event', { kind: 'json', value: { type: 'REFRESH_TOKEN', realmId: 'shop', clientId: 'web', userId: 'u1', sessionId: 's1', ipAddress: '203.0.113.7', time: 1764065730123, details: {} } }],
  ['Auth0 log event', { kind: 'json', value: { date: '2026-11-25T10:15:30.123Z', type: 'sertft', log_id: '90020261125101530123', client_id: 'web', ip: '203.0.113.7' } }],
  ['Okta system log event', { kind: 'json', value: { eventType: 'app.oauth2.token.grant', uuid: '5a9b0c1d-0000-4000-8000-000000000001', published: '2026-11-25T10:15:30.123Z', outcome: { result: 'SUCCESS' } } }],
  ['canonical AccessEvent', { kind: 'json', value: { ts: 1764065730123, gateway: 'traefik', requestId: 'r', method: 'GET', path: '/a', route: null, host: null, status: 200, latencyMs: 3, clientIp: '203.0.113.7', userAgent: 'curl/8', tokenFp: null, tokenKind: null, claims: null, authError: null, deployment: { service: null, version: null, track: null }, consumerId: null } }],
];

describe('traefik detect', () => {
  it('claims every documented sample', () => {
    for (const line of lines) expect(traefikParser.detect(recordOf(line)), line.slice(0, 60)).toBe(true);
  });

  it.each(others)('does not claim a %s record', (_name, record) => {
    expect(traefikParser.detect(record)).toBe(false);
  });
});

describe('traefik bad input', () => {
  const clf = lines[2]!;
  const json = (value: Record<string, unknown>): RawRecord => ({ kind: 'json', value });
  const base = { StartUTC: '2026-11-25T10:30:01.25Z', RequestMethod: 'GET', RequestPath: '/a', DownstreamStatus: 200, Duration: 1000000 };

  it.each<[string, RawRecord, string]>([
    ['a garbage text line', { kind: 'text', line: 'this is not a log line 37ms' }, 'format_mismatch'],
    ['a truncated CLF line', { kind: 'text', line: clf.slice(0, Math.floor(clf.length / 2)) }, 'format_mismatch'],
    ['a CLF line without the timestamp', { kind: 'text', line: clf.replace('[02/Oct/2017:20:22:07 +0000]', '[-]') }, 'invalid_timestamp'],
    ['a CLF line with a status outside HTTP', { kind: 'text', line: clf.replace('" 304 0 "', '" 42 0 "') }, 'invalid_field'],
    ['a JSON record without StartUTC or StartLocal', json({ ...base, StartUTC: undefined }), 'missing_field'],
    ['a JSON record with an unreadable StartUTC', json({ ...base, StartUTC: 'yesterday' }), 'invalid_timestamp'],
    ['a JSON record with a numeric StartUTC', json({ ...base, StartUTC: 1795602601250 }), 'invalid_timestamp'],
    ['a JSON record without a status', json({ ...base, DownstreamStatus: undefined }), 'missing_field'],
    ['a JSON record with a text status', json({ ...base, DownstreamStatus: 'OK' }), 'invalid_field'],
    ['a JSON record with a status outside HTTP', json({ ...base, DownstreamStatus: 1200 }), 'invalid_field'],
    ['a JSON record with a text Duration', json({ ...base, Duration: '1ms' }), 'invalid_field'],
    ['a JSON record with an object RequestMethod', json({ ...base, RequestMethod: { verb: 'GET' } }), 'invalid_field'],
    ['an empty JSON record', json({}), 'missing_field'],
  ])('rejects %s', (_name, record, reason) => {
    const result = traefikParser.parse(record);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toBe(reason);
  });

  it('never puts the logged token into a rejection detail', () => {
    const result = traefikParser.parse(json({ ...base, StartUTC: `Bearer ${VALID_JWT}`, request_Authorization: `Bearer ${VALID_JWT}` }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).not.toContain(VALID_JWT.split('.')[1]!);
  });

  it('never throws on values of any type', () => {
    const values: unknown[] = [null, true, 0, -1, 1e300, '', '-', [], [1], {}, { Host: 5 }, 'x'.repeat(10_000)];
    const keys = ['StartUTC', 'DownstreamStatus', 'RequestMethod', 'Duration', 'ServiceURL', 'ServiceName', 'ClientAddr', 'request_Authorization'];
    for (const v of values) for (const key of keys) expect(() => traefikParser.parse(json({ ...base, [key]: v }))).not.toThrow();
  });
});

const CHALLENGE_EXPIRED = 'Bearer error="invalid_token", error_description="The access token expired"';
const expiredToken = makeJwt({ jti: 'jti-rt-expired', sub: 'user-17', exp: Math.floor(Date.UTC(2026, 10, 25, 10, 0) / 1000) });

const roundTrips: Array<[string, Partial<SyntheticRequest>]> = [
  ['a bearer token in the Authorization header on the canary track', {}],
  ['a token in the query string', { tokenIn: 'query' }],
  ['an API key header', { tokenIn: 'api_key_header', rawToken: 'tw-fake-api-key-0001-not-a-secret' }],
  ['an anonymous request', { rawToken: null }],
  ['a 401 for an expired token with a WWW-Authenticate challenge', { status: 401, rawToken: expiredToken, wwwAuthenticate: CHALLENGE_EXPIRED }],
  ['a 401 without a token', { status: 401, rawToken: null, wwwAuthenticate: 'Bearer realm="orders"' }],
  ['a 503 on the blue track', { status: 503, track: 'blue', version: 'v3', upstream: 'orders-blue' }],
  ['an IPv6 client on the green track', { clientIp: '2001:db8::7', track: 'green', version: 'v4', upstream: 'orders-green' }],
  ['the stable track', { track: 'stable', version: 'v1', upstream: 'orders-stable' }],
  ['a user agent with a double quote', { userAgent: 'Mozilla/5.0 "quoted" agent' }],
];

describe('traefik round trip through the renderer', () => {
  const cases = traefikRenderer.variants.flatMap((variant) => roundTrips.map(([name, o]) => [variant, name, o] as const));

  it.each(cases)('the %s variant gives back %s', (variant, _name, overrides) => {
    const req = syntheticRequest(overrides);
    const line = traefikRenderer.render(req, variant);
    expect(line).not.toContain('\n');
    const event = eventOf(recordOf(line));
    // CLF timestamps have whole seconds and durations whole milliseconds (logger_formatters.go).
    const ts = variant === 'clf' ? Math.floor(req.ts / 1000) * 1000 : req.ts;
    expect(event).toMatchObject({ ts, status: req.status, method: req.method, path: req.path, clientIp: req.clientIp, userAgent: req.userAgent });
    expect(event.latencyMs).toBe(variant === 'clf' ? Math.floor(req.latencyMs) : req.latencyMs);
    // Both variants log RequestPath with its query; only JSON logs the request headers.
    const logged =
      req.rawToken !== null &&
      (req.tokenIn === 'query' || (traefikRenderer.carriesAuthorization(variant) && ['authorization', 'api_key_header'].includes(req.tokenIn)));
    expect(event.tokenFp).toBe(logged ? fpOf(req.rawToken!) : null);
    if (req.status !== 401) expect(event.authError).toBeNull();
    // CLF logs neither the token nor WWW-Authenticate: a 401 is a failure of unknown cause there.
    else if (variant === 'clf') expect(event.authError).toBe('invalid');
    else expect(event.authError).toBe(req.rawToken === null ? 'missing' : 'expired');
    // JSON: version and track from the kept response headers; CLF: the track suffix of the server URL.
    expect(event.deployment).toEqual({ service: req.service, version: variant === 'json' ? req.version : null, track: req.track });
    if (req.rawToken !== null) {
      const out = JSON.stringify(event);
      expect(out).not.toContain(req.rawToken);
      const signature = req.rawToken.split('.')[2];
      if (signature) expect(out).not.toContain(signature);
    }
  });

  it('names its variants and which of them log the Authorization header', () => {
    expect(traefikRenderer.variants).toEqual(['json', 'clf']);
    expect(traefikRenderer.variants.map((v) => traefikRenderer.carriesAuthorization(v))).toEqual([true, false]);
  });
});
