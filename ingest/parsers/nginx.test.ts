// The NGINX parser against its documented samples (test/fixtures/nginx, sources in SOURCES.md):
// combined, main, ingress-nginx upstreaminfo and escape=json lines; against other formats'
// records, against bad input, and in round trips through the renderer's three variants.
import { describe, expect, it } from 'vitest';
import { nginxParser } from './nginx.js';
import { GATEWAY_PARSERS } from './registry.js';
import type { RawRecord } from './types.js';
import { nginxRenderer } from '../generator/formats/nginx.js';
import type { SyntheticRequest } from '../generator/types.js';
import { accessEventSchema, type AccessEvent } from '../model.js';
import { fixtureLines, fpOf, makeJwt, syntheticRequest, testNormalizer } from '../../test/helpers/ingest.js';

const normalizer = testNormalizer();
const json = (value: Record<string, unknown>): RawRecord => ({ kind: 'json', value });
const text = (line: string): RawRecord => ({ kind: 'text', line });
const recordOf = (line: string): RawRecord => (line.startsWith('{') ? json(JSON.parse(line) as Record<string, unknown>) : text(line));

function eventOf(record: RawRecord): AccessEvent {
  const draft = nginxParser.parse(record);
  if (!draft.ok || draft.event === null) throw new Error(`not parsed: ${JSON.stringify(draft)}`);
  const event = normalizer.access(draft.event);
  if (!event.ok || event.event === null) throw new Error(`not normalised: ${JSON.stringify(event)}`);
  return accessEventSchema.parse(event.event);
}

const SAMPLES = fixtureLines('nginx/samples.txt');
const none = { service: null, version: null, track: null };
// The tokens test/fixtures/nginx/samples.txt carries, rebuilt the way they were made (SOURCES.md).
const EXPIRED_JWT = makeJwt({ jti: 'jti-nginx-expired-1', sub: 'user-42', sid: 'sess-77', azp: 'web-app', iat: 1764065400, exp: 1764065700, iss: 'https://idp.example.com/realms/demo', aud: 'orders-api' });
const VALID_JWT = makeJwt({ jti: 'jti-nginx-ok-2', sub: 'user-43', azp: 'mobile-app', iat: 1764065700, exp: 1764066000, iss: 'https://idp.example.com/realms/demo', aud: 'orders-api' });
const OPAQUE = 'tw_test_opaque_0123456789abcdef';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0';

