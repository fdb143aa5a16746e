// The AWS API Gateway parser against its documented samples (test/fixtures/aws-apigw, sources
// in SOURCES.md), against other formats' records, against bad input, and in round trips through
// the renderer's REST and HTTP API variants.
import { describe, expect, it } from 'vitest';
import { awsApigwParser } from './aws-apigw.js';
import { GATEWAY_PARSERS } from './registry.js';
import type { RawRecord } from './types.js';
import { awsApigwRenderer } from '../generator/formats/aws-apigw.js';
import type { SyntheticRequest } from '../generator/types.js';
import { accessEventSchema, type AccessEvent } from '../model.js';
import { fixtureLines, fpOf, makeJwt, syntheticRequest, testNormalizer } from '../../test/helpers/ingest.js';

const normalizer = testNormalizer();
const json = (value: Record<string, unknown>): RawRecord => ({ kind: 'json', value });
const recordOf = (line: string): RawRecord => (line.startsWith('{') ? json(JSON.parse(line) as Record<string, unknown>) : { kind: 'text', line });

function eventOf(record: RawRecord): AccessEvent {
  const draft = awsApigwParser.parse(record);
  if (!draft.ok || draft.event === null) throw new Error(`not parsed: ${JSON.stringify(draft)}`);
  const event = normalizer.access(draft.event);
  if (!event.ok || event.event === null) throw new Error(`not normalised: ${JSON.stringify(event)}`);
  return accessEventSchema.parse(event.event);
}

const SAMPLES = fixtureLines('aws-apigw/samples.jsonl');
const none = { service: null, version: null, track: null };

// One expectation per line of test/fixtures/aws-apigw/samples.jsonl (sources in SOURCES.md).
const EXPECTED: Array<Partial<AccessEvent>> = [
  {
    ts: 1_686_411_388_000, // 10/Jun/2023:15:36:28 +0000
    requestId: '48752d0f-c99d-4cfa-a5a7-f3c6834d19e5', method: 'GET', path: '/pets', route: '/pets', status: 200,
    latencyMs: null, clientIp: '1.128.0.0', userAgent: null, tokenFp: null, authError: null, deployment: none,
  },
  {
    ts: 1_690_373_223_000, // 26/Jul/2023:12:07:03 +0000
    method: 'GET', path: '/pets/{petId}', route: '/pets/{petId}', host: 'asad15n3p0.execute-api.us-east-1.amazonaws.com', status: 200,
    clientIp: '1.128.0.0', deployment: { service: 'asad15n3p0', version: null, track: null },
  },
  {
    ts: 1_690_373_613_000, // 26/Jul/2023:12:13:33 +0000
    requestId: 'Iq8dHhlwIAMEV_g=', method: 'GET', path: '/', route: 'GET /', status: 200, clientIp: '1.128.0.0',
    deployment: { service: '1ax3mj7iqf', version: null, track: null },
  },
  {
    ts: 1_690_374_046_000, // 26/Jul/2023:12:20:46 +0000, a WebSocket $connect: no method, no path
    method: null, path: null, route: '$connect', status: 500, clientIp: '1.128.0.0',
  },
  {
    ts: 1_764_065_730_000, // 25/Nov/2025:10:15:30 +0000
    method: 'POST', path: '/prod/orders', route: '/orders', status: 201, latencyMs: 87, clientIp: '198.51.100.23',
    userAgent: 'okhttp/4.12.0', consumerId: 'user-17', deployment: none,
  },
  {
    ts: 1_764_065_762_481, // requestTimeEpoch, ms (= 25/Nov/2025:10:16:02.481 UTC)
    requestId: 'a3c1d2e4-5f60-4718-9a2b-3c4d5e6f7081', method: 'GET', path: '/orders/42', route: '/orders/{id}', host: 'api.example.com',
    status: 200, latencyMs: 41, clientIp: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0',
    tokenFp: null, tokenKind: 'jwt', authError: null, deployment: { service: 'k7x2m9q4rb', version: '9xk2lm', track: 'canary' },
  },
  {
    ts: 1_764_062_411_093, // requestTimeEpoch (= 25/Nov/2025:09:20:11.093 UTC)
    method: 'GET', path: '/orders/42', status: 401, latencyMs: 6, authError: 'expired', tokenFp: null,
    deployment: { service: 'k7x2m9q4rb', version: '4hq8zt', track: 'stable' },
  },
  {
    ts: 1_764_066_100_512, // requestTimeEpoch (= 25/Nov/2025:10:21:40.512 UTC)
    // UNAUTHORIZED is AWS's answer to a missing and to a bad token alike: unknown cause, `invalid`.
    method: 'DELETE', path: '/orders/42', status: 401, latencyMs: 3, clientIp: '192.0.2.44', userAgent: 'curl/8.5.0', authError: 'invalid',
  },
  {
    ts: 1_764_066_125_000, // 25/Nov/2025:10:22:05 +0000
    method: 'GET', path: '/admin/keys', route: null, status: 403, clientIp: '2001:db8:4::17', authError: 'missing',
  },
  {
    ts: 1_764_066_197_000, // 25/Nov/2025:10:23:17 +0000
    requestId: 'Jx4kQh0aoAMEVpg=', method: 'GET', path: '/canary/orders/7', route: 'GET /orders/{id}', status: 200, latencyMs: 29,
    clientIp: '203.0.113.99', userAgent: 'Dart/3.5 (dart:io)', host: 'q9w8e7r6t5.execute-api.eu-west-1.amazonaws.com',
    tokenKind: 'jwt', deployment: { service: 'q9w8e7r6t5', version: null, track: 'canary' },
  },
  {
    ts: 1_764_066_270_250, // requestTimeEpoch (= 25/Nov/2025:10:24:30.250 UTC)
    method: 'PUT', path: '/orders/9', status: 503, latencyMs: 29_001, clientIp: '198.51.100.5', authError: null,
    deployment: { service: 'k7x2m9q4rb', version: '9xk2lm', track: 'canary' },
  },
  {
    ts: 1_764_066_300_000, // 25/Nov/2025:10:25:00 +0000
    requestId: 'f1c6d5e4-5a6b-4c83-8d4e-5f6a7b8c9d0e', method: 'GET', path: '/reports', route: '/reports', status: 200,
    clientIp: '203.0.113.150', tokenFp: fpOf('wj4n8sq2pa'), tokenKind: 'api_key', authError: null,
  },
];

