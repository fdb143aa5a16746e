// Tyk parser: documented analytics records and access-log entries, detection against every
// other format, rejection of bad input, the logfmt tokenizer, and the renderer round trip.
import { describe, expect, it } from 'vitest';
import { scanLogfmt, tykParser } from './tyk.js';
import { tykRenderer } from '../generator/formats/tyk.js';
import { accessEventSchema, type AccessEvent } from '../model.js';
import type { SyntheticRequest } from '../generator/types.js';
import type { RawRecord } from './types.js';
import { fixtureLines, fpOf, makeJwt, syntheticRequest, testNormalizer } from '../../test/helpers/ingest.js';

const json = (line: string): RawRecord => ({ kind: 'json', value: JSON.parse(line) as Record<string, unknown> });
const text = (line: string): RawRecord => ({ kind: 'text', line });
// Analytics and JSON access-log entries are JSON; access-log text entries are not.
const record = (line: string): RawRecord => (line.startsWith('{') ? json(line) : text(line));

function normalise(rec: RawRecord): AccessEvent {
  const draft = tykParser.parse(rec);
  if (!draft.ok || draft.event === null) throw new Error(`parse failed: ${JSON.stringify(draft)}`);
  const event = testNormalizer().access(draft.event);
  if (!event.ok || event.event === null) throw new Error(`normalise failed: ${JSON.stringify(event)}`);
  return accessEventSchema.parse(event.event);
}

const analytics = fixtureLines('tyk/samples.jsonl');
const logfmt = fixtureLines('tyk/samples.logfmt');

// Tokens of the fixture lines (fake, built like makeJwt).
const JWT_OK =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJ0eWstanRpLTAwMDEiLCJzdWIiOiJ1c2VyLTMzIiwic2lkIjoic2Vzcy0xMiIsImF6cCI6Im1vYmlsZS1hcHAiLCJpYXQiOjE3NjQwNjg0MDAsImV4cCI6MTc2NDA3MDIwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZS5jb20vcmVhbG1zL2RlbW8iLCJhdWQiOiJvcmRlcnMtYXBpIn0.qINAZVpwnNk3BmnX_do9-hQIxCxUyeSsHNAYBv4fLuw';
const JWT_EXPIRED =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJ0eWstanRpLTAwMDIiLCJzdWIiOiJ1c2VyLTM0Iiwic2lkIjoic2Vzcy0xMyIsImF6cCI6Im1vYmlsZS1hcHAiLCJpYXQiOjE3NjQwNjQ4MDAsImV4cCI6MTc2NDA2NjYwMCwiaXNzIjoiaHR0cHM6Ly9pZHAuZXhhbXBsZS5jb20vcmVhbG1zL2RlbW8iLCJhdWQiOiJvcmRlcnMtYXBpIn0.Naxt4Tx3uXnY_VrTTrebJMqt6pftyoyEsTh_rhEmFVY';
const LEGACY_KEY = '5e9d9544a1dcd60001d0ed20fakekey000000000000000000000001';

