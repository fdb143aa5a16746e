// Consumes Keycloak events as JSON: user events (EventRepresentation, as GET /admin/realms/{realm}/events
// returns them), admin events (AdminEventRepresentation) and the jboss-logging listener's key="value"
// message inside a Quarkus JSON log line. Emits one TokenEvent per event that issues, refreshes, revokes
// or ends tokens; logins, profile changes and unrelated admin events are skipped. Pure, never throws;
// an event type this parser does not know (newer Keycloak releases add types) is skipped as
// `unknown_event_type`: it carries no token event we understand, and the record is not broken.
import { at, isObject, obj, str, type JsonObject } from '../fields.js';
import { FieldError, fail, guard, skip, type ParseResult } from '../parse-result.js';
import type { TokenEvent, TokenEventType } from '../model.js';
import { epochToMs, isoToMs } from '../time.js';
import { UNKNOWN_EVENT_TYPE, blankTokenEvent, boundedId, boundedText, idField } from './idp-fields.js';
import type { IdpParser } from './types.js';

// Token endpoint grants that hand out tokens (org.keycloak.events.EventType; each grant class calls
// AccessTokenResponseBuilder.build(), which writes details.token_id and details.refresh_token_id).
const ISSUING = new Set([
  'CODE_TO_TOKEN',
  'CLIENT_LOGIN',
  'TOKEN_EXCHANGE',
  'OAUTH2_DEVICE_CODE_TO_TOKEN',
  'AUTHREQID_TO_TOKEN',
  'PERMISSION_TOKEN',
  'OAUTH2_EXTENSION_GRANT',
  'JWT_BEARER',
]);

// Failed token requests: their `_ERROR` twins, plus failed refresh, revocation and logout.
const FAILING = new Set([...[...ISSUING].map((t) => `${t}_ERROR`), 'REFRESH_TOKEN_ERROR', 'REVOKE_GRANT_ERROR', 'LOGOUT_ERROR']);

// Every other type of EventType.java (keycloak/keycloak, server-spi-private), skipped by name.
const NO_TOKEN = new Set(
  [
    'LOGIN', 'REGISTER', 'VALIDATE_ACCESS_TOKEN', 'INTROSPECT_TOKEN', 'FEDERATED_IDENTITY_LINK',
    'REMOVE_FEDERATED_IDENTITY', 'UPDATE_EMAIL', 'UPDATE_PROFILE', 'UPDATE_PASSWORD', 'UPDATE_TOTP',
    'VERIFY_EMAIL', 'VERIFY_PROFILE', 'REMOVE_TOTP', 'GRANT_CONSENT', 'UPDATE_CONSENT', 'SEND_VERIFY_EMAIL',
    'SEND_RESET_PASSWORD', 'SEND_IDENTITY_PROVIDER_LINK', 'RESET_PASSWORD', 'RESTART_AUTHENTICATION',
    'INVALID_SIGNATURE', 'REGISTER_NODE', 'UNREGISTER_NODE', 'USER_INFO_REQUEST', 'IDENTITY_PROVIDER_LINK_ACCOUNT',
    'IDENTITY_PROVIDER_LOGIN', 'IDENTITY_PROVIDER_FIRST_LOGIN', 'IDENTITY_PROVIDER_POST_LOGIN',
    'IDENTITY_PROVIDER_RESPONSE', 'IDENTITY_PROVIDER_RETRIEVE_TOKEN', 'IMPERSONATE', 'CUSTOM_REQUIRED_ACTION',
    'EXECUTE_ACTIONS', 'EXECUTE_ACTION_TOKEN', 'CLIENT_INFO', 'CLIENT_REGISTER', 'CLIENT_UPDATE', 'CLIENT_DELETE',
    'CLIENT_INITIATED_ACCOUNT_LINKING', 'OAUTH2_DEVICE_AUTH', 'OAUTH2_DEVICE_VERIFY_USER_CODE', 'DELETE_ACCOUNT',
    'PUSHED_AUTHORIZATION_REQUEST', 'USER_DISABLED_BY_PERMANENT_LOCKOUT', 'USER_DISABLED_BY_TEMPORARY_LOCKOUT',
  ].flatMap((t) => [t, `${t}_ERROR`]),
);

// TokenManager.validateTokenReuse throws these two when "Revoke Refresh Token" is on and a refresh
// token is presented again; RefreshTokenGrantType logs REFRESH_TOKEN_ERROR, error=invalid_token,
// details.reason=<this text>, after detaching the client session (the family is revoked).
const REUSE_REASONS = new Set(['Maximum allowed refresh token reuse exceeded', 'Stale token']);

// AdminEvent.operationType values (org.keycloak.events.admin.OperationType).
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'ACTION']);

const KEYCLOAK_TYPE = /^[A-Z][A-Z0-9_]*$/;

