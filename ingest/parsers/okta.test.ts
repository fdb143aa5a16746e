import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenEventSchema, type TokenEvent } from '../model.js';
import { DLQ_REASONS, type ParseResult } from '../parse-result.js';
import type { JsonObject } from '../fields.js';
import { oktaRenderer } from '../generator/formats/okta.js';
import { oktaParser } from './okta.js';
import { keycloakParser } from './keycloak.js';
import { auth0Parser } from './auth0.js';
import { canonicalTokenEventParser } from './canonical-token-event.js';

const samples = (idp: string): JsonObject[] =>
  readFileSync(new URL(`../../test/fixtures/${idp}/samples.jsonl`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonObject);

const OKTA = samples('okta');

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

const CLIENT = '0oa1orderswebX5s7d9';
const USER = '00u1alice9aB8cD7e6';
const SESSION = '102xYz9AbCdEfGhIjKlMnOp';

function event(fields: Partial<TokenEvent> & Pick<TokenEvent, 'ts' | 'type' | 'idpEventType'>): TokenEvent {
  return {
    idp: 'okta',
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

const at = (iso: string): number => Date.parse(iso);

// Line number in samples.jsonl -> the event its source describes.
const EXPECTED: Record<number, TokenEvent> = {
  1: event({
    ts: at('2024-11-19T10:32:25.678Z'), type: 'issued', idpEventType: 'app.oauth2.as.token.grant.access_token', tokenId: 'AT.k3Jd9sLq0Wm2xVb7Yt5Rn1Pc8Ze4Ua6',
    sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10', exp: at('2024-11-19T11:32:25.000Z'),
  }),
  2: event({
    ts: at('2024-11-19T10:32:25.690Z'), type: 'issued', idpEventType: 'app.oauth2.as.token.grant.refresh_token', refreshTokenId: 'oar1ordersRt0001xY',
    sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10',
  }),
  3: event({
    ts: at('2024-11-19T11:32:25.000Z'), type: 'refreshed', idpEventType: 'app.oauth2.token.grant.access_token', tokenId: 'AT.p8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz',
    sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10', exp: at('2024-11-19T12:32:25.000Z'),
  }),
  4: event({
    ts: at('2024-11-19T11:32:25.010Z'), type: 'refreshed', idpEventType: 'app.oauth2.as.token.grant.refresh_token', refreshTokenId: 'oar1ordersRt0002xY',
    sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10',
  }),
  6: event({
    ts: at('2024-11-19T12:00:00.000Z'), type: 'error', idpEventType: 'app.oauth2.as.token.grant', sessionId: SESSION, clientId: CLIENT,
    ip: '198.51.100.77', reason: 'invalid_grant: The refresh token is invalid or expired.',
  }),
  7: event({
    ts: at('2024-11-19T12:10:00.000Z'), type: 'revoked', idpEventType: 'app.oauth2.as.token.revoke', refreshTokenId: 'oar1ordersRt0002xY',
    sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '203.0.113.10',
  }),
  8: event({
    ts: at('2024-11-19T12:05:00.000Z'), type: 'reuse_detected', idpEventType: 'app.oauth2.as.token.detect_reuse', refreshTokenId: 'oar1ordersRt0001xY',
    sessionId: SESSION, subject: USER, clientId: CLIENT, ip: '198.51.100.77', reason: 'Refresh token reuse detected',
  }),
  9: event({ ts: at('2024-11-19T13:00:00.000Z'), type: 'logout', idpEventType: 'user.session.end', sessionId: SESSION, subject: USER, ip: '203.0.113.10' }),
  13: event({ ts: at('2024-11-19T14:00:00.000Z'), type: 'revoked', idpEventType: 'app.oauth2.token.revoke.implicit.user', subject: USER, ip: '192.0.2.200' }),
};

// Line number -> the event type named in the skip reason.
const SKIPPED: Record<number, string> = {
  5: 'app.oauth2.as.token.grant.id_token',
  10: 'user.session.start',
  11: 'policy.evaluate_sign_on',
  12: 'app.oauth2.as.authorize.code',
};

describe('okta parser', () => {
  it('has an expectation for every documented sample', () => {
    const covered = [...Object.keys(EXPECTED), ...Object.keys(SKIPPED)].map(Number).sort((a, b) => a - b);
    expect(covered).toEqual(OKTA.map((_, i) => i + 1));
  });

  it.each(Object.entries(EXPECTED))('sample line %s parses to the event its source describes', (line, expected) => {
    expect(parsedEvent(oktaParser.parse(OKTA[Number(line) - 1]!))).toEqual(expected);
  });

  it.each(Object.entries(SKIPPED))('sample line %s carries no token event and is skipped', (line, what) => {
    expect(oktaParser.parse(OKTA[Number(line) - 1]!)).toEqual({ ok: true, event: null, skipped: expect.stringMatching(/^[a-z_]+$/), detail: expect.stringContaining(what) });
  });

  it('an implicit revocation does not take the admin session for the tokens session', () => {
    const revoked = parsedEvent(oktaParser.parse(OKTA[12]!));
    expect(OKTA[12]!.authenticationContext).toMatchObject({ externalSessionId: '102admin0SessionQq' });
    expect(revoked.sessionId).toBeNull();
  });

  it('a request without an Okta session ("unknown") names no session', () => {
    const record = structuredClone(OKTA[0]!);
    (record.authenticationContext as JsonObject).externalSessionId = 'unknown';
    expect(parsedEvent(oktaParser.parse(record)).sessionId).toBeNull();
  });

  it('a failed refresh-token grant is an error, not a refresh', () => {
    const record = structuredClone(OKTA[3]!);
    record.outcome = { result: 'FAILURE', reason: 'invalid_grant' };
    expect(parsedEvent(oktaParser.parse(record))).toMatchObject({ type: 'error', refreshTokenId: 'oar1ordersRt0002xY', reason: 'invalid_grant' });
  });

  it('detect claims every Okta sample and no Keycloak, Auth0, canonical or gateway record', () => {
    for (const record of OKTA) expect(oktaParser.detect(record)).toBe(true);
    for (const record of [...samples('keycloak'), ...samples('auth0'), ...GATEWAY_RECORDS, CANONICAL_RECORD]) {
      expect(oktaParser.detect(record)).toBe(false);
    }
  });

  it('no other IdP parser claims an Okta sample', () => {
    for (const record of OKTA) {
      expect([keycloakParser, auth0Parser, canonicalTokenEventParser].filter((p) => p.detect(record)).map((p) => p.format)).toEqual([]);
    }
  });

  it.each([
    ['a missing eventType', { published: '2024-11-19T10:32:25.678Z' }, 'missing_field'],
    ['a missing published', { eventType: 'user.session.end' }, 'missing_field'],
    ['a published that is not ISO-8601', { eventType: 'user.session.end', published: '19 Nov 2024' }, 'invalid_timestamp'],
    ['an eventType that is not dotted', { eventType: 'logout', published: '2024-11-19T10:32:25.678Z' }, 'invalid_field'],
    ['an eventType that is an object', { eventType: { name: 'user.session.end' }, published: '2024-11-19T10:32:25.678Z' }, 'invalid_field'],
    ['a target that is an object', { eventType: 'app.oauth2.as.token.revoke', published: '2024-11-19T10:32:25.678Z', target: { id: 'x' } }, 'invalid_field'],
    ['a target entry that is a string', { eventType: 'app.oauth2.as.token.revoke', published: '2024-11-19T10:32:25.678Z', target: ['x'] }, 'invalid_field'],
    ['an expiry that is not ISO-8601', { eventType: 'app.oauth2.as.token.grant.access_token', published: '2024-11-19T10:32:25.678Z', target: [{ id: 'AT.1', type: 'access_token', detailEntry: { expires: 'soon' } }] }, 'invalid_timestamp'],
    ['a token id longer than the schema allows', { eventType: 'app.oauth2.as.token.revoke', published: '2024-11-19T10:32:25.678Z', target: [{ id: 'x'.repeat(5000), type: 'access_token' }] }, 'invalid_field'],
    ['an actor that is a string', { eventType: 'user.session.end', published: '2024-11-19T10:32:25.678Z', actor: 'alice' }, 'invalid_field'],
  ] as const)('%s is rejected with a specific reason', (_name, record, reason) => {
    expect(oktaParser.parse(record as JsonObject)).toMatchObject({ ok: false, reason });
    expect(DLQ_REASONS).toContain(reason);
  });

  it('a token event type a newer Okta adds is skipped as unknown_event_type, not dead-lettered', () => {
    const unknown = { ok: true, event: null, skipped: 'unknown_event_type', detail: 'unknown_event_type' };
    expect(oktaParser.parse({ eventType: 'app.oauth2.as.token.teleport', published: '2024-11-19T10:32:25.678Z' })).toEqual(unknown);
    expect(oktaParser.parse({ eventType: 'app.oauth2.token.grant.device_secret', published: '2024-11-19T10:32:25.678Z' })).toEqual(unknown);
  });

  it('a token event of an unknown type that is otherwise broken is still rejected', () => {
    expect(oktaParser.parse({ eventType: 'app.oauth2.as.token.teleport' })).toMatchObject({ ok: false, reason: 'missing_field' });
    expect(oktaParser.parse({ eventType: 'app.oauth2.as.token.teleport', published: '19 Nov 2024' })).toMatchObject({ ok: false, reason: 'invalid_timestamp' });
  });

  it('an outcome reason longer than the schema allows is truncated, not rejected', () => {
    const record = structuredClone(OKTA[5]!);
    (record.outcome as JsonObject).reason = 'r'.repeat(5000);
    expect(parsedEvent(oktaParser.parse(record)).reason).toHaveLength(4096);
  });

  describe('round trip through the renderer', () => {
    const base = { ts: 1732012345678, idp: 'okta' as const, ip: '203.0.113.10', exp: null, reason: null };
    const exp = 1732015945000;
    const cases: [string, TokenEvent, TokenEvent][] = [
      ['issued (access token)', tokenEvent({ ...base, type: 'issued', tokenId: 'AT.1', refreshTokenId: 'oar1', sessionId: 's-1', subject: USER, clientId: CLIENT, exp }), tokenEvent({ ...base, type: 'issued', idpEventType: 'app.oauth2.as.token.grant.access_token', tokenId: 'AT.1', sessionId: 's-1', subject: USER, clientId: CLIENT, exp })],
      ['issued (refresh token)', tokenEvent({ ...base, type: 'issued', refreshTokenId: 'oar1', sessionId: 's-1', subject: USER, clientId: CLIENT }), tokenEvent({ ...base, type: 'issued', idpEventType: 'app.oauth2.as.token.grant.refresh_token', refreshTokenId: 'oar1', sessionId: 's-1', subject: USER, clientId: CLIENT })],
      ['refreshed', tokenEvent({ ...base, type: 'refreshed', tokenId: 'AT.2', parentRefreshTokenId: 'oar1', sessionId: 's-1', subject: USER, clientId: CLIENT, exp }), tokenEvent({ ...base, type: 'refreshed', idpEventType: 'app.oauth2.as.token.grant.access_token', tokenId: 'AT.2', sessionId: 's-1', subject: USER, clientId: CLIENT, exp })],
      ['revoked', tokenEvent({ ...base, type: 'revoked', refreshTokenId: 'oar1', subject: USER, clientId: CLIENT }), tokenEvent({ ...base, type: 'revoked', idpEventType: 'app.oauth2.as.token.revoke', refreshTokenId: 'oar1', subject: USER, clientId: CLIENT })],
      ['logout', tokenEvent({ ...base, type: 'logout', sessionId: 's-1', subject: USER, clientId: CLIENT }), tokenEvent({ ...base, type: 'logout', idpEventType: 'user.session.end', sessionId: 's-1', subject: USER })],
      ['reuse_detected', tokenEvent({ ...base, type: 'reuse_detected', refreshTokenId: 'oar1', sessionId: 's-1', subject: USER, clientId: CLIENT, reason: 'Refresh token reuse detected' }), tokenEvent({ ...base, type: 'reuse_detected', idpEventType: 'app.oauth2.as.token.detect_reuse', refreshTokenId: 'oar1', sessionId: 's-1', subject: USER, clientId: CLIENT, reason: 'Refresh token reuse detected' })],
      ['error', tokenEvent({ ...base, type: 'error', refreshTokenId: 'oar1', sessionId: 's-1', subject: USER, clientId: CLIENT, reason: 'invalid_grant' }), tokenEvent({ ...base, type: 'error', idpEventType: 'app.oauth2.as.token.grant', sessionId: 's-1', subject: USER, clientId: CLIENT, reason: 'invalid_grant' })],
    ];
    it.each(cases)('%s keeps every field an Okta LogEvent carries (one token per event, no parent)', (_name, input, expected) => {
      const record = JSON.parse(oktaRenderer.render(input)) as JsonObject;
      expect(oktaParser.detect(record)).toBe(true);
      expect([keycloakParser, auth0Parser, canonicalTokenEventParser].filter((p) => p.detect(record))).toEqual([]);
      expect(parsedEvent(oktaParser.parse(record))).toEqual(expected);
    });
  });
});

function tokenEvent(fields: Partial<TokenEvent> & Pick<TokenEvent, 'ts' | 'type'>): TokenEvent {
  return event({ idpEventType: null, ...fields });
}