describe('tyk parser: documented analytics records', () => {
  it('reads the Traffic Log example of the Tyk docs', () => {
    expect(normalise(json(analytics[0]!))).toMatchObject({
      // timestamp 2022-11-16T03:01:54.648+00:00 = 1668567714648 (19312 days x 86400 + 10914 s, + 648 ms),
      // written at the end of the request: minus latency.total 4 ms
      ts: 1668567714644,
      gateway: 'tyk',
      method: 'GET',
      // original_path: the client's path before the listen path /api/v1/ was stripped
      path: '/api/v1/users',
      route: '727dad853a8a45f64ab981154d1ffdad',
      host: 'tyk.io',
      status: 200,
      latencyMs: 4,
      clientIp: '172.18.0.1',
      userAgent: 'curl/7.86.0',
      // api_key holds the hashed key (hash_keys on): one identifier per key
      tokenFp: fpOf('6129dc1e8b64c6b4'),
      tokenKind: 'api_key',
      authError: null,
      deployment: { service: 'Foo API', version: null, track: null },
      consumerId: 'my-key-alias',
    });
  });

  it('reads Authorization, query and deployment headers out of the base64 raw request and response', () => {
    const event = normalise(json(analytics[1]!));
    expect(event).toMatchObject({
      // 2025-11-25T11:05:12.461793208Z: 1764028800 s + 39912 s, + 461 ms, minus latency.total 45 ms
      ts: 1764068712416,
      requestId: '9f8e7d6c-5b4a-4392-8170-a1b2c3d4e5f6',
      method: 'GET',
      path: '/orders/api/orders/42',
      host: 'api.example.com',
      status: 200,
      latencyMs: 45,
      clientIp: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0',
      tokenFp: fpOf(JWT_OK),
      tokenKind: 'jwt',
      authError: null,
      deployment: { service: 'orders', version: '3.1.0', track: 'green' },
      consumerId: 'mobile-app',
    });
    expect(event.claims).toMatchObject({ jti: 'tyk-jti-0001', sub: 'user-33', sid: 'sess-12', clientId: 'mobile-app' });
  });

  it('classifies the JWT middleware rejection of an expired token from its error body', () => {
    expect(normalise(json(analytics[2]!))).toMatchObject({
      // 2025-11-25T11:06:40.010532Z: 1764028800 s + 40000 s, + 10 ms, minus 2 ms
      ts: 1764068800008,
      method: 'GET',
      path: '/orders/api/orders/42',
      status: 401,
      latencyMs: 2,
      clientIp: '198.51.100.23',
      userAgent: 'okhttp/4.12.0',
      tokenFp: fpOf(JWT_EXPIRED),
      authError: 'expired',
      deployment: { service: 'orders', version: null, track: 'stable' },
    });
  });

  it('classifies a 401 without credentials as missing', () => {
    expect(normalise(json(analytics[3]!))).toMatchObject({
      // 2025-11-25T11:07:03.5Z: 1764028800 s + 40023 s, + 500 ms, minus 1 ms
      ts: 1764068823499,
      method: 'POST',
      path: '/orders/api/orders',
      status: 401,
      latencyMs: 1,
      clientIp: '192.0.2.15',
      userAgent: 'python-requests/2.32.3',
      tokenFp: null,
      authError: 'missing',
    });
  });

  it('reads a pre-v1.5 record with Go field names and skips a raw request that is not HTTP', () => {
    expect(normalise(json(analytics[4]!))).toMatchObject({
      // 2020-03-09T14:21:33.184926+01:00 = 13:21:33.184Z: 18330 days x 86400 + 48093 s = 1583760093 s,
      // + 184 ms, minus Latency.Total 12 ms
      ts: 1583760093172,
      method: 'POST',
      path: '/quotes',
      route: '41433797848f41a558c1573d3e55a410',
      host: 'quotes-v1.internal',
      status: 201,
      latencyMs: 12,
      clientIp: '118.93.55.103',
      tokenFp: fpOf(LEGACY_KEY),
      tokenKind: 'api_key',
      deployment: { service: 'Quotes API', version: null, track: null },
    });
  });

  it('unwraps the stdout pump entry and reads an IPv6 client behind a 503', () => {
    expect(normalise(json(analytics[5]!))).toMatchObject({
      // 2025-11-25T11:07:59.912345678Z: 1764028800 s + 40079 s, + 912 ms, minus 1502 ms
      ts: 1764068878410,
      method: 'PUT',
      path: '/payments/9',
      status: 503,
      latencyMs: 1502,
      clientIp: '2001:db8:85a3::8a2e:370:7334',
      userAgent: 'Go-http-client/2.0',
      tokenFp: null,
      authError: null,
      deployment: { service: 'payments', version: null, track: 'canary' },
    });
  });

  it('reads the flat Kafka pump message and its request_time_ms', () => {
    expect(normalise(json(analytics[6]!))).toMatchObject({
      // 2025-11-25T11:09:30.25Z: 1764028800 s + 40170 s, + 250 ms, minus 17 ms
      ts: 1764068970233,
      method: 'POST',
      path: '/token/introspect',
      status: 200,
      latencyMs: 17,
      clientIp: '192.0.2.77',
      userAgent: 'billing-batch/1.4',
      tokenFp: fpOf('fake-raw-tyk-key-0002'),
      deployment: { service: 'auth', version: null, track: 'stable' },
      consumerId: 'billing-batch',
    });
  });

  it('reads an access-log entry in JSON (TYK_LOGFORMAT=json)', () => {
    expect(normalise(json(analytics[7]!))).toMatchObject({
      // 2025-11-25T11:10:00+01:00 = 10:10:00Z: 1764028800 s + 36600 s, minus latency_total 18 ms
      ts: 1764065399982,
      method: 'GET',
      path: '/httpbin/get',
      host: 'localhost:8080',
      status: 200,
      latencyMs: 18,
      clientIp: '198.51.100.9',
      userAgent: 'curl/8.5.0',
      tokenFp: fpOf('6129dc1e8b64c6b4'),
      deployment: { service: 'httpbin', version: null, track: null },
    });
  });
});