/** Keycloak user and admin events: Admin REST API representations and jboss-logging lines. */
export const keycloakParser: IdpParser = {
  format: 'keycloak',

  // Upper-case `type` beside `realmId` (user event), `operationType` beside `authDetails` or
  // `resourcePath` (admin event), or the `org.keycloak.events` logger (jboss-logging listener).
  // Auth0 and the canonical format use lower-case types, Okta `eventType`; no gateway logs these keys.
  detect(record) {
    if (typeof record.type === 'string' && KEYCLOAK_TYPE.test(record.type) && typeof record.realmId === 'string') return true;
    if (typeof record.operationType === 'string' && (isObject(record.authDetails) || typeof record.resourcePath === 'string')) return true;
    return record.loggerName === 'org.keycloak.events' && typeof record.message === 'string';
  },

  parse(record) {
    return guard(() => {
      if (record.loggerName === 'org.keycloak.events' && 'message' in record) return parseLogLine(record);
      if ('operationType' in record) return adminEvent(record, timeOf(record));
      return userEvent(record, timeOf(record));
    });
  },
};

/** `time`, epoch ms as EventRepresentation writes it (a numeric string is accepted too). */
function timeOf(record: JsonObject): number {
  const raw = at(record, 'time');
  if (raw === undefined || raw === null || raw === '') throw new FieldError('missing_field', 'time: missing');
  if (typeof raw === 'number' || (typeof raw === 'string' && /^\d+$/.test(raw))) return epochToMs(Number(raw), String(raw));
  throw new FieldError('invalid_timestamp', `time: expected epoch milliseconds, got ${JSON.stringify(raw).slice(0, 64)}`);
}

function userEvent(record: JsonObject, ts: number): ParseResult<TokenEvent> {
  const type = str(record, 'type');
  if (type === null) return fail('missing_field', 'type: missing');
  if (!KEYCLOAK_TYPE.test(type)) return fail('invalid_field', `type: not a Keycloak event type: ${JSON.stringify(type.slice(0, 64))}`);
  const details = obj(record, 'details') ?? {};
  const detail = (key: string): string | null => idField(details, key);

  const base = (kind: TokenEventType): TokenEvent => ({
    ...blankTokenEvent('keycloak', kind, ts, type),
    sessionId: idField(record, 'sessionId'),
    subject: idField(record, 'userId'),
    clientId: idField(record, 'clientId'),
    ip: idField(record, 'ipAddress'),
  });

  if (type === 'REFRESH_TOKEN') {
    // TokenManager.refreshAccessToken sets details.refresh_token_id to the token presented, then
    // AccessTokenResponseBuilder.build() sees it and writes the new one as updated_refresh_token_id.
    return ok({
      ...base('refreshed'),
      tokenId: detail('token_id'),
      refreshTokenId: detail('updated_refresh_token_id'),
      parentRefreshTokenId: detail('refresh_token_id'),
    });
  }
  if (ISSUING.has(type) || (type === 'LOGIN' && detail('token_id') !== null)) {
    // A LOGIN with a token_id is the resource-owner password grant, which logs LOGIN, not CODE_TO_TOKEN.
    return ok({ ...base('issued'), tokenId: detail('token_id'), refreshTokenId: detail('refresh_token_id') });
  }
  if (type === 'REVOKE_GRANT') {
    // TokenRevocationEndpoint logs token_id for an access token, revoked_client for a refresh token
    // (the whole client grant goes); the account console logs revoked_client too.
    return ok({ ...base('revoked'), tokenId: detail('token_id'), clientId: detail('revoked_client') ?? idField(record, 'clientId') });
  }
  if (type === 'LOGOUT') return ok(base('logout'));
  if (FAILING.has(type)) {
    const reason = str(details, 'reason');
    const kind = type === 'REFRESH_TOKEN_ERROR' && reason !== null && REUSE_REASONS.has(reason) ? 'reuse_detected' : 'error';
    return ok({
      ...base(kind),
      tokenId: detail('token_id'),
      refreshTokenId: detail('refresh_token_id'),
      reason: boundedText(reason ?? str(record, 'error')),
    });
  }
  if (NO_TOKEN.has(type)) return skip('no_token_event', `keycloak ${type} carries no token event`);
  return skip(UNKNOWN_EVENT_TYPE);
}