describe('aws-apigw parser: documented samples', () => {
  it('has one expectation per sample line', () => {
    expect(SAMPLES).toHaveLength(EXPECTED.length);
  });

  it.each(SAMPLES.map((line, i) => [i + 1, line] as const))('parses and normalises sample %i to its expected event', (i, line) => {
    expect(eventOf(recordOf(line))).toMatchObject(EXPECTED[i - 1]!);
  });

  it('reads Cognito authorizer claims, Java-date times included, as the claims of a JWT', () => {
    const e = eventOf(recordOf(SAMPLES[5]!));
    expect(e.claims).toEqual({
      jti: '7b3e9a51-0c2d-4e6f-8a1b-3c5d7e9f1a2b', sub: '5f1e2d3c-aaaa-4bbb-8ccc-1234567890ab', sid: null,
      clientId: '6rupb256qn12tju82occ9eppqr', iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E',
      exp: 1_764_069_245_000, // Tue Nov 25 11:14:05 UTC 2025
      iat: 1_764_065_645_000, // Tue Nov 25 10:14:05 UTC 2025
      aud: null, alg: null, verified: null,
    });
  });

  it('reads HTTP API JWT claims logged under jwt<Claim> keys, seconds and bracketed lists included', () => {
    const e = eventOf(recordOf(SAMPLES[9]!));
    expect(e.claims).toMatchObject({ jti: 'jti-http-77', sub: 'user-43', exp: 1_764_069_600_000, aud: ['orders-api', 'admin-api'] });
  });

  it('fingerprints a logged raw API key as the key itself and an API key id as the id', () => {
    const withKey = eventOf(json({ requestId: 'r-1', httpMethod: 'GET', requestTime: '25/Nov/2025:10:25:00 +0000', status: '200', 'identity.apiKey': 'tw_test_key_5678', 'identity.apiKeyId': 'k-1' }));
    expect(withKey).toMatchObject({ tokenFp: fpOf('tw_test_key_5678'), tokenKind: 'api_key' });
    expect(JSON.stringify(withKey)).not.toContain('tw_test_key_5678');
    const idOnly = eventOf(json({ requestId: 'r-2', httpMethod: 'GET', requestTime: '25/Nov/2025:10:25:00 +0000', status: '200', identity: { apiKeyId: 'k-1' } }));
    expect(idOnly).toMatchObject({ tokenFp: fpOf('k-1'), tokenKind: 'api_key' });
  });

  it('dates a CloudWatch log event by its timestamp when the access-log line logs no time', () => {
    const message = JSON.stringify({ requestId: 'r-3', httpMethod: 'GET', path: '/a', status: '200' });
    expect(eventOf(json({ id: '1', timestamp: 1_764_066_300_123, message })).ts).toBe(1_764_066_300_123);
  });

  it('skips CloudWatch Logs control messages', () => {
    expect(awsApigwParser.parse(json({ messageType: 'CONTROL_MESSAGE', logEvents: [{ id: '', timestamp: 1, message: 'CWL CONTROL MESSAGE' }] }))).toMatchObject({ ok: true, event: null });
  });
});