describe('tyk parser: documented access-log entries', () => {
  it('reads the Access Log Content example of the Tyk docs', () => {
    expect(normalise(text(logfmt[0]!))).toMatchObject({
      // 2025-01-29T08:27:09Z: 20117 days x 86400 + 30429 s = 1738139229 s, minus latency_total 62 ms
      ts: 1738139228938,
      requestId: '4bf92f3577b34da6a3ce929d0e0e4736',
      method: 'GET',
      path: '/get',
      route: 'b1a41c9a89984ffd7bb7d4e3c6844ded',
      host: 'localhost:8080',
      status: 200,
      latencyMs: 62,
      clientIp: '::1',
      userAgent: 'PostmanRuntime/7.43.0',
      // 00000000 is the hash of the empty key: no credential
      tokenFp: null,
      authError: null,
      deployment: { service: 'httpbin', version: null, track: null },
    });
  });

  it.each([
    // 2025-02-10: 20129 days x 86400 = 1739145600 s
    [1, 1739197381000, 'GET', '/users', 500], // + 14:23:01 = 51781 s
    [2, 1739197533000, 'GET', '/users', 500], // + 14:25:33 = 51933 s
    [3, 1739197800000, 'GET', '/health', 503], // + 14:30:00 = 52200 s
    [4, 1739197882000, 'POST', '/orders', 429], // + 14:31:22 = 52282 s
    [5, 1739197965000, 'GET', '/health', 503], // + 14:32:45 = 52365 s
  ])('reads error-classification example %i without calling it an auth failure', (index, ts, method, path, status) => {
    expect(normalise(text(logfmt[index]!))).toMatchObject({
      ts,
      method,
      path,
      status,
      latencyMs: null,
      clientIp: null,
      route: 'abc123',
      tokenFp: null,
      authError: null,
      deployment: { service: 'my-api' },
    });
  });

  it('classifies response_flag TKE (jwt_token_expired) as expired', () => {
    expect(normalise(text(logfmt[6]!))).toMatchObject({
      // 2025-11-25T11:11:05Z: 1764028800 s + 40265 s, minus 1 ms
      ts: 1764069064999,
      method: 'GET',
      path: '/orders/api/orders/42',
      status: 401,
      latencyMs: 1,
      clientIp: '203.0.113.61',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0',
      authError: 'expired',
    });
  });

  it('classifies response_flag AMF (auth_field_missing) on a 401 as missing', () => {
    expect(normalise(text(logfmt[7]!))).toMatchObject({
      // 2025-11-25T11:12:00Z: 1764028800 s + 40320 s, latency 0
      ts: 1764069120000,
      method: 'POST',
      status: 401,
      clientIp: '192.0.2.15',
      tokenFp: null,
      authError: 'missing',
    });
  });

  it('fingerprints a raw api_key (enable_key_logging) and unquotes escaped quotes', () => {
    expect(normalise(text(logfmt[8]!))).toMatchObject({
      // 2025-11-25T12:13:14+01:00 = 11:13:14Z: 1764028800 s + 40394 s, minus 25 ms
      ts: 1764069193975,
      method: 'GET',
      path: '/orders/api/orders',
      status: 200,
      latencyMs: 25,
      clientIp: '2001:db8::42',
      userAgent: 'Mozilla/5.0 (compatible; "QA Bot" 1.0)',
      tokenFp: fpOf('fake-raw-tyk-key-0003'),
      tokenKind: 'api_key',
      deployment: { service: 'orders', version: null, track: 'green' },
    });
  });

  it('keeps every token out of the events', () => {
    const events = JSON.stringify([...analytics, ...logfmt].map((l) => normalise(record(l))));
    for (const secret of [JWT_OK, JWT_OK.split('.')[2]!, JWT_EXPIRED, JWT_EXPIRED.split('.')[2]!]) expect(events).not.toContain(secret);
  });
});

