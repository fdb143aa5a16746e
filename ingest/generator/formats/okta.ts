// Writes a TokenEvent as one Okta System Log LogEvent of a custom authorization server
// (`app.oauth2.as.*`), shaped like the LogEvents GET /api/v1/logs returns: the client as actor,
// the token as a target with `detailEntry.expires/subject/hash`. Okta logs one event per token, so an
// event naming both an access and a refresh token keeps the access token; the parent refresh token
// of a rotation is not logged and does not survive a round trip.
import { createHash } from 'node:crypto';
import type { TokenEvent } from '../../model.js';
import type { IdpRenderer } from '../types.js';

type Json = Record<string, unknown>;

// LogEvent uuids are UUIDs; derive a stable one so the same event renders the same line.
function uuidOf(e: TokenEvent): string {
  const h = createHash('sha1').update(JSON.stringify(e)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-1${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function hashOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 22);
}

function tokenTarget(kind: 'access_token' | 'refresh_token', id: string, e: TokenEvent): Json {
  const detailEntry: Json = { subject: e.subject, hash: hashOf(id) };
  if (kind === 'access_token' && e.exp !== null) detailEntry.expires = new Date(e.exp).toISOString();
  return { id, type: kind, alternateId: null, displayName: kind === 'access_token' ? 'Access Token' : 'Refresh Token', detailEntry };
}

function userTarget(e: TokenEvent): Json[] {
  return e.subject === null ? [] : [{ id: e.subject, type: 'User', alternateId: null, displayName: null, detailEntry: null }];
}

function shape(e: TokenEvent): { eventType: string; displayMessage: string; result: string; grantType: string | null; targets: Json[] } {
  const tokens = [
    ...(e.tokenId !== null ? [tokenTarget('access_token', e.tokenId, e)] : []),
    ...(e.tokenId === null && e.refreshTokenId !== null ? [tokenTarget('refresh_token', e.refreshTokenId, e)] : []),
  ];
  const grant = e.tokenId !== null ? 'access_token' : 'refresh_token';
  switch (e.type) {
    case 'issued':
    case 'refreshed':
      return {
        eventType: `app.oauth2.as.token.grant.${grant}`,
        displayMessage: `OAuth2 ${grant.replace('_', ' ')} is granted`,
        result: 'SUCCESS',
        grantType: e.type === 'refreshed' ? 'refresh_token' : 'authorization_code',
        targets: [...userTarget(e), ...tokens],
      };
    case 'revoked':
      return { eventType: 'app.oauth2.as.token.revoke', displayMessage: 'OAuth2 token revocation request', result: 'SUCCESS', grantType: null, targets: tokens };
    case 'reuse_detected':
      return { eventType: 'app.oauth2.as.token.detect_reuse', displayMessage: 'Refresh token reuse detected', result: 'FAILURE', grantType: 'refresh_token', targets: [...userTarget(e), ...tokens] };
    case 'error':
      // A refused grant issued nothing: the bare grant event, no token target.
      return { eventType: 'app.oauth2.as.token.grant', displayMessage: 'OAuth2 token grant request', result: 'FAILURE', grantType: 'refresh_token', targets: userTarget(e) };
    case 'logout':
      return { eventType: 'user.session.end', displayMessage: 'User logout from Okta', result: 'SUCCESS', grantType: null, targets: [] };
  }
}

/** Okta System Log events as the System Log API returns them. */
export const oktaRenderer: IdpRenderer = {
  format: 'okta',

  render(e) {
    const { eventType, displayMessage, result, grantType, targets } = shape(e);
    const requestId = uuidOf(e).replace(/-/g, '').slice(0, 27);
    // A logout is the user's own act; every token event is the OAuth client's request.
    const actor =
      e.type === 'logout'
        ? { id: e.subject, type: 'User', alternateId: null, displayName: null, detailEntry: null }
        : { id: e.clientId, type: 'PublicClientApp', alternateId: e.clientId, displayName: null, detailEntry: null };
    const debugData: Json = { requestId, threatSuspected: 'false' };
    if (grantType !== null) debugData.grantType = grantType;
    const record: Json = {
      actor,
      client: { userAgent: { rawUserAgent: 'okhttp/4.12.0', os: 'Unknown', browser: 'UNKNOWN' }, zone: 'null', device: 'Unknown', id: null, ipAddress: e.ip },
      device: null,
      authenticationContext: { authenticationStep: 0, externalSessionId: e.sessionId ?? 'unknown' },
      displayMessage,
      eventType,
      outcome: { result, reason: result === 'FAILURE' ? e.reason : null },
      published: new Date(e.ts).toISOString(),
      severity: result === 'FAILURE' ? 'WARN' : 'INFO',
      debugContext: { debugData },
      legacyEventType: null,
      transaction: { type: 'WEB', id: requestId, detail: {} },
      uuid: uuidOf(e),
      version: '0',
      request: { ipChain: e.ip === null ? [] : [{ ip: e.ip, geographicalContext: null, version: e.ip.includes(':') ? 'V6' : 'V4', source: null }] },
      target: targets.length === 0 ? null : targets,
    };
    return JSON.stringify(record);
  },
};