// One expectation per line of test/fixtures/nginx/samples.txt. Text formats stamp the log write
// with whole seconds: ts = that time minus $request_time where the line logs it.
const EXPECTED: Array<Partial<AccessEvent>> = [
  {
    ts: 1_477_399_773_000, // 25/Oct/2016:14:49:33 +0200 = 12:49:33 UTC; combined logs no request time
    requestId: null, method: 'GET', path: '/', status: 200, latencyMs: null, clientIp: '67.43.156.13',
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36',
    tokenFp: null, authError: null, deployment: none,
  },
  { ts: 1_477_399_774_000, method: 'GET', path: '/favicon.ico', status: 404, clientIp: '67.43.156.13' }, // 25/Oct/2016:14:49:34 +0200
  {
    ts: 1_764_065_731_000, // 25/Nov/2025:11:15:31 +0100 = 10:15:31 UTC
    method: 'GET', path: '/api/orders', status: 200, clientIp: '203.0.113.10', userAgent: 'curl/8.5.0',
    tokenFp: fpOf(OPAQUE), tokenKind: 'opaque', authError: null,
  },
  { ts: 1_764_066_000_000, method: null, path: null, status: 400, clientIp: '198.51.100.77', userAgent: null }, // 25/Nov/2025:10:20:00 +0000
  { ts: 1_764_066_001_000, method: null, path: null, status: 400, clientIp: '198.51.100.78', userAgent: null }, // 25/Nov/2025:10:20:01 +0000
  {
    ts: 1_581_076_130_999, // 07/Feb/2020:11:48:51 +0000 minus request_time 0.001 s
    requestId: '529a007902362a5f51385a5fa7049884', method: 'POST', path: '/products', status: 200, latencyMs: 1, clientIp: '192.168.64.1',
    userAgent: 'curl/7.54.0', deployment: { service: 'default-web', version: null, track: null },
  },
  {
    ts: 1_581_076_190_000, // 07/Feb/2020:11:49:50 +0000 minus 0.000 s
    method: 'PATCHp', path: '/products/42', status: 400, latencyMs: 0, userAgent: null, deployment: none,
  },
  {
    ts: 1_661_364_341_000, // 24/Aug/2022:18:05:41 +0000 minus 0.000 s
    requestId: '3db73c6c673c4256ade033a6ce08c2ab', method: 'GET', path: '/favicon.ico', status: 502, clientIp: '2a02:cf40::4e36',
    deployment: { service: 'localhost', version: null, track: null },
  },
  {
    ts: 1_661_375_056_967, // 24/Aug/2022:21:04:17 +0000 minus 0.033 s
    method: 'POST', path: '/_bulk', status: 200, latencyMs: 33, clientIp: '2a02:cf40::', consumerId: 'remote_monitoring_user',
    deployment: { service: 'esmon-esmon-es-http', version: null, track: null },
  },
  {
    ts: 1_764_065_921_996, // 25/Nov/2025:10:18:42 +0000 minus 0.004 s
    method: 'GET', path: '/api/orders/42', status: 401, latencyMs: 4, clientIp: '203.0.113.7', userAgent: FIREFOX, tokenFp: null,
    // Text formats log no Authorization header: a 401 of unknown cause is `invalid`, not `missing`.
    authError: 'invalid',
    deployment: { service: 'shop-orders', version: 'v2', track: 'canary' },
  },
  {
    ts: 1_764_065_729_963, // time 2025-11-25T10:15:30+00:00 minus request_time 0.037 s
    requestId: '9f2c8d1e7a6b5c4d3e2f1a0b9c8d7e6f', method: 'GET', path: '/api/orders/42', host: 'api.example.com', status: 200, latencyMs: 37,
    clientIp: null, userAgent: FIREFOX, deployment: { service: 'api.example.com', version: null, track: null },
  },
  {
    ts: 1_764_065_942_207, // msec 1764065942.219 minus request_time 0.012 s
    requestId: '2c4e6a8b0d1f3e5a7c9b1d3f5a7c9e1b', method: 'GET', path: '/api/orders/42', host: 'api.example.com', status: 401, latencyMs: 12,
    clientIp: '203.0.113.7', tokenFp: fpOf(EXPIRED_JWT), tokenKind: 'jwt', authError: 'expired',
    deployment: { service: 'shop-orders', version: 'v2.4.0', track: 'canary' },
  },
  {
    ts: 1_764_066_001_500, // msec 1764066001.502 minus request_time 0.002 s
    method: 'DELETE', path: '/api/orders/42', status: 401, latencyMs: 2, clientIp: '192.0.2.44', userAgent: 'curl/8.5.0', tokenFp: null, authError: 'missing',
  },
  {
    ts: 1_764_065_823_367, // msec 1764065823.456 minus request_time 0.089 s
    requestId: null, method: 'POST', path: '/api/orders', status: 201, latencyMs: 89, clientIp: '2001:db8:1::7', userAgent: 'okhttp/4.12.0',
    tokenFp: fpOf(VALID_JWT), tokenKind: 'jwt', authError: null, deployment: { service: null, version: 'v2.3.1', track: 'stable' },
  },
  {
    ts: 1_764_066_165_000, // time_local 2025-11-25T10:22:45+00:00 minus 0.000 s
    requestId: '5e7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e', method: 'GET', path: '/healthz', status: 200, latencyMs: 0, clientIp: '172.18.0.1',
    userAgent: 'kube-probe/1.31',
  },
];

