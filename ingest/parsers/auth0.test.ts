import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenEventSchema, type TokenEvent } from '../model.js';
import { DLQ_REASONS, type ParseResult } from '../parse-result.js';
import type { JsonObject } from '../fields.js';
import { auth0Renderer } from '../generator/formats/auth0.js';
import { auth0Parser } from './auth0.js';
import { keycloakParser } from './keycloak.js';
import { oktaParser } from './okta.js';
import { canonicalTokenEventParser } from './canonical-token-event.js';

const samples = (idp: string): JsonObject[] =>
  readFileSync(new URL(`../../test/fixtures/${idp}/samples.jsonl`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonObject);

const AUTH0 = samples('auth0');

// One record of each gateway's JSON access log, to prove detect() leaves them alone.
const GATEWAY_RECORDS: JsonObject[] = [
  { request: { method: 'GET', uri: '/orders', headers: { host: 'api' } }, response: { status: 200 }, latencies: { request: 12, kong: 1, proxy: 11 }, client_ip: '203.0.113.10', started_at: 1732012345678 },
  { start_time: '2024-11-19T10:32:25.678Z', method: 'GET', path: '/orders', protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', duration: 12, 'x-request-id': 'c0ffee00-0000-4000-8000-000000000001' },
  { requestId: 'c0ffee00-0000-4000-8000-000000000002', ip: '203.0.113.10', requestTime: '19/Nov/2024:10:32:25 +0000', httpMethod: 'GET', resourcePath: '/orders', status: '200', protocol: 'HTTP/1.1' },
  { time_local: '19/Nov/2024:10:32:25 +0000', remote_addr: '203.0.113.10', request: 'GET /orders HTTP/1.1', status: 200, request_time: 0.012 },
  { ClientHost: '203.0.113.10', StartUTC: '2024-11-19T10:32:25.678Z', RequestMethod: 'GET', RequestPath: '/orders', DownstreamStatus: 200, Duration: 12000000 },
  { method: 'GET', path: '/orders', response_code: 200, api_key: 'made-up-key-id', timestamp: '2024-11-19T10:32:25.678Z', api_name: 'Orders', ip_address: '203.0.113.10' },
];

const CANONICAL_RECORD: JsonObject = { ts: 1732012345678, idp: 'canonical', type: 'issued', tokenId: 'jti-1' };

const CLIENT = 'kQ3nX8vT2bR7yP1mW5cZ9dF4gH6jL0sA';
const USER = 'auth0|65f0c1d2e3a4b5c6d7e8f901';
const SESSION = 'Vq3xT9kLm2Rp8sW1yZ4bN7cD0fG5hJ6e';

function event(fields: Partial<TokenEvent> & Pick<TokenEvent, 'ts' | 'type' | 'idpEventType'>): TokenEvent {
  return {
    idp: 'auth0',
    tokenId: null,
    refreshTokenId: null,
    parentRefreshTokenId: null,
    sessionId: null,
    subject: null,
    clientId: null,
    ip: null,
    exp: null,
    reason: null,
    ...fields,
  };
}

function parsedEvent(result: ParseResult<TokenEvent>): TokenEvent {
  if (!result.ok || result.event === null) throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return tokenEventSchema.parse(result.event);
}

// Line number in samples.jsonl -> the event its source describes.
const EXPECTED: Record<number, TokenEvent> = {
  1: event({ ts: Date.parse('2024-11-19T10:32:25.678Z'), type: 'issued', idpEventType: 'seacft', tokenId: 'f1e2d3c4b5a69788', sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10' }),
  2: event({ ts: Date.parse('2024-11-19T10:33:00.120Z'), type: 'issued', idpEventType: 'seccft', tokenId: 'a9b8c7d6e5f40312', clientId: 'Zm4bV7nQ1wE8rT3yU6iO9pA2sD5fG0hJ', ip: '10.20.30.40' }),
  3: event({
    ts: Date.parse('2024-11-19T11:32:25.678Z'), type: 'refreshed', idpEventType: 'sertft', tokenId: '0a1b2c3d4e5f6071',
    parentRefreshTokenId: 'rtf_7Hk2Lm9Qx4#1', sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10',
  }),
  4: event({ ts: Date.parse('2024-11-19T12:00:00.000Z'), type: 'error', idpEventType: 'fertft', clientId: CLIENT, ip: '198.51.100.77', reason: 'Unknown or invalid refresh token.' }),
  5: event({
    ts: Date.parse('2024-11-19T12:05:00.000Z'), type: 'reuse_detected', idpEventType: 'ferrt', refreshTokenId: 'rtf_7Hk2Lm9Qx4#1',
    subject: USER, clientId: CLIENT, ip: '198.51.100.77', reason: 'Reused rotating refresh token detected, revoked the family',
  }),
  6: event({ ts: Date.parse('2024-11-19T12:10:00.000Z'), type: 'revoked', idpEventType: 'srrt', refreshTokenId: 'dcr_3Xy7Pq1Rs5Tu9Vw2', sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10' }),
  7: event({ ts: Date.parse('2024-11-19T13:00:00.000Z'), type: 'logout', idpEventType: 'slo', sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10' }),
  10: event({ ts: Date.parse('2024-11-19T10:40:00.000Z'), type: 'error', idpEventType: 'feacft', clientId: CLIENT, ip: '198.51.100.77', reason: 'Invalid authorization code' }),
  12: event({ ts: Date.parse('2024-11-19T14:00:00.000Z'), type: 'issued', idpEventType: 'sepft', tokenId: 'b1c2d3e4f5a60718', subject: 'auth0|65f0c1d2e3a4b5c6d7e8f902', clientId: 'Qw1eR2tY3uI4oP5aS6dF7gH8jK9lZ0xC', ip: '192.0.2.15' }),
};

// Line number -> the type code named in the skip reason.
const SKIPPED: Record<number, string> = { 8: 'auth0 s ', 9: 'auth0 ss ', 11: 'auth0 flo ' };

describe('auth0 parser', () => {
  it('has an expectation for every documented sample', () => {
    const covered = [...Object.keys(EXPECTED), ...Object.keys(SKIPPED)].map(Number).sort((a, b) => a - b);
    expect(covered).toEqual(AUTH0.map((_, i) => i + 1));
  });

  it.each(Object.entries(EXPECTED))('sample line %s parses to the event its source describes', (line, expected) => {
    expect(parsedEvent(auth0Parser.parse(AUTH0[Number(line) - 1]!))).toEqual(expected);
  });

  it.each(Object.entries(SKIPPED))('sample line %s carries no token event and is skipped', (line, what) => {
    expect(auth0Parser.parse(AUTH0[Number(line) - 1]!)).toEqual({ ok: true, event: null, skipped: expect.stringMatching(/^[a-z_]+$/), detail: expect.stringContaining(what) });
  });

  it('a Log Streams envelope and a Management API object of the same log parse alike', () => {
    const envelope = AUTH0[0]!;
    expect(auth0Parser.parse(envelope.data as JsonObject)).toEqual(auth0Parser.parse(envelope));
  });

  it('reuse detection names the reused token and the refresh names its parent the same way', () => {
    const refreshed = parsedEvent(auth0Parser.parse(AUTH0[2]!));
    const reuse = parsedEvent(auth0Parser.parse(AUTH0[4]!));
    expect(reuse.refreshTokenId).toBe(refreshed.parentRefreshTokenId);
  });

  it('a refresh without a rotation family names no parent', () => {
    const record = structuredClone(AUTH0[2]!);
    delete ((record.data as JsonObject).details as JsonObject).familyId;
    expect(parsedEvent(auth0Parser.parse(record)).parentRefreshTokenId).toBeNull();
  });

  it('detect claims every Auth0 sample and no Keycloak, Okta, canonical or gateway record', () => {
    for (const record of AUTH0) expect(auth0Parser.detect(record)).toBe(true);
    for (const record of [...samples('keycloak'), ...samples('okta'), ...GATEWAY_RECORDS, CANONICAL_RECORD]) {
      expect(auth0Parser.detect(record)).toBe(false);
    }
  });

  it('no other IdP parser claims an Auth0 sample', () => {
    for (const record of AUTH0) {
      expect([keycloakParser, oktaParser, canonicalTokenEventParser].filter((p) => p.detect(record)).map((p) => p.format)).toEqual([]);
    }
  });

  it.each([
    ['a missing type', { date: '2024-11-19T10:32:25.678Z', log_id: '1' }, 'missing_field'],
    ['a missing date', { type: 'slo', log_id: '1' }, 'missing_field'],
    ['an envelope without data', { log_id: '1', data: null }, 'missing_field'],
    ['an envelope whose data is a string', { log_id: '1', data: 'slo' }, 'invalid_field'],
    ['a date that is not ISO-8601', { type: 'slo', date: 'Tuesday', log_id: '1' }, 'invalid_timestamp'],
    ['a type that is a number', { type: 7, date: '2024-11-19T10:32:25.678Z', log_id: '1' }, 'invalid_field'],
    ['an upper-case type', { type: 'SLO', date: '2024-11-19T10:32:25.678Z', log_id: '1' }, 'invalid_field'],
    ['details that are an array', { type: 'slo', date: '2024-11-19T10:32:25.678Z', log_id: '1', details: [] }, 'invalid_field'],
    ['a tokenCounter that is not a number', { type: 'ferrt', date: '2024-11-19T10:32:25.678Z', log_id: '1', details: { familyId: 'f', tokenCounter: 'first' } }, 'invalid_field'],
    ['a user_id that is an object', { type: 'slo', date: '2024-11-19T10:32:25.678Z', log_id: '1', user_id: { id: 'u' } }, 'invalid_field'],
    ['a session id longer than the schema allows', { type: 'slo', date: '2024-11-19T10:32:25.678Z', log_id: '1', details: { session_id: 's'.repeat(5000) } }, 'invalid_field'],
  ] as const)('%s is rejected with a specific reason', (_name, record, reason) => {
    expect(auth0Parser.parse(record as JsonObject)).toMatchObject({ ok: false, reason });
    expect(DLQ_REASONS).toContain(reason);
  });

  it('a type code a newer Auth0 adds is skipped as unknown_event_type, not dead-lettered', () => {
    const unknown = { ok: true, event: null, skipped: 'unknown_event_type', detail: 'unknown_event_type' };
    expect(auth0Parser.parse({ type: 'sxyz', date: '2024-11-19T10:32:25.678Z', log_id: '1' })).toEqual(unknown);
    expect(auth0Parser.parse({ log_id: '1', data: { type: 'sxyz', date: '2024-11-19T10:32:25.678Z', log_id: '1' } })).toEqual(unknown);
  });

  it('a log of an unknown type code that is otherwise broken is still rejected', () => {
    expect(auth0Parser.parse({ type: 'sxyz', date: 'Tuesday', log_id: '1' })).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
    expect(auth0Parser.parse({ type: 'sxyz', date: '2024-11-19T10:32:25.678Z', log_id: '1', details: [] })).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('a description longer than the schema allows is truncated, not rejected', () => {
    const record = structuredClone(AUTH0[3]!);
    (record.data as JsonObject).description = 'd'.repeat(5000);
    expect(parsedEvent(auth0Parser.parse(record)).reason).toHaveLength(4096);
  });

  describe('round trip through the renderer', () => {
    const base = { ts: 1732012345678, idp: 'auth0' as const, ip: '203.0.113.10', exp: null, reason: null };
    const cases: [string, TokenEvent, TokenEvent][] = [
      ['issued (authorization code)', tokenEvent({ ...base, type: 'issued', tokenId: 'jti-1', refreshTokenId: 'not-logged', sessionId: 's-1', subject: USER, clientId: CLIENT }), tokenEvent({ ...base, type: 'issued', idpEventType: 'seacft', tokenId: 'jti-1', sessionId: 's-1', subject: USER, clientId: CLIENT })],
      ['issued (client credentials)', tokenEvent({ ...base, type: 'issued', tokenId: 'jti-2', clientId: CLIENT }), tokenEvent({ ...base, type: 'issued', idpEventType: 'seccft', tokenId: 'jti-2', clientId: CLIENT })],
      ['refreshed', tokenEvent({ ...base, type: 'refreshed', tokenId: 'jti-3', refreshTokenId: 'fam#4', parentRefreshTokenId: 'fam#3', sessionId: 's-1', subject: USER, clientId: CLIENT }), tokenEvent({ ...base, type: 'refreshed', idpEventType: 'sertft', tokenId: 'jti-3', parentRefreshTokenId: 'fam#3', sessionId: 's-1', subject: USER, clientId: CLIENT })],
      ['revoked', tokenEvent({ ...base, type: 'revoked', tokenId: 'not-logged', refreshTokenId: 'dcr_1', sessionId: 's-1', subject: USER, clientId: CLIENT }), tokenEvent({ ...base, type: 'revoked', idpEventType: 'srrt', refreshTokenId: 'dcr_1', sessionId: 's-1', subject: USER, clientId: CLIENT })],
      ['logout', tokenEvent({ ...base, type: 'logout', sessionId: 's-1', subject: USER, clientId: CLIENT }), tokenEvent({ ...base, type: 'logout', idpEventType: 'slo', sessionId: 's-1', subject: USER, clientId: CLIENT })],
      ['reuse_detected', tokenEvent({ ...base, type: 'reuse_detected', refreshTokenId: 'fam#3', subject: USER, clientId: CLIENT, reason: 'Reused rotating refresh token detected, revoked the family' }), tokenEvent({ ...base, type: 'reuse_detected', idpEventType: 'ferrt', refreshTokenId: 'fam#3', subject: USER, clientId: CLIENT, reason: 'Reused rotating refresh token detected, revoked the family' })],
      ['error', tokenEvent({ ...base, type: 'error', refreshTokenId: 'fam#3', sessionId: 's-1', clientId: CLIENT, reason: 'Unknown or invalid refresh token.' }), tokenEvent({ ...base, type: 'error', idpEventType: 'fertft', sessionId: 's-1', clientId: CLIENT, reason: 'Unknown or invalid refresh token.' })],
    ];
    it.each(cases)('%s keeps every field an Auth0 log carries (no expiry, no new refresh-token id)', (_name, input, expected) => {
      const line = auth0Renderer.render({ ...input, exp: 1732012645678 });
      const record = JSON.parse(line) as JsonObject;
      expect(auth0Parser.detect(record)).toBe(true);
      expect([keycloakParser, oktaParser, canonicalTokenEventParser].filter((p) => p.detect(record))).toEqual([]);
      expect(parsedEvent(auth0Parser.parse(record))).toEqual(expected);
    });
  });
});

function tokenEvent(fields: Partial<TokenEvent> & Pick<TokenEvent, 'ts' | 'type'>): TokenEvent {
  return event({ idpEventType: null, ...fields });
}
