import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenEventSchema, type TokenEvent } from '../model.js';
import { DLQ_REASONS, type ParseResult } from '../parse-result.js';
import type { JsonObject } from '../fields.js';
import { keycloakRenderer } from '../generator/formats/keycloak.js';
import { keycloakParser } from './keycloak.js';
import { auth0Parser } from './auth0.js';
import { oktaParser } from './okta.js';
import { canonicalTokenEventParser } from './canonical-token-event.js';

const samples = (idp: string): JsonObject[] =>
  readFileSync(new URL(`../../test/fixtures/${idp}/samples.jsonl`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonObject);

const KEYCLOAK = samples('keycloak');

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

const REALM_USER = '4d2e8f10-6b7a-4c9d-9e8f-1a2b3c4d5e6f';
const SESSION = '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

function event(fields: Partial<TokenEvent> & Pick<TokenEvent, 'ts' | 'type' | 'idpEventType'>): TokenEvent {
  return {
    idp: 'keycloak',
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
  1: event({
    ts: 1732012345678, type: 'issued', idpEventType: 'CODE_TO_TOKEN', tokenId: '0d5f7a1c-1e2b-4c3d-9a8b-7c6d5e4f3a21',
    refreshTokenId: 'b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d61', sessionId: SESSION, subject: REALM_USER, clientId: 'orders-web', ip: '203.0.113.10',
  }),
  2: event({
    ts: 1732012645678, type: 'refreshed', idpEventType: 'REFRESH_TOKEN', tokenId: 'onrtrt:2e4f6a8c-0b1d-4e3f-8a5c-7e9f1a3b5c72',
    refreshTokenId: 'c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e72', parentRefreshTokenId: 'b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d61',
    sessionId: SESSION, subject: REALM_USER, clientId: 'orders-web', ip: '203.0.113.10',
  }),
  3: event({
    ts: 1732012705678, type: 'reuse_detected', idpEventType: 'REFRESH_TOKEN_ERROR', refreshTokenId: 'b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d61',
    sessionId: SESSION, subject: REALM_USER, clientId: 'orders-web', ip: '198.51.100.77', reason: 'Maximum allowed refresh token reuse exceeded',
  }),
  4: event({
    ts: 1732012765678, type: 'reuse_detected', idpEventType: 'REFRESH_TOKEN_ERROR', refreshTokenId: 'b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d61',
    sessionId: SESSION, subject: REALM_USER, clientId: 'orders-web', ip: '198.51.100.77', reason: 'Stale token',
  }),
  5: event({
    ts: 1732016345678, type: 'error', idpEventType: 'REFRESH_TOKEN_ERROR', refreshTokenId: 'c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e72',
    sessionId: SESSION, subject: REALM_USER, clientId: 'orders-web', ip: '203.0.113.10', reason: 'Session not active',
  }),
  6: event({ ts: 1732016045678, type: 'logout', idpEventType: 'LOGOUT', sessionId: SESSION, subject: REALM_USER, clientId: 'orders-web', ip: '203.0.113.10' }),
  7: event({
    ts: 1732013045678, type: 'revoked', idpEventType: 'REVOKE_GRANT', tokenId: '0d5f7a1c-1e2b-4c3d-9a8b-7c6d5e4f3a21',
    subject: REALM_USER, clientId: 'orders-web', ip: '203.0.113.10',
  }),
  8: event({
    ts: 1732013345678, type: 'issued', idpEventType: 'CLIENT_LOGIN', tokenId: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a83',
    subject: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c53', clientId: 'billing-batch', ip: '10.20.30.40',
  }),
  9: event({
    ts: 1732013645678, type: 'issued', idpEventType: 'LOGIN', tokenId: '6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b94',
    refreshTokenId: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c05', sessionId: '8d2e3f4a-5b6c-4d7e-9f0a-1b2c3d4e5f94',
    subject: REALM_USER, clientId: 'legacy-cli', ip: '192.0.2.15',
  }),
  13: event({
    ts: 1732014645678, type: 'issued', idpEventType: 'TOKEN_EXCHANGE', tokenId: '9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e26',
    sessionId: SESSION, subject: REALM_USER, clientId: 'orders-api', ip: '10.20.30.41',
  }),
  15: event({ ts: 1732015100000, type: 'logout', idpEventType: 'admin:DELETE:USER_SESSION', sessionId: SESSION, ip: '192.0.2.200' }),
  16: event({ ts: 1732015200000, type: 'logout', idpEventType: 'admin:ACTION:USER', subject: REALM_USER, ip: '192.0.2.200' }),
  17: event({
    ts: 1764255677642, type: 'refreshed', idpEventType: 'REFRESH_TOKEN', tokenId: 'onrtrt:3f5a7b9c-1d2e-4f3a-9b5c-7d9e1f3a5b83',
    refreshTokenId: 'd5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f83', parentRefreshTokenId: 'c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e72',
    sessionId: SESSION, subject: REALM_USER, clientId: 'orders-web', ip: '203.0.113.10',
  }),
  19: event({ ts: 1732012350000, type: 'error', idpEventType: 'CODE_TO_TOKEN_ERROR', clientId: 'orders-web', ip: '198.51.100.77', reason: 'invalid_code' }),
};

// Line number -> the skip reason's distinctive part.
const SKIPPED: Record<number, string> = {
  10: 'LOGIN',
  11: 'UPDATE_PROFILE',
  12: 'INTROSPECT_TOKEN',
  14: 'admin CREATE USER',
  18: 'LOGIN',
};

describe('keycloak parser', () => {
  it('has an expectation for every documented sample', () => {
    const covered = [...Object.keys(EXPECTED), ...Object.keys(SKIPPED)].map(Number).sort((a, b) => a - b);
    expect(covered).toEqual(KEYCLOAK.map((_, i) => i + 1));
  });

  it.each(Object.entries(EXPECTED))('sample line %s parses to the event its source describes', (line, expected) => {
    expect(parsedEvent(keycloakParser.parse(KEYCLOAK[Number(line) - 1]!))).toEqual(expected);
  });

  it.each(Object.entries(SKIPPED))('sample line %s carries no token event and is skipped', (line, what) => {
    const result = keycloakParser.parse(KEYCLOAK[Number(line) - 1]!);
    expect(result).toEqual({ ok: true, event: null, skipped: expect.stringMatching(/^[a-z_]+$/), detail: expect.stringContaining(what) });
  });

  it('a refresh names the presented refresh token as parent and updated_refresh_token_id as the new one', () => {
    const refreshed = parsedEvent(keycloakParser.parse(KEYCLOAK[1]!));
    const issued = parsedEvent(keycloakParser.parse(KEYCLOAK[0]!));
    expect(refreshed.parentRefreshTokenId).toBe(issued.refreshTokenId);
    expect(refreshed.refreshTokenId).not.toBe(issued.refreshTokenId);
  });

  it('a refresh without updated_refresh_token_id (client without refresh tokens) keeps only the parent', () => {
    const record = structuredClone(KEYCLOAK[1]!);
    delete (record.details as JsonObject).updated_refresh_token_id;
    const result = parsedEvent(keycloakParser.parse(record));
    expect(result.refreshTokenId).toBeNull();
    expect(result.parentRefreshTokenId).toBe('b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d61');
  });

  it('a jboss-logging line with escaped quotes, single quotes or no quotes reads the same values', () => {
    const line = (message: string): JsonObject => ({ timestamp: '2025-11-27T15:01:17.642Z', loggerName: 'org.keycloak.events', message });
    const quoted = parsedEvent(keycloakParser.parse(line('type="REFRESH_TOKEN_ERROR", realmId="r", clientId="a \\"b\\"", userId="null", ipAddress="192.0.2.1", error="invalid_token", reason="Session not active"')));
    expect(quoted).toMatchObject({ type: 'error', clientId: 'a "b"', subject: null, reason: 'Session not active' });
    const single = parsedEvent(keycloakParser.parse(line("type='LOGOUT', realmId='r', clientId='web', userId='u1', sessionId='s1', ipAddress='192.0.2.1'")));
    expect(single).toMatchObject({ type: 'logout', clientId: 'web', subject: 'u1', sessionId: 's1' });
    const bare = parsedEvent(keycloakParser.parse(line('type=REVOKE_GRANT, realmId=r, clientId=web, userId=u1, ipAddress=192.0.2.1, token_id=t1')));
    expect(bare).toMatchObject({ type: 'revoked', tokenId: 't1', clientId: 'web' });
  });

  it('an admin consent revocation revokes the tokens of that user and client', () => {
    const record: JsonObject = {
      time: 1732015300000, realmId: 'r', authDetails: { realmId: 'm', clientId: 'security-admin-console', userId: 'admin', ipAddress: '192.0.2.200' },
      operationType: 'ACTION', resourceType: 'USER', resourcePath: `users/${REALM_USER}/consents/orders-web`,
    };
    expect(parsedEvent(keycloakParser.parse(record))).toEqual(
      event({ ts: 1732015300000, type: 'revoked', idpEventType: 'admin:ACTION:USER', subject: REALM_USER, clientId: 'orders-web', ip: '192.0.2.200' }),
    );
  });

  it('detect claims every Keycloak sample and no Auth0, Okta, canonical or gateway record', () => {
    for (const record of KEYCLOAK) expect(keycloakParser.detect(record)).toBe(true);
    for (const record of [...samples('auth0'), ...samples('okta'), ...GATEWAY_RECORDS, CANONICAL_RECORD]) {
      expect(keycloakParser.detect(record)).toBe(false);
    }
  });

  it('no other IdP parser claims a Keycloak sample', () => {
    for (const record of KEYCLOAK) {
      expect([auth0Parser, oktaParser, canonicalTokenEventParser].filter((p) => p.detect(record)).map((p) => p.format)).toEqual([]);
    }
  });

  it.each([
    ['a missing type', { time: 1732012345678, realmId: 'r' }, 'missing_field'],
    ['a missing time', { type: 'LOGOUT', realmId: 'r' }, 'missing_field'],
    ['a time that is not a number', { time: 'yesterday', type: 'LOGOUT', realmId: 'r' }, 'invalid_timestamp'],
    ['a time in 1970', { time: 5, type: 'LOGOUT', realmId: 'r' }, 'invalid_timestamp'],
    ['a type that is an object', { time: 1732012345678, type: { name: 'LOGOUT' }, realmId: 'r' }, 'invalid_field'],
    ['a lower-case type', { time: 1732012345678, type: 'logout', realmId: 'r' }, 'invalid_field'],
    ['details that are a string', { time: 1732012345678, type: 'REFRESH_TOKEN', realmId: 'r', details: 'token_id=1' }, 'invalid_field'],
    ['a userId that is an array', { time: 1732012345678, type: 'LOGOUT', realmId: 'r', userId: ['u'] }, 'invalid_field'],
    ['a token id longer than the schema allows', { time: 1732012345678, type: 'REVOKE_GRANT', realmId: 'r', details: { token_id: 'x'.repeat(5000) } }, 'invalid_field'],
    ['an admin operation Keycloak does not define', { time: 1732012345678, realmId: 'r', operationType: 'PURGE', resourcePath: 'users/u' }, 'invalid_field'],
    ['a jboss-logging line without a timestamp', { loggerName: 'org.keycloak.events', message: 'type="LOGOUT", realmId="r"' }, 'missing_field'],
    ['a jboss-logging line that is not key=value', { loggerName: 'org.keycloak.events', timestamp: '2025-11-27T15:01:17Z', message: 'User logged out' }, 'invalid_field'],
    ['a jboss-logging line with an unterminated value', { loggerName: 'org.keycloak.events', timestamp: '2025-11-27T15:01:17Z', message: 'type="LOGOUT, realmId="r' }, 'invalid_field'],
  ] as const)('%s is rejected with a specific reason', (_name, record, reason) => {
    const result = keycloakParser.parse(record as JsonObject);
    expect(result).toMatchObject({ ok: false, reason });
    expect(DLQ_REASONS).toContain(reason);
  });

  it('an event type a newer Keycloak adds is skipped as unknown_event_type, not dead-lettered', () => {
    const unknown = { ok: true, event: null, skipped: 'unknown_event_type', detail: 'unknown_event_type' };
    expect(keycloakParser.parse({ time: 1732012345678, type: 'TOKEN_TELEPORTED', realmId: 'r', clientId: 'web' })).toEqual(unknown);
    const line = { timestamp: '2025-11-27T15:01:17.642Z', loggerName: 'org.keycloak.events', message: 'type="TOKEN_TELEPORTED", realmId="r"' };
    expect(keycloakParser.parse(line)).toEqual(unknown);
  });

  it('an event of an unknown type that is otherwise broken is still rejected', () => {
    expect(keycloakParser.parse({ type: 'TOKEN_TELEPORTED', realmId: 'r' })).toMatchObject({ ok: false, reason: 'missing_field' });
    expect(keycloakParser.parse({ time: 1732012345678, type: 'TOKEN_TELEPORTED', realmId: 'r', details: 'x' })).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('an admin event type composed from a resourceType at the length bound is rejected, not emitted past the bound', () => {
    const record: JsonObject = { time: 1732015100000, realmId: 'r', operationType: 'DELETE', resourceType: 'X'.repeat(4096), resourcePath: `sessions/${SESSION}` };
    expect(keycloakParser.parse(record)).toMatchObject({ ok: false, reason: 'invalid_field', detail: expect.stringContaining('resourceType') });
  });

  it('a reason longer than the schema allows is truncated, not rejected', () => {
    const record = structuredClone(KEYCLOAK[4]!);
    (record.details as JsonObject).reason = 'r'.repeat(5000);
    expect(parsedEvent(keycloakParser.parse(record)).reason).toHaveLength(4096);
  });

  describe('round trip through the renderer', () => {
    const base = { ts: 1732012345678, idp: 'keycloak' as const, ip: '203.0.113.10', exp: null, reason: null };
    const cases: [string, TokenEvent, TokenEvent][] = [
      ['issued (authorization code)', tokenEvent({ ...base, type: 'issued', tokenId: 'at-1', refreshTokenId: 'rt-1', sessionId: 's-1', subject: 'u-1', clientId: 'web' }), tokenEvent({ ...base, type: 'issued', idpEventType: 'CODE_TO_TOKEN', tokenId: 'at-1', refreshTokenId: 'rt-1', sessionId: 's-1', subject: 'u-1', clientId: 'web' })],
      ['issued (client credentials)', tokenEvent({ ...base, type: 'issued', tokenId: 'at-2', clientId: 'batch' }), tokenEvent({ ...base, type: 'issued', idpEventType: 'CLIENT_LOGIN', tokenId: 'at-2', clientId: 'batch' })],
      ['refreshed', tokenEvent({ ...base, type: 'refreshed', tokenId: 'at-3', refreshTokenId: 'rt-2', parentRefreshTokenId: 'rt-1', sessionId: 's-1', subject: 'u-1', clientId: 'web' }), tokenEvent({ ...base, type: 'refreshed', idpEventType: 'REFRESH_TOKEN', tokenId: 'at-3', refreshTokenId: 'rt-2', parentRefreshTokenId: 'rt-1', sessionId: 's-1', subject: 'u-1', clientId: 'web' })],
      ['revoked', tokenEvent({ ...base, type: 'revoked', tokenId: 'at-1', subject: 'u-1', clientId: 'web' }), tokenEvent({ ...base, type: 'revoked', idpEventType: 'REVOKE_GRANT', tokenId: 'at-1', subject: 'u-1', clientId: 'web' })],
      ['logout', tokenEvent({ ...base, type: 'logout', sessionId: 's-1', subject: 'u-1', clientId: 'web' }), tokenEvent({ ...base, type: 'logout', idpEventType: 'LOGOUT', sessionId: 's-1', subject: 'u-1', clientId: 'web' })],
      ['reuse_detected', tokenEvent({ ...base, type: 'reuse_detected', refreshTokenId: 'rt-1', sessionId: 's-1', subject: 'u-1', clientId: 'web' }), tokenEvent({ ...base, type: 'reuse_detected', idpEventType: 'REFRESH_TOKEN_ERROR', refreshTokenId: 'rt-1', sessionId: 's-1', subject: 'u-1', clientId: 'web', reason: 'Maximum allowed refresh token reuse exceeded' })],
      ['error', tokenEvent({ ...base, type: 'error', refreshTokenId: 'rt-9', subject: 'u-1', clientId: 'web', reason: 'Session not active' }), tokenEvent({ ...base, type: 'error', idpEventType: 'REFRESH_TOKEN_ERROR', refreshTokenId: 'rt-9', subject: 'u-1', clientId: 'web', reason: 'Session not active' })],
    ];
    it.each(cases)('%s keeps every field a Keycloak event carries (no expiry)', (_name, input, expected) => {
      const line = keycloakRenderer.render({ ...input, exp: 1732012645678 });
      const record = JSON.parse(line) as JsonObject;
      expect(keycloakParser.detect(record)).toBe(true);
      expect([auth0Parser, oktaParser, canonicalTokenEventParser].filter((p) => p.detect(record))).toEqual([]);
      expect(parsedEvent(keycloakParser.parse(record))).toEqual(expected);
    });
  });
});

function tokenEvent(fields: Partial<TokenEvent> & Pick<TokenEvent, 'ts' | 'type'>): TokenEvent {
  return event({ idpEventType: null, ...fields });
}