describe('nginx parser: documented samples', () => {
  it('has one expectation per sample line', () => {
    expect(SAMPLES).toHaveLength(EXPECTED.length);
  });

  it('carries the fixture tokens exactly as the test helpers build them', () => {
    expect(SAMPLES[11]).toContain(EXPIRED_JWT);
    expect(SAMPLES[13]).toContain(VALID_JWT);
  });

  it.each(SAMPLES.map((line, i) => [i + 1, line] as const))('parses and normalises sample %i to its expected event', (i, line) => {
    expect(eventOf(recordOf(line))).toMatchObject(EXPECTED[i - 1]!);
  });

  it('decodes the claims of a logged bearer JWT and keeps the token out of the event', () => {
    const e = eventOf(recordOf(SAMPLES[11]!));
    expect(e.claims).toMatchObject({ jti: 'jti-nginx-expired-1', sub: 'user-42', sid: 'sess-77', clientId: 'web-app', exp: 1_764_065_700_000 });
    expect(JSON.stringify(e)).not.toContain(EXPIRED_JWT.split('.')[2]);
  });

  it('scrubs a query-string token from the path and the event', () => {
    const e = eventOf(recordOf(SAMPLES[2]!));
    expect(JSON.stringify(e)).not.toContain(OPAQUE);
  });

  it('reads the forwarding chain of ingress-nginx JSON and believes it behind a trusted proxy', () => {
    const trusting = testNormalizer({ trustedProxies: ['172.18.0.0/16'] });
    const draft = nginxParser.parse(recordOf(SAMPLES[14]!));
    expect(draft.ok && draft.event ? trusting.access(draft.event) : null).toMatchObject({ ok: true, event: { clientIp: '198.51.100.23' } });
  });

  it('undoes default escaping in the user agent', () => {
    const e = eventOf(text('203.0.113.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 "-" "say \\x22hi\\x22 caf\\xC3\\xA9"'));
    expect(e.userAgent).toBe('say "hi" café');
  });

  it('prefers request_uri to the request line and joins uri with args when only they are logged', () => {
    const base = { time_iso8601: '2025-11-25T10:15:30+00:00', status: 200, remote_addr: '203.0.113.1' };
    expect(eventOf(json({ ...base, request: 'GET /a?x=1 HTTP/1.1', request_uri: '/b?y=2' })).path).toBe('/b');
    const d = nginxParser.parse(json({ ...base, uri: '/c', args: `access_token=${OPAQUE}` }));
    expect(d.ok && d.event?.url).toBe(`/c?access_token=${OPAQUE}`);
    expect(eventOf(json({ ...base, uri: '/c', args: `access_token=${OPAQUE}` })).tokenFp).toBe(fpOf(OPAQUE));
  });
});