function adminEvent(record: JsonObject, ts: number): ParseResult<TokenEvent> {
  const operation = str(record, 'operationType');
  if (operation === null) return fail('missing_field', 'operationType: missing');
  if (!OPERATIONS.has(operation)) return fail('invalid_field', `operationType: unknown Keycloak operation ${operation.slice(0, 64)}`);
  const resourceType = idField(record, 'resourceType');
  const path = str(record, 'resourcePath') ?? '';
  // Bounded as a whole: a resourceType within the bound can still push the composed type past it.
  const idpEventType = boundedId(`admin:${operation}:${resourceType ?? ''}`, 'resourceType');
  if (str(record, 'error') !== null) return skip('failed_operation', `keycloak admin ${operation} failed: nothing was revoked`);
  // The admin's own address: admin events describe the admin's request, not the token holder's.
  const base = (kind: TokenEventType): TokenEvent => ({
    ...blankTokenEvent('keycloak', kind, ts, idpEventType),
    ip: idField(record, 'authDetails.ipAddress'),
  });
  // Paths are relative to /admin/realms/{realm}/ (AdminEventBuilder.resourcePath(UriInfo)).
  // RealmAdminResource.deleteSession: DELETE sessions/{session} logs the session out.
  let m = /^sessions\/([^/]+)$/.exec(path);
  if (operation === 'DELETE' && m) return ok({ ...base('logout'), sessionId: boundedSegment(m[1]!) });
  // UserResource.logout: POST users/{id}/logout removes every session of the user.
  m = /^users\/([^/]+)\/logout$/.exec(path);
  if (operation === 'ACTION' && m) return ok({ ...base('logout'), subject: boundedSegment(m[1]!) });
  // UserResource.revokeConsent: DELETE users/{id}/consents/{clientId} revokes consent and offline tokens.
  m = /^users\/([^/]+)\/consents\/([^/]+)$/.exec(path);
  if (operation === 'ACTION' && m) return ok({ ...base('revoked'), subject: boundedSegment(m[1]!), clientId: boundedSegment(m[2]!) });
  return skip('no_token_event', `keycloak admin ${operation} ${resourceType ?? ''} ${path.slice(0, 64)} revokes no token`.replace(/ +/g, ' '));
}

/** A path segment as an id; `%`-escapes decoded (Keycloak logs the request URI's encoded path). */
function boundedSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new FieldError('invalid_field', 'resourcePath: malformed %-escape');
  }
  return boundedId(decoded, 'resourcePath');
}

/**
 * A Quarkus JSON log line whose `message` is the jboss-logging listener's text:
 * `type="REFRESH_TOKEN", realmId="…", …, ipAddress="…", error="…", <details as key="value">…`
 * (JBossLoggingEventListenerProvider; the value quote is configurable: `"` by default, `'`, or none).
 */
function parseLogLine(record: JsonObject): ParseResult<TokenEvent> {
  const message = str(record, 'message');
  if (message === null) return fail('missing_field', 'message: missing');
  const stamp = str(record, 'timestamp');
  if (stamp === null) return fail('missing_field', 'timestamp: missing');
  const ts = isoToMs(stamp);
  const pairs = keyValues(message);
  if ('operationType' in pairs) {
    return adminEvent({ operationType: pairs.operationType, resourceType: pairs.resourceType, resourcePath: pairs.resourcePath, error: pairs.error, authDetails: { ipAddress: pairs.ipAddress } }, ts);
  }
  if (!('type' in pairs)) return fail('invalid_field', 'message: not a Keycloak event line (no type= or operationType=)');
  const details = Object.fromEntries(Object.entries(pairs).filter(([key]) => !LINE_FIELDS.has(key)));
  const { type, clientId, userId, sessionId, ipAddress, error } = pairs;
  return userEvent({ type, clientId, userId, sessionId, ipAddress, error, details }, ts);
}

// The keys the listener writes itself; every other key of the line is an event detail.
const LINE_FIELDS = new Set([
  'type', 'realmId', 'realmName', 'clientId', 'userId', 'sessionId', 'ipAddress', 'error',
  'authSessionParentId', 'authSessionTabId', 'requestUri', 'cookies', 'stackTrace',
]);

/** The listener's `key=value, key=value` pairs; a value the listener wrote for null (`null`) is dropped. */
function keyValues(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < message.length) {
    const key = /^([A-Za-z0-9_.-]+)=/.exec(message.slice(i));
    if (!key) throw new FieldError('invalid_field', `message: expected key=value at offset ${i}`);
    i += key[0].length;
    let value = '';
    const quote = message[i];
    if (quote === '"' || quote === "'") {
      // StringUtil.sanitizeSpacesAndQuotes escapes the quote character inside values as \" (or \').
      i += 1;
      while (i < message.length && message[i] !== quote) {
        if (message[i] === '\\' && message[i + 1] === quote) i += 1;
        value += message[i];
        i += 1;
      }
      if (i >= message.length) throw new FieldError('invalid_field', `message: unterminated value of ${key[1]}`);
      i += 1;
    } else {
      const end = message.slice(i).search(/, [A-Za-z0-9_.-]+=/);
      value = end < 0 ? message.slice(i) : message.slice(i, i + end);
      i += value.length;
    }
    if (value !== 'null') out[key[1]!] = value;
    if (message.startsWith(', ', i)) i += 2;
    else if (i < message.length) throw new FieldError('invalid_field', `message: expected ", " after ${key[1]}`);
  }
  return out;
}

function ok(event: TokenEvent): ParseResult<TokenEvent> {
  return { ok: true, event };
}