const pairs = (line: string): Record<string, string> | null => {
  const out: Record<string, string> = {};
  return scanLogfmt(line, (k, v) => (out[k] = v)) ? out : null;
};

describe('logfmt tokenizer', () => {
  it('reads bare, quoted, escaped and empty values', () => {
    expect(pairs('a=1 b="two words" c="say \\"hi\\" \\\\ \\u00e9\\x41" d= e=x/y@z')).toEqual({
      a: '1',
      b: 'two words',
      c: 'say "hi" \\ éA',
      d: '',
      e: 'x/y@z',
    });
  });

  it('rejects an unterminated quote, a bad escape and a bare word', () => {
    expect(pairs('a=1 b="open')).toBeNull();
    expect(pairs('a="bad \\q escape"')).toBeNull();
    expect(pairs('a=1 orphan')).toBeNull();
    expect(pairs('a="x"y=1')).toBeNull();
  });
});

// Small records in the shape of every other input format.
const OTHER_JSON: Record<string, Record<string, unknown>> = {
  'Kong log serializer': {
    request: { method: 'GET', uri: '/api/orders', url: 'http://api.example.com:8000/api/orders', headers: { host: 'api.example.com' }, querystring: {}, size: 90 },
    response: { status: 200, headers: {}, size: 120 },
    latencies: { request: 12, kong: 1, proxy: 10 },
    client_ip: '203.0.113.7',
    started_at: 1764065730123,
    route: { name: 'orders-route' },
    service: { name: 'orders', host: 'orders-canary' },
  },
  'Envoy JSON': {
    start_time: '2025-11-25T10:15:30.123Z', method: 'GET', path: '/api/orders', protocol: 'HTTP/1.1', response_code: 200,
    response_flags: '-', bytes_received: 0, bytes_sent: 42, duration: 12, upstream_host: '10.0.0.5:8080',
    x_forwarded_for: '-', user_agent: 'curl/8.5.0', request_id: 'a1b2', authority: 'api.example.com', upstream_cluster: 'outbound|8080|v2|orders.default.svc.cluster.local',
  },
  'AWS API Gateway JSON': {
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', ip: '203.0.113.7', caller: '-', user: '-', requestTime: '25/Nov/2025:10:15:30 +0000',
    httpMethod: 'GET', resourcePath: '/orders/{id}', status: '200', protocol: 'HTTP/1.1', responseLength: '42', apiId: 'a1b2c3',
  },
  'NGINX JSON': {
    time_local: '25/Nov/2025:10:15:30 +0000', remote_addr: '203.0.113.7', request: 'GET /api/orders HTTP/1.1', status: '200',
    body_bytes_sent: '42', request_time: '0.012', http_user_agent: 'curl/8.5.0', http_authorization: 'Bearer abc',
  },
  'Traefik JSON': {
    ClientAddr: '203.0.113.7:51234', ClientHost: '203.0.113.7', DownstreamStatus: 200, Duration: 12000000, RequestMethod: 'GET',
    RequestPath: '/api/orders', RequestProtocol: 'HTTP/1.1', RouterName: 'orders@docker', ServiceName: 'orders-canary@docker', StartUTC: '2025-11-25T10:15:30.123Z',
  },
  'Keycloak event': { time: 1764065730123, type: 'REFRESH_TOKEN', realmId: 'demo', clientId: 'web-app', userId: 'u-17', sessionId: 's-9', ipAddress: '203.0.113.7' },
  'Auth0 log': { date: '2025-11-25T10:15:30.123Z', type: 'sertft', client_id: 'abc', ip: '203.0.113.7', log_id: '90020251125101530123000000000000001' },
  'Okta event': { uuid: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b', published: '2025-11-25T10:15:30.123Z', eventType: 'app.oauth2.token.grant', outcome: { result: 'SUCCESS' } },
  'canonical AccessEvent': {
    ts: 1764065730123, gateway: 'tyk', requestId: null, method: 'GET', path: '/', route: null, host: null, status: 200, latencyMs: 1,
    clientIp: null, userAgent: null, tokenFp: null, tokenKind: null, claims: null, authError: null, deployment: { service: null, version: null, track: null }, consumerId: null,
  },
  'a Tyk application log entry': { level: 'info', time: '2025-11-25T10:15:30Z', prefix: 'main', message: 'Gateway started' },
};
const OTHER_TEXT: Record<string, string> = {
  'Envoy text': '[2025-11-25T10:15:30.123Z] "GET /api/orders HTTP/1.1" 200 - 0 42 12 10 "-" "curl/8.5.0" "a1b2" "api.example.com" "10.0.0.5:8080"',
  'Istio text':
    '[2025-11-25T10:15:30.123Z] "GET /api/orders HTTP/1.1" 200 - via_upstream - "-" 0 42 12 10 "-" "curl/8.5.0" "a1b2" "api.example.com" "10.0.0.5:8080" outbound|8080|v2|orders.default.svc.cluster.local 10.0.0.9:40000 10.0.0.5:8080 10.0.0.9:39000 - default',
  'NGINX combined': '203.0.113.7 - - [25/Nov/2025:10:15:30 +0000] "GET /api/orders HTTP/1.1" 200 42 "-" "curl/8.5.0"',
  'ingress-nginx upstreaminfo':
    '203.0.113.7 - - [25/Nov/2025:10:15:30 +0000] "GET /api/orders HTTP/1.1" 200 42 "-" "curl/8.5.0" 180 0.012 [default-orders-canary-80] [] 10.0.0.5:8080 42 0.012 200 a1b2c3',
  'Traefik CLF': '203.0.113.7 - - [25/Nov/2025:10:15:30 +0000] "GET /api/orders HTTP/1.1" 200 42 "-" "curl/8.5.0" 1 "orders@docker" "http://10.0.0.5:8080" 12ms',
  'a Tyk application log line': 'time="2025-11-25T10:15:30Z" level=info msg="API Loaded" api_id=abc prefix=gateway',
};

describe('tyk parser: detect', () => {
  it('claims every documented sample', () => {
    for (const line of [...analytics, ...logfmt]) expect(tykParser.detect(record(line))).toBe(true);
  });

  it.each(Object.entries(OTHER_JSON))('leaves %s records alone', (_name, value) => {
    expect(tykParser.detect({ kind: 'json', value })).toBe(false);
  });

  it.each(Object.entries(OTHER_TEXT))('leaves %s lines alone', (_name, line) => {
    expect(tykParser.detect(text(line))).toBe(false);
  });
});

describe('tyk parser: bad input', () => {
  const base = (): Record<string, unknown> => JSON.parse(analytics[1]!) as Record<string, unknown>;
  const reject = (value: Record<string, unknown>) => tykParser.parse({ kind: 'json', value });

  it('rejects garbage text and a logfmt line of another Tyk logger as format_mismatch', () => {
    expect(tykParser.parse(text('\u0000\u0001 garbage'))).toMatchObject({ ok: false, reason: 'format_mismatch' });
    expect(tykParser.parse(text(OTHER_TEXT['a Tyk application log line']!))).toMatchObject({ ok: false, reason: 'format_mismatch' });
  });

  it('rejects a truncated access-log line', () => {
    const line = logfmt[8]!;
    expect(tykParser.parse(text(line.slice(0, line.length - 5)))).toMatchObject({ ok: false, reason: 'format_mismatch' });
  });

  it('rejects the documented template entry, which has no status, as missing_field', () => {
    // access-logs.mdx "Access Log Templates" output with template [api_key, remote_addr, upstream_addr]
    const templated = 'time="2025-01-29T08:27:48Z" level=info api_key=00000000 prefix=access-log remote_addr="[::1]:63270" upstream_addr="http://httpbin.org/get"';
    expect(tykParser.detect(text(templated))).toBe(true);
    expect(tykParser.parse(text(templated))).toMatchObject({ ok: false, reason: 'missing_field', detail: 'status: missing' });
  });

  it('rejects the yearless legacy timestamp as invalid_timestamp', () => {
    const legacy = 'time="Sep 04 08:04:18" level=info api_id=abc method=GET path=/get prefix=access-log status=200';
    expect(tykParser.parse(text(legacy))).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });

  it('rejects analytics records without timestamp or response code as missing_field', () => {
    for (const drop of ['timestamp', 'response_code']) {
      const v = base();
      delete v[drop];
      expect(reject(v)).toMatchObject({ ok: false, reason: 'missing_field' });
    }
  });

  it('rejects wrong types as invalid_field and a zero time as invalid_timestamp', () => {
    expect(reject({ ...base(), response_code: 'OK' })).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(reject({ ...base(), latency: { total: 'fast' } })).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(reject({ ...base(), ip_address: ['203.0.113.7'] })).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(reject({ ...base(), timestamp: '0001-01-01T00:00:00Z' })).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
    expect(tykParser.parse(text('time="2025-01-29T08:27:09Z" level=info prefix=access-log status=two'))).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('finds the end of the raw header block by CRLF CRLF first, else by bare LF LF', () => {
    const headersOf = (raw: string): Record<string, string> | undefined => {
      const result = tykParser.parse({ kind: 'json', value: { ...base(), raw_request: Buffer.from(raw, 'latin1').toString('base64') } });
      return result.ok && result.event ? result.event.requestHeaders : undefined;
    };
    expect(headersOf('GET /a HTTP/1.1\r\nHost: h\r\n\r\nX-Body: 1\r\n')).toEqual({ host: 'h' });
    expect(headersOf('GET /a HTTP/1.1\nHost: h\n\nX-Body: 1\n')).toEqual({ host: 'h' });
    // An LF LF before a CRLF CRLF is not the end: the CRLF CRLF is.
    expect(headersOf('GET /a HTTP/1.1\nHost: h\n\nX-Late: 1\r\n\r\nX-Body: 1')).toEqual({ host: 'h', 'x-late': '1' });
    expect(headersOf('GET /a HTTP/1.1\r\n\r\nHost: h')).toEqual({});
  });

  it('joins a header repeated under another spelling', () => {
    const raw = Buffer.from('GET /a HTTP/1.1\r\nX-Tag: a\r\nHost: h\r\nx-tag: b\r\nX-TAG: c\r\n\r\n', 'latin1').toString('base64');
    const result = tykParser.parse({ kind: 'json', value: { ...base(), raw_request: raw } });
    expect(result.ok && result.event?.requestHeaders).toEqual({ 'x-tag': 'a, b, c', host: 'h' });
  });

  it('ignores undecodable raw payloads instead of failing the record', () => {
    expect(normalise({ kind: 'json', value: { ...base(), raw_request: '!!!not base64!!!', raw_response: 'SGVsbG8=' } })).toMatchObject({
      status: 200,
      tokenFp: fpOf('a3c9f1e07b2d4e58'),
    });
  });

  it('never throws, and never puts the token in a rejection', () => {
    const garbage: unknown[] = [null, 0, [], 'x', { response_code: {}, api_id: 1 }, { 'tyk-analytics-record': 5 }, { prefix: 'access-log' }];
    for (const value of garbage) expect(() => tykParser.parse({ kind: 'json', value: value as Record<string, unknown> })).not.toThrow();
    const withToken = `time="2025-01-29T08:27:09Z" level=info api_key=${JWT_OK} prefix=access-log status=abc`;
    const result = tykParser.parse(text(withToken));
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(JWT_OK);
    const analyticsResult = reject({ ...base(), response_code: JWT_OK });
    expect(JSON.stringify(analyticsResult)).not.toContain(JWT_OK);
  });
});

describe('tyk renderer round trip', () => {
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

  for (const variant of tykRenderer.variants) {
    it.each(cases)(`${variant}: gives back %s`, (_name, overrides) => {
      const req = syntheticRequest(overrides);
      const line = tykRenderer.render(req, variant);
      const rec = record(line);
      expect(tykParser.detect(rec)).toBe(true);
      const event = normalise(rec);
      expect(event).toMatchObject({ status: req.status, method: req.method, path: req.path, clientIp: req.clientIp });
      if (variant === 'logfmt') {
        // logrus' RFC 3339 stamp has whole seconds: the start is known to within the second that ended the request.
        expect(event.ts).toBeLessThanOrEqual(req.ts);
        expect(event.ts).toBeGreaterThan(req.ts - 1000);
      } else {
        expect(event.ts).toBe(req.ts);
      }
      expect(event.deployment.track).toBe(req.track);
      const logsQuery = variant === 'analytics';
      if (req.rawToken !== null && (tykRenderer.carriesAuthorization(variant) || (req.tokenIn === 'query' && logsQuery))) {
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
});