// Small records in every other format the auto-detection sees (shapes from each format's docs).
const OTHERS: Array<[string, RawRecord]> = [
  ['kong', json({ request: { method: 'GET', uri: '/a', url: 'http://x/a', headers: {}, querystring: {}, size: 80 }, response: { status: 200, headers: {}, size: 10 }, latencies: { request: 5, kong: 1, proxy: 3 }, client_ip: '203.0.113.1', started_at: 1_764_065_730_000, upstream_uri: '/a' })],
  ['envoy json', json({ start_time: '2025-11-25T10:15:30.123Z', method: 'GET', path: '/a', protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', duration: 3, x_forwarded_for: '-', user_agent: 'curl/8', request_id: 'abc', authority: 'x', upstream_cluster: 'outbound|80||x.default.svc.cluster.local' })],
  ['envoy text', text('[2025-11-25T10:15:30.123Z] "GET /a HTTP/1.1" 200 - 0 10 3 2 "-" "curl/8" "abc" "x" "10.0.0.1:80"')],
  ['istio text', text('[2025-11-25T10:15:30.123Z] "GET /a HTTP/1.1" 200 - via_upstream - "-" 0 10 3 2 "-" "curl/8" "abc" "x" "10.0.0.1:80" outbound|80||x.default.svc.cluster.local 10.0.0.2:4 10.0.0.1:80 10.0.0.3:5 - default')],
  ['aws rest json', json({ requestId: 'r', ip: '203.0.113.1', caller: '-', user: '-', requestTime: '25/Nov/2025:10:15:30 +0000', httpMethod: 'GET', resourcePath: '/a', status: '200', protocol: 'HTTP/1.1', responseLength: '10' })],
  ['aws http json', json({ requestId: 'r', ip: '203.0.113.1', requestTime: '25/Nov/2025:10:15:30 +0000', httpMethod: 'GET', routeKey: 'GET /a', status: '200', protocol: 'HTTP/1.1', responseLength: '10' })],
  ['aws rest clf', text('203.0.113.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 r e')],
  ['traefik json', json({ ClientHost: '203.0.113.1', DownstreamStatus: 200, Duration: 3_000_000, RequestMethod: 'GET', RequestPath: '/a', StartUTC: '2025-11-25T10:15:30.123Z', time: '2025-11-25T10:15:30Z', level: 'info', msg: '' })],
  ['traefik clf', text('203.0.113.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8" 1 "r@file" "http://10.0.0.1:80" 3ms')],
  ['traefik clf with a forwarded list', text('203.0.113.1, 10.0.0.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8" 1 "r@file" "http://10.0.0.1:80" 3ms')],
  ['tyk analytics', json({ method: 'GET', host: 'x', path: '/a', user_agent: 'curl/8', response_code: 200, timestamp: '2025-11-25T10:15:30Z', api_id: 'a1', request_time: 3, ip_address: '203.0.113.1' })],
  ['tyk logfmt', text('time="Nov 25 10:15:30" level=info api_id=a1 client_ip=203.0.113.1 method=GET path=/a prefix=access-log status=200')],
  ['tyk json access log', json({ time: '2025-11-25T10:15:30Z', level: 'info', prefix: 'access-log', api_id: 'a1', client_ip: '203.0.113.1', method: 'GET', path: '/a', remote_addr: '203.0.113.1', status: 200, latency_total: 3 })],
  ['keycloak', json({ time: 1_764_065_730_000, type: 'LOGIN', realmId: 'demo', clientId: 'web', userId: 'u', ipAddress: '203.0.113.1' })],
  ['auth0', json({ date: '2025-11-25T10:15:30.123Z', type: 's', log_id: '900', client_id: 'c', ip: '203.0.113.1' })],
  ['okta', json({ eventType: 'user.authentication.sso', uuid: 'u-1', published: '2025-11-25T10:15:30.123Z' })],
  ['canonical', json({ ts: 1_764_065_730_000, gateway: 'nginx', requestId: 'r', method: 'GET', path: '/a', route: null, host: null, status: 200, latencyMs: 3, clientIp: null, userAgent: null, tokenFp: null, tokenKind: null, claims: null, authError: null, deployment: none, consumerId: null })],
];

describe('nginx parser: header keys by position', () => {
  it('reads each line by its own keys when lines write them in different orders', () => {
    const headersOf = (value: Record<string, unknown>): unknown => {
      const result = nginxParser.parse(json(value));
      return result.ok && result.event ? [result.event.requestHeaders, result.event.responseHeaders, result.event.tokenPresented] : result;
    };
    const a = { msec: '1764065400.000', status: 200, request: 'GET / HTTP/1.1', http_host: 'a.example', sent_http_x_deployment_version: 'v1', http_authorization: '' };
    const b = { msec: '1764065400.000', status: 200, request: 'GET / HTTP/1.1', http_authorization: '', sent_http_x_deployment_version: 'v2', http_host: 'b.example' };
    const c = { msec: '1764065400.000', status: 200, request: 'GET / HTTP/1.1', sent_http_x_deployment_version: 'v3', http_x_api_key: 'k', body_bytes_sent: 5 };
    for (let i = 0; i < 2; i++) {
      expect(headersOf(a)).toEqual([{ host: 'a.example' }, { 'x-deployment-version': 'v1' }, false]);
      expect(headersOf(b)).toEqual([{ host: 'b.example' }, { 'x-deployment-version': 'v2' }, false]);
      expect(headersOf(c)).toEqual([{ 'x-api-key': 'k' }, { 'x-deployment-version': 'v3' }, null]);
    }
  });
});

describe('nginx parser: detection', () => {
  it('claims every documented sample', () => {
    for (const line of SAMPLES) expect(nginxParser.detect(recordOf(line)), line).toBe(true);
  });

  it.each(OTHERS)('does not claim a %s record', (_name, record) => {
    expect(nginxParser.detect(record)).toBe(false);
  });

  it('is the only gateway parser that claims the documented samples', () => {
    for (const line of SAMPLES) {
      const claimants = GATEWAY_PARSERS.filter((p) => p.detect(recordOf(line))).map((p) => p.format);
      expect(claimants, line).toEqual(['nginx']);
    }
  });
});

describe('nginx parser: bad input', () => {
  const base = { time_iso8601: '2025-11-25T10:15:30+00:00', request: 'GET /a HTTP/1.1', status: 200, remote_addr: '203.0.113.1' };

  it('rejects garbage and truncated text lines as format_mismatch', () => {
    const line = SAMPLES[5]!;
    for (const bad of ['', 'hello world', line.slice(0, line.length - 40), line.slice(0, 60), line.replace(' 200 59 ', ' OK 59 ')]) {
      expect(nginxParser.parse(text(bad)), bad).toMatchObject({ ok: false, reason: 'format_mismatch' });
    }
  });

  it('rejects a text line with an unreadable time as invalid_timestamp', () => {
    expect(nginxParser.parse(text('203.0.113.1 - - [25/Foo/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8"'))).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });

  it('rejects a status outside the HTTP range as invalid_field', () => {
    expect(nginxParser.parse(text('203.0.113.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/0.9" 009 10 "-" "curl/8"'))).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(nginxParser.parse(json({ ...base, status: 'OK' }))).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(nginxParser.parse(json({ ...base, status: 42 }))).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('rejects a JSON record without a status or a time as missing_field', () => {
    expect(nginxParser.parse(json({ ...base, status: '' }))).toMatchObject({ ok: false, reason: 'missing_field' });
    expect(nginxParser.parse(json({ ...base, time_iso8601: undefined }))).toMatchObject({ ok: false, reason: 'missing_field' });
  });

  it('rejects wrong types as invalid_field and unreadable times as invalid_timestamp', () => {
    expect(nginxParser.parse(json({ ...base, request_time: 'fast' }))).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(nginxParser.parse(json({ ...base, request: { method: 'GET' } }))).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(nginxParser.parse(json({ ...base, time_iso8601: 'yesterday' }))).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
    expect(nginxParser.parse(json({ ...base, time_iso8601: { t: 1 } }))).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });

  it('never throws, whatever the values', () => {
    const odd: unknown[] = [null, 0, -1, 1e308, NaN, '', '-', 'x'.repeat(10_000), [], {}, true, '\u0000\uFFFF'];
    for (const v of odd) {
      for (const key of ['status', 'msec', 'time_local', 'time', 'request', 'request_time', 'remote_addr', 'http_authorization', 'proxy_upstream_name']) {
        expect(typeof nginxParser.parse(json({ ...base, [key]: v })).ok).toBe('boolean');
      }
    }
    for (const line of ['\u0000', '"'.repeat(5000), `${SAMPLES[0]!}\u0000`, SAMPLES[7]!.replace(/ /g, '  ')]) {
      expect(typeof nginxParser.parse(text(line)).ok).toBe('boolean');
    }
  });

  it('keeps a logged bearer token out of the rejection detail', () => {
    const r = nginxParser.parse(json({ ...base, http_authorization: `Bearer ${VALID_JWT}`, status: 'bad' }));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(VALID_JWT.split('.')[1]);
  });
});

describe('nginx renderer round trip', () => {
  const jwt = syntheticRequest().rawToken!;
  const CASES: Array<[string, Partial<SyntheticRequest>]> = [
    ['a JWT in the Authorization header', {}],
    ['a JWT in the query string', { tokenIn: 'query', query: `access_token=${jwt}&page=2` }],
    ['an API key header', { tokenIn: 'api_key_header', rawToken: 'tw_test_key_0123456789abcdef' }],
    ['an anonymous request', { rawToken: null }],
    ['a 401 for an expired token with its challenge', { status: 401, wwwAuthenticate: 'Bearer error="invalid_token", error_description="The access token expired"' }],
    ['a 503 from the backend', { status: 503, latencyMs: 29_000 }],
    ['an IPv6 client', { clientIp: '2001:db8::7' }],
    ['the blue track', { track: 'blue', upstream: 'orders-blue' }],
    ['the green track', { track: 'green', upstream: 'orders-green' }],
    ['the stable track', { track: 'stable', upstream: 'orders-stable' }],
    ['a user agent that needs escaping', { userAgent: 'Tool "quoted" \\ café' }],
  ];

  for (const variant of nginxRenderer.variants) {
    it.each(CASES)(`gives back ${variant} requests with %s`, (_name, overrides) => {
      const req = syntheticRequest(overrides);
      const record = recordOf(nginxRenderer.render(req, variant));
      expect(nginxParser.detect(record)).toBe(true);
      const e = eventOf(record);
      const end = req.ts + req.latencyMs;
      if (variant === 'json') expect(e.ts).toBe(req.ts); // $msec has ms
      // $time_local has whole seconds; upstreaminfo logs $request_time, combined does not.
      else if (variant === 'upstreaminfo') expect(e.ts).toBe(Math.floor(end / 1000) * 1000 - req.latencyMs);
      else expect(e.ts).toBe(Math.floor(end / 1000) * 1000);
      expect(e).toMatchObject({ gateway: 'nginx', status: req.status, method: req.method, path: req.path, clientIp: req.clientIp, userAgent: req.userAgent });
      if (variant !== 'combined') expect(e.latencyMs).toBe(req.latencyMs);

      const logsToken = req.rawToken !== null && (nginxRenderer.carriesAuthorization(variant) || req.tokenIn === 'query');
      expect(e.tokenFp).toBe(logsToken ? fpOf(req.rawToken!) : null);
      if (variant === 'json' && req.status === 401) expect(e.authError).toBe('expired');
      if (req.status === 200) expect(e.authError).toBeNull();

      if (variant === 'json') expect(e.deployment).toEqual({ service: 'orders', version: req.version, track: req.track });
      else if (variant === 'upstreaminfo') expect(e.deployment).toMatchObject({ service: `default-${req.service}`, track: req.track });
      else expect(e.deployment).toEqual({ service: null, version: null, track: null });

      if (req.rawToken !== null) {
        const out = JSON.stringify(e);
        expect(out).not.toContain(req.rawToken);
        const signature = req.rawToken.split('.')[2];
        if (signature) expect(out).not.toContain(signature);
      }
    });
  }
});
