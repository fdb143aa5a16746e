import { describe, expect, it } from 'vitest';
import { classifyAuthError, type AuthSignals } from './auth-error.js';

const s = (o: Partial<AuthSignals>): AuthSignals => ({ status: 401, wwwAuthenticate: null, gatewayError: null, hasToken: true, ...o });

describe('classifyAuthError', () => {
  it.each([
    ['RFC 6750 expired challenge', s({ wwwAuthenticate: 'Bearer realm="example", error="invalid_token", error_description="The access token expired"' }), 'expired'],
    ['RFC 6750 invalid_token without detail', s({ wwwAuthenticate: 'Bearer error="invalid_token"' }), 'invalid'],
    ['RFC 6750 invalid_request', s({ status: 400, wwwAuthenticate: 'Bearer error="invalid_request"' }), 'malformed'],
    ['a revoked token challenge', s({ wwwAuthenticate: 'Bearer error="invalid_token", error_description="Token has been revoked"' }), 'revoked'],
    ['a bare 401 without a token', s({ hasToken: false }), 'missing'],
    ['a bare 401 where the record cannot show the token', s({ hasToken: null }), 'invalid'],
    ['an RFC 6750 challenge without an error code (no authentication sent)', s({ hasToken: null, wwwAuthenticate: 'Bearer realm="api"' }), 'missing'],
    ['a bare 401 with a token', s({}), 'invalid'],
    ['Envoy jwt_authn expired detail', s({ gatewayError: 'jwt_authn_access_denied{Jwt_is_expired}' }), 'expired'],
    ['Envoy jwt_authn missing detail', s({ gatewayError: 'jwt_authn_access_denied{Jwt_is_missing}', hasToken: false }), 'missing'],
    ['Envoy jwt_authn bad format', s({ gatewayError: 'Jwt is not in the form of Header.Payload.Signature' }), 'malformed'],
    ['AWS EXPIRED_TOKEN', s({ status: 403, gatewayError: 'EXPIRED_TOKEN' }), 'expired'],
    ['AWS MISSING_AUTHENTICATION_TOKEN', s({ status: 403, gatewayError: 'MISSING_AUTHENTICATION_TOKEN', hasToken: false }), 'missing'],
    ['a plain 403 access denied', s({ status: 403, gatewayError: 'ACCESS_DENIED' }), 'invalid'],
  ] as const)('classifies %s', (_name, signals, expected) => {
    expect(classifyAuthError(signals)).toBe(expected);
  });

  it('is not an auth failure for 2xx, 5xx, or insufficient_scope', () => {
    expect(classifyAuthError(s({ status: 200 }))).toBeNull();
    expect(classifyAuthError(s({ status: 503 }))).toBeNull();
    expect(classifyAuthError(s({ status: 403, wwwAuthenticate: 'Bearer error="insufficient_scope", scope="orders:write"' }))).toBeNull();
    expect(classifyAuthError(s({ status: 403, gatewayError: 'rbac_access_denied_matched_policy[none]' }))).toBeNull();
  });
});