// Small records in every other format the auto-detection sees (shapes from each format's docs).
const OTHERS: Array<[string, RawRecord]> = [
  ['kong', json({ request: { method: 'GET', uri: '/a', url: 'http://x/a', headers: {}, querystring: {}, size: 80 }, response: { status: 200, headers: {}, size: 10 }, latencies: { request: 5, kong: 1, proxy: 3 }, client_ip: '203.0.113.1', started_at: 1_764_065_730_000, upstream_uri: '/a', route: { name: 'r' }, service: { name: 's' } })],
  ['envoy json', json({ start_time: '2025-11-25T10:15:30.123Z', method: 'GET', path: '/a', protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', bytes_received: 0, bytes_sent: 10, duration: 3, x_forwarded_for: '-', user_agent: 'curl/8', request_id: 'abc', authority: 'x', upstream_host: '10.0.0.1:80', upstream_cluster: 'outbound|80||x.default.svc.cluster.local' })],
  ['envoy text', { kind: 'text', line: '[2025-11-25T10:15:30.123Z] "GET /a HTTP/1.1" 200 - 0 10 3 2 "-" "curl/8" "abc" "x" "10.0.0.1:80"' }],
  ['istio text', { kind: 'text', line: '[2025-11-25T10:15:30.123Z] "GET /a HTTP/1.1" 200 - via_upstream - "-" 0 10 3 2 "-" "curl/8" "abc" "x" "10.0.0.1:80" outbound|80||x.default.svc.cluster.local 10.0.0.2:4 10.0.0.1:80 10.0.0.3:5 - default' }],
  ['nginx json', json({ time_local: '25/Nov/2025:10:15:30 +0000', remote_addr: '203.0.113.1', request: 'GET /a HTTP/1.1', status: '200', body_bytes_sent: '10', request_time: '0.003', http_user_agent: 'curl/8', request_id: 'abc' })],
  ['nginx combined', { kind: 'text', line: '203.0.113.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8"' }],
  ['ingress-nginx upstreaminfo', { kind: 'text', line: '203.0.113.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8" 80 0.003 [default-x-80] [] 10.0.0.1:80 10 0.003 200 abc' }],
  ['traefik json', json({ ClientAddr: '203.0.113.1:5', ClientHost: '203.0.113.1', DownstreamStatus: 200, Duration: 3_000_000, RequestMethod: 'GET', RequestPath: '/a', RequestProtocol: 'HTTP/1.1', RouterName: 'r@file', StartUTC: '2025-11-25T10:15:30.123Z', time: '2025-11-25T10:15:30Z', level: 'info', msg: '' })],
  ['traefik clf', { kind: 'text', line: '203.0.113.1 - - [25/Nov/2025:10:15:30 +0000] "GET /a HTTP/1.1" 200 10 "-" "curl/8" 1 "r@file" "http://10.0.0.1:80" 3ms' }],
  ['tyk analytics', json({ method: 'GET', host: 'x', path: '/a', raw_path: '/a', user_agent: 'curl/8', response_code: 200, api_key: 'abc', timestamp: '2025-11-25T10:15:30Z', api_id: 'a1', api_name: 'x', request_time: 3, ip_address: '203.0.113.1' })],
  ['tyk logfmt', { kind: 'text', line: 'time="Nov 25 10:15:30" level=info api_id=a1 client_ip=203.0.113.1 method=GET path=/a prefix=access-log status=200' }],
  ['tyk json access log', json({ time: '2025-11-25T10:15:30Z', level: 'info', prefix: 'access-log', api_id: 'a1', client_ip: '203.0.113.1', method: 'GET', path: '/a', remote_addr: '203.0.113.1', status: 200, latency_total: 3 })],
  ['keycloak', json({ time: 1_764_065_730_000, type: 'LOGIN', realmId: 'demo', clientId: 'web', userId: 'u', sessionId: 's', ipAddress: '203.0.113.1' })],
  ['auth0', json({ date: '2025-11-25T10:15:30.123Z', type: 's', log_id: '900', client_id: 'c', user_id: 'u', ip: '203.0.113.1' })],
  ['okta', json({ eventType: 'user.authentication.sso', uuid: 'u-1', published: '2025-11-25T10:15:30.123Z', actor: { id: 'a' } })],
  ['canonical', json({ ts: 1_764_065_730_000, gateway: 'kong', requestId: 'r', method: 'GET', path: '/a', route: null, host: null, status: 200, latencyMs: 3, clientIp: null, userAgent: null, tokenFp: null, tokenKind: null, claims: null, authError: null, deployment: none, consumerId: null })],
];

describe('aws-apigw parser: detection', () => {
  it('claims every documented sample', () => {
    for (const line of SAMPLES) expect(awsApigwParser.detect(recordOf(line)), line).toBe(true);
  });

  it.each(OTHERS)('does not claim a %s record', (_name, record) => {
    expect(awsApigwParser.detect(record)).toBe(false);
  });

  it('is the only gateway parser that claims the documented samples', () => {
    for (const line of SAMPLES) {
      const claimants = GATEWAY_PARSERS.filter((p) => p.detect(recordOf(line))).map((p) => p.format);
      expect(claimants, line).toEqual(['aws-apigw']);
    }
  });
});

describe('aws-apigw parser: bad input', () => {
  const base = { requestId: 'r-1', httpMethod: 'GET', requestTime: '25/Nov/2025:10:25:00 +0000', status: '200' };

  it('rejects a text line as a format mismatch', () => {
    expect(awsApigwParser.parse({ kind: 'text', line: '1.2.3.4 - - [25/Nov/2025:10:25:00 +0000] "GET / HTTP/1.1" 200 1 r-1' })).toMatchObject({ ok: false, reason: 'format_mismatch' });
  });

  it('rejects a record without a status or a time as missing_field', () => {
    expect(awsApigwParser.parse(json({ ...base, status: '-' }))).toMatchObject({ ok: false, reason: 'missing_field' });
    expect(awsApigwParser.parse(json({ ...base, requestTime: undefined }))).toMatchObject({ ok: false, reason: 'missing_field' });
  });

  it('rejects wrong types as invalid_field', () => {
    expect(awsApigwParser.parse(json({ ...base, status: { code: 200 } }))).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(awsApigwParser.parse(json({ ...base, status: '2OO' }))).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(awsApigwParser.parse(json({ ...base, status: '42' }))).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(awsApigwParser.parse(json({ ...base, httpMethod: ['GET'] }))).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('rejects unreadable times as invalid_timestamp', () => {
    expect(awsApigwParser.parse(json({ ...base, requestTime: '2025-13-45' }))).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
    expect(awsApigwParser.parse(json({ ...base, requestTimeEpoch: '17' }))).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });

  it('rejects a truncated CloudWatch log event message as invalid_json', () => {
    const message = SAMPLES[0]!.slice(0, 60);
    expect(awsApigwParser.parse(json({ id: '1', timestamp: 1_764_066_300_000, message }))).toMatchObject({ ok: false, reason: 'invalid_json' });
  });

  it('rejects a CloudWatch subscription message that batches several requests', () => {
    const event = { id: '1', timestamp: 1, message: SAMPLES[0]! };
    expect(awsApigwParser.parse(json({ messageType: 'DATA_MESSAGE', logGroup: 'g', logEvents: [event, event] }))).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('never throws, whatever the values', () => {
    const odd: unknown[] = [null, 0, -1, 1e308, NaN, '', '-', 'x'.repeat(10_000), [], {}, { a: { b: 1 } }, true];
    for (const v of odd) {
      for (const key of ['status', 'requestTime', 'requestTimeEpoch', 'httpMethod', 'path', 'ip', 'authorizer', 'error', 'message', 'logEvents']) {
        const r = awsApigwParser.parse(json({ ...base, [key]: v }));
        expect(typeof r.ok).toBe('boolean');
      }
    }
  });

  it('keeps a logged API key out of the rejection detail', () => {
    const r = awsApigwParser.parse(json({ ...base, 'identity.apiKey': 'tw_test_key_secret_1', status: 'bad' }));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('tw_test_key_secret_1');
  });
});

describe('aws-apigw renderer round trip', () => {
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
    ['an unsigned JWT', { rawToken: makeJwt({ jti: 'jti-none', sub: 'mallory', exp: 1_795_000_000 }, 'none') }],
  ];

  for (const variant of awsApigwRenderer.variants) {
    it.each(CASES)(`gives back ${variant} requests with %s`, (_name, overrides) => {
      const req = syntheticRequest(overrides);
      const line = awsApigwRenderer.render(req, variant);
      const record = recordOf(line);
      expect(awsApigwParser.detect(record)).toBe(true);
      const e = eventOf(record);
      // The REST format logs requestTimeEpoch in ms; the HTTP format's requestTime has whole seconds.
      if (variant === 'rest') expect(e.ts).toBe(req.ts);
      else expect(e.ts).toBe(Math.floor(req.ts / 1000) * 1000);
      expect(e).toMatchObject({ gateway: 'aws-apigw', requestId: req.requestId, status: req.status, method: req.method, path: req.path, clientIp: req.clientIp, userAgent: req.userAgent, latencyMs: req.latencyMs });

      expect(awsApigwRenderer.carriesAuthorization(variant)).toBe(false);
      const accepted = req.rawToken !== null && req.status !== 401;
      if (req.tokenIn === 'api_key_header' && req.rawToken !== null) {
        // REST logs the key's id (HTTP APIs have no API keys); never the key.
        expect(e.tokenKind).toBe(variant === 'rest' ? 'api_key' : null);
        expect(e.tokenFp === null || e.tokenFp !== fpOf(req.rawToken)).toBe(true);
      } else if (accepted && req.tokenIn === 'authorization') {
        // An authorizer that accepted the JWT exposes its claims; the token itself is never logged.
        const claims = JSON.parse(Buffer.from(req.rawToken!.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string; sub: string };
        expect(e).toMatchObject({ tokenFp: null, tokenKind: 'jwt', claims: { jti: claims.jti, sub: claims.sub } });
      } else {
        expect(e.tokenFp).toBeNull();
      }
      if (req.status === 401) expect(e.authError).toBe(req.rawToken !== null && req.wwwAuthenticate ? 'expired' : 'missing');
      else expect(e.authError).toBeNull();

      const track = variant === 'http' && req.track === 'stable' ? null : req.track;
      expect(e.deployment).toEqual({ service: 'a1b2c3d4e5', version: variant === 'rest' ? req.version : null, track });

      if (req.rawToken !== null) {
        const out = JSON.stringify(e);
        expect(out).not.toContain(req.rawToken);
        const signature = req.rawToken.split('.')[2];
        if (signature) expect(out).not.toContain(signature);
      }
    });
  }
});

describe('aws-apigw parser: keys by position', () => {
  it('reads claims and groups by their keys when records write them in different orders', () => {
    const claimsOf = (value: Record<string, unknown>): unknown => {
      const result = awsApigwParser.parse(json(value));
      return result.ok && result.event ? [result.event.loggedClaims, result.event.requestId, result.event.method] : result;
    };
    const flat = { requestId: 'r1', httpMethod: 'GET', requestTime: '25/Nov/2025:10:00:00 +0000', status: '200', 'authorizer.claims.sub': 'u1', jwtJti: 'j1' };
    const swapped = { jwtJti: 'j2', 'authorizer.claims.sub': 'u2', requestId: 'r2', httpMethod: 'PUT', requestTime: '25/Nov/2025:10:00:00 +0000', status: '200' };
    const grouped = { jwtSub: 'u3', request: { requestId: 'r3', requestTime: '25/Nov/2025:10:00:00 +0000' }, http: { httpMethod: 'POST', status: 200 }, authorizer: { claims: { jti: 'j3' } } };
    const regrouped = { http: { status: 200, httpMethod: 'DELETE' }, authorizer: { claims: { sub: 'u4' } }, request: { requestTime: '25/Nov/2025:10:00:00 +0000', requestId: 'r4' } };
    const claims = (jti: string | null, sub: string): Record<string, unknown> => ({ jti, sub, sid: null, clientId: null, iss: null, aud: null, exp: null, iat: null });
    for (let i = 0; i < 2; i++) {
      expect(claimsOf(flat)).toEqual([claims('j1', 'u1'), 'r1', 'GET']);
      expect(claimsOf(swapped)).toEqual([claims('j2', 'u2'), 'r2', 'PUT']);
      expect(awsApigwParser.detect(json(grouped))).toBe(true);
      expect(claimsOf(grouped)).toEqual([claims('j3', 'u3'), 'r3', 'POST']);
      expect(awsApigwParser.detect(json(regrouped))).toBe(true);
      expect(claimsOf(regrouped)).toEqual([claims(null, 'u4'), 'r4', 'DELETE']);
    }
  });
});
