// Writes a TokenEvent as one Keycloak user event, the EventRepresentation JSON that
// GET /admin/realms/{realm}/events returns (time in epoch ms, details as string map).
// The event types and detail keys are those the Keycloak token endpoint logs (see
// ingest/parsers/keycloak.ts); Keycloak logs no expiry, so `exp` does not survive a round trip.
import type { TokenEvent } from '../../model.js';
import type { IdpRenderer } from '../types.js';

// The realm every synthetic event belongs to (Keycloak realm ids are UUIDs).
const REALM_ID = '1f0e2d3c-4b5a-4697-8877-665544332211';

// RefreshTokenGrantType's detail for a refresh token presented twice (TokenManager.validateTokenReuse).
const REUSE_REASON = 'Maximum allowed refresh token reuse exceeded';

type Details = Record<string, string>;

function details(entries: Record<string, string | null>): Details {
  return Object.fromEntries(Object.entries(entries).filter((e): e is [string, string] => e[1] !== null));
}

function typeAndDetails(e: TokenEvent): { type: string; error?: string; details: Details } {
  switch (e.type) {
    case 'issued':
      // No user and no session is a client-credentials grant, which Keycloak logs as CLIENT_LOGIN.
      if (e.subject === null && e.sessionId === null) {
        return { type: 'CLIENT_LOGIN', details: details({ token_id: e.tokenId, grant_type: 'client_credentials', refresh_token_id: e.refreshTokenId, client_auth_method: 'client-secret' }) };
      }
      return {
        type: 'CODE_TO_TOKEN',
        details: details({
          token_id: e.tokenId,
          grant_type: 'authorization_code',
          refresh_token_id: e.refreshTokenId,
          refresh_token_type: e.refreshTokenId === null ? null : 'Refresh',
          code_id: e.sessionId,
          client_auth_method: 'client-secret',
        }),
      };
    case 'refreshed':
      return {
        type: 'REFRESH_TOKEN',
        details: details({
          token_id: e.tokenId,
          grant_type: 'refresh_token',
          refresh_token_id: e.parentRefreshTokenId,
          updated_refresh_token_id: e.refreshTokenId,
          refresh_token_type: 'Refresh',
          client_auth_method: 'client-secret',
        }),
      };
    case 'revoked':
      // TokenRevocationEndpoint: token_id for an access token, revoked_client when a refresh token
      // took the whole client grant with it.
      return { type: 'REVOKE_GRANT', details: details({ token_id: e.tokenId, revoked_client: e.tokenId === null ? e.clientId : null }) };
    case 'logout':
      return { type: 'LOGOUT', details: {} };
    case 'reuse_detected':
      return {
        type: 'REFRESH_TOKEN_ERROR',
        error: 'invalid_token',
        details: details({ grant_type: 'refresh_token', refresh_token_id: e.refreshTokenId, reason: REUSE_REASON }),
      };
    case 'error':
      if (e.refreshTokenId !== null) {
        return {
          type: 'REFRESH_TOKEN_ERROR',
          error: 'invalid_token',
          details: details({ grant_type: 'refresh_token', refresh_token_id: e.refreshTokenId, reason: e.reason }),
        };
      }
      return { type: 'CODE_TO_TOKEN_ERROR', error: 'invalid_code', details: details({ grant_type: 'authorization_code', token_id: e.tokenId, reason: e.reason }) };
  }
}

/** Keycloak user events as the Admin REST API returns them. */
export const keycloakRenderer: IdpRenderer = {
  format: 'keycloak',

  render(e) {
    const { type, error, details: eventDetails } = typeAndDetails(e);
    const record: Record<string, unknown> = { time: e.ts, type, realmId: REALM_ID };
    // Jackson leaves unset fields out of EventRepresentation.
    if (e.clientId !== null) record.clientId = e.clientId;
    if (e.subject !== null) record.userId = e.subject;
    if (e.sessionId !== null) record.sessionId = e.sessionId;
    if (e.ip !== null) record.ipAddress = e.ip;
    if (error !== undefined) record.error = error;
    record.details = eventDetails;
    return JSON.stringify(record);
  },
};
