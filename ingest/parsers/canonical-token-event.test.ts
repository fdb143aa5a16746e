import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenEventSchema, type TokenEvent } from '../model.js';
import { DLQ_REASONS, type ParseResult } from '../parse-result.js';
import type { JsonObject } from '../fields.js';
import { canonicalTokenEventParser } from './canonical-token-event.js';
import { keycloakParser } from './keycloak.js';
import { auth0Parser } from './auth0.js';
import { oktaParser } from './okta.js';

const samples = (idp: string): JsonObject[] =>
  readFileSync(new URL(`../../test/fixtures/${idp}/samples.jsonl`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonObject);

// One record of each gateway's JSON access log, to prove detect() leaves them alone.
const GATEWAY_RECORDS: JsonObject[] = [
  { request: { method: 'GET', uri: '/orders', headers: { host: 'api' } }, response: { status: 200 }, latencies: { request: 12, kong: 1, proxy: 11 }, client_ip: '203.0.113.10', started_at: 1732012345678 },
  { start_time: '2024-11-19T10:32:25.678Z', method: 'GET', path: '/orders', protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', duration: 12, 'x-request-id': 'c0ffee00-0000-4000-8000-000000000001' },
  { requestId: 'c0ffee00-0000-4000-8000-000000000002', ip: '203.0.113.10', requestTime: '19/Nov/2024:10:32:25 +0000', httpMethod: 'GET', resourcePath: '/orders', status: '200', protocol: 'HTTP/1.1' },
  { time_local: '19/Nov/2024:10:32:25 +0000', remote_addr: '203.0.113.10', request: 'GET /orders HTTP/1.1', status: 200, request_time: 0.012 },
  { ClientHost: '203.0.113.10', StartUTC: '2024-11-19T10:32:25.678Z', RequestMethod: 'GET', RequestPath: '/orders', DownstreamStatus: 200, Duration: 12000000 },
  { method: 'GET', path: '/orders', response_code: 200, api_key: 'made-up-key-id', timestamp: '2024-11-19T10:32:25.678Z', api_name: 'Orders', ip_address: '203.0.113.10' },
];

// Canonical records as ARCHITECTURE.md's TokenEvent, one per event type.
const REFRESHED: JsonObject = {
  ts: 1732012645678,
  idp: 'keycloak',
  type: 'refreshed',
  idpEventType: 'REFRESH_TOKEN',
  tokenId: 'at-2',
  refreshTokenId: 'rt-2',
  parentRefreshTokenId: 'rt-1',
  sessionId: 's-1',
  subject: 'u-1',
  clientId: 'orders-web',
  ip: '203.0.113.10',
  exp: 1732012945678,
  reason: null,
};
const RECORDS: JsonObject[] = [
  { ts: 1732012345678, type: 'issued', tokenId: 'at-1', refreshTokenId: 'rt-1', sessionId: 's-1', subject: 'u-1', clientId: 'orders-web', exp: '2024-11-19T10:37:25.678Z' },
  REFRESHED,
  { ts: '2024-11-19T10:40:00Z', idp: 'okta', type: 'revoked', refreshTokenId: 'rt-2' },
  { ts: 1732013000000, idp: 'auth0', type: 'logout', sessionId: 's-1', subject: 'u-1' },
  { ts: 1732013100000, idp: 'canonical', type: 'reuse_detected', refreshTokenId: 'rt-1', reason: 'refresh token presented twice' },
  { ts: 1732013200000, type: 'error', tokenId: 'at-9', reason: 'invalid_grant' },
];

function parsedEvent(result: ParseResult<TokenEvent>): TokenEvent {
  if (!result.ok || result.event === null) throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return tokenEventSchema.parse(result.event);
}

const empty = {
  idpEventType: null,
  tokenId: null,
  refreshTokenId: null,
  parentRefreshTokenId: null,
  sessionId: null,
  subject: null,
  clientId: null,
  ip: null,
  exp: null,
  reason: null,
};

describe('canonical token event parser', () => {
  it('a complete TokenEvent passes through unchanged', () => {
    expect(parsedEvent(canonicalTokenEventParser.parse(REFRESHED))).toEqual(REFRESHED);
  });

  it('ISO-8601 times become epoch ms and a missing idp becomes canonical', () => {
    expect(parsedEvent(canonicalTokenEventParser.parse(RECORDS[0]!))).toEqual({
      ...empty,
      ts: 1732012345678,
      idp: 'canonical',
      type: 'issued',
      tokenId: 'at-1',
      refreshTokenId: 'rt-1',
      sessionId: 's-1',
      subject: 'u-1',
      clientId: 'orders-web',
      exp: Date.parse('2024-11-19T10:37:25.678Z'),
    });
    expect(parsedEvent(canonicalTokenEventParser.parse(RECORDS[2]!))).toEqual({
      ...empty,
      ts: Date.parse('2024-11-19T10:40:00Z'),
      idp: 'okta',
      type: 'revoked',
      refreshTokenId: 'rt-2',
    });
  });

  it.each(RECORDS.map((r) => [r.type, r]))('a %s record parses and keeps its reason', (_type, record) => {
    const parsed = parsedEvent(canonicalTokenEventParser.parse(record));
    expect(parsed.type).toBe(record.type);
    expect(parsed.reason).toBe(record.reason ?? null);
  });

  it('detect claims canonical records with an identifier and nothing else', () => {
    for (const record of RECORDS) expect(canonicalTokenEventParser.detect(record)).toBe(true);
    expect(canonicalTokenEventParser.detect({ ts: 1732012345678, type: 'issued', subject: 'u-1' })).toBe(false);
    expect(canonicalTokenEventParser.detect({ type: 'issued', tokenId: 'at-1' })).toBe(false);
    expect(canonicalTokenEventParser.detect({ ts: 1732012345678, type: 'ISSUED', tokenId: 'at-1' })).toBe(false);
    for (const record of [...samples('keycloak'), ...samples('auth0'), ...samples('okta'), ...GATEWAY_RECORDS]) {
      expect(canonicalTokenEventParser.detect(record)).toBe(false);
    }
  });

  it('no IdP parser claims a canonical record', () => {
    for (const record of RECORDS) {
      expect([keycloakParser, auth0Parser, oktaParser].filter((p) => p.detect(record)).map((p) => p.format)).toEqual([]);
    }
  });

  it.each([
    ['a missing ts', { type: 'issued', tokenId: 'a' }, 'missing_field'],
    ['a null type', { ts: 1732012345678, type: null, tokenId: 'a' }, 'missing_field'],
    ['a type outside the model', { ts: 1732012345678, type: 'expired', tokenId: 'a' }, 'invalid_field'],
    ['an idp outside the model', { ts: 1732012345678, idp: 'ping', type: 'issued', tokenId: 'a' }, 'invalid_field'],
    ['a tokenId that is a number', { ts: 1732012345678, type: 'issued', tokenId: 42 }, 'invalid_field'],
    ['a ts that is a boolean', { ts: true, type: 'issued', tokenId: 'a' }, 'invalid_field'],
    ['a ts in epoch seconds', { ts: 1732012345, type: 'issued', tokenId: 'a' }, 'invalid_timestamp'],
    ['a ts with a fraction of a ms', { ts: 1732012345678.5, type: 'issued', tokenId: 'a' }, 'invalid_timestamp'],
    ['a ts that is not ISO-8601', { ts: 'yesterday', type: 'issued', tokenId: 'a' }, 'invalid_timestamp'],
    ['an exp in the year 2500', { ts: 1732012345678, type: 'issued', tokenId: 'a', exp: '2500-01-01T00:00:00Z' }, 'invalid_timestamp'],
    ['a misspelt key', { ts: 1732012345678, type: 'issued', token_id: 'a' }, 'invalid_field'],
    ['a tokenId longer than the schema allows', { ts: 1732012345678, type: 'issued', tokenId: 'x'.repeat(5000) }, 'invalid_field'],
  ] as const)('%s is rejected with a specific reason', (_name, record, reason) => {
    expect(canonicalTokenEventParser.parse(record as JsonObject)).toMatchObject({ ok: false, reason });
    expect(DLQ_REASONS).toContain(reason);
  });

  it('a reason longer than the schema allows is truncated, not rejected', () => {
    const parsed = parsedEvent(canonicalTokenEventParser.parse({ ...RECORDS[5]!, reason: 'r'.repeat(5000) }));
    expect(parsed.reason).toHaveLength(4096);
  });

  it('never throws on mangled records and always returns a result the DLQ understands', () => {
    const hostile: unknown[] = [undefined, null, 0, -1, 1e300, '', '-', [], {}, true, 'x'.repeat(5000), '\u0000', { a: 1 }];
    for (const record of RECORDS) {
      for (const key of [...Object.keys(REFRESHED), 'extra']) {
        for (const value of hostile) {
          const result = canonicalTokenEventParser.parse({ ...record, [key]: value });
          if (result.ok && result.event !== null) expect(() => tokenEventSchema.parse(result.event)).not.toThrow();
          else if (result.ok) throw new Error('the canonical parser never skips');
          else expect(DLQ_REASONS).toContain(result.reason);
        }
      }
    }
  });
});
