// Writes a TokenEvent as one Auth0 tenant log in the Log Streams envelope `{"log_id", "data"}`,
// with the fields of the per-type schemas in github.com/auth0/auth0-log-schemas. Auth0 logs no
// expiry and no id for a newly issued refresh token; rotating refresh tokens are written as
// familyId + tokenCounter, so only ids of the form `<familyId>#<counter>` survive a round trip.
import type { TokenEvent } from '../../model.js';
import type { IdpRenderer } from '../types.js';

const TENANT = 'tokenwatch-demo';
const HOSTNAME = `${TENANT}.eu.auth0.com`;

type Json = Record<string, unknown>;

/** familyId and tokenCounter of a `<familyId>#<counter>` id, or null for any other id. */
function family(id: string | null): { familyId: string; tokenCounter: number } | null {
  const m = id === null ? null : /^(.+)#(\d+)$/.exec(id);
  return m ? { familyId: m[1]!, tokenCounter: Number(m[2]) } : null;
}

// Auth0 log ids are 56 digits that start with "900" and sort by time; derive one from the
// event so the same event renders the same line.
function logId(e: TokenEvent): string {
  const stamp = new Date(e.ts).toISOString().replace(/\D/g, '').slice(0, 17);
  let hash = 0;
  for (const ch of JSON.stringify(e)) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
  return `900${stamp}${String(hash).padStart(10, '0')}`.padEnd(56, '0');
}

function session(e: TokenEvent): Json {
  return e.sessionId === null ? {} : { refresh_token: { access: 'offline', session_id: e.sessionId } };
}

function typeAndDetails(e: TokenEvent): { type: string; description: string; details: Json } {
  switch (e.type) {
    case 'issued':
      // No user is a machine-to-machine client-credentials exchange (seccft), else an authorization code one.
      if (e.subject === null) return { type: 'seccft', description: 'Client Credentials for Access Token', details: { access_token_jti: e.tokenId } };
      return { type: 'seacft', description: '', details: { code: '*************************************Zx4', access_token_jti: e.tokenId, ...session(e) } };
    case 'refreshed':
      return { type: 'sertft', description: '', details: { access_token_jti: e.tokenId, ...family(e.parentRefreshTokenId), ...session(e) } };
    case 'revoked':
      return { type: 'srrt', description: '', details: { credential_id: e.refreshTokenId, session_id: e.sessionId } };
    case 'logout':
      return { type: 'slo', description: '', details: { return_to: 'https://app.example.com', session_id: e.sessionId } };
    case 'reuse_detected': {
      const member = family(e.refreshTokenId);
      // latestCounter: a newer token of the family exists, which is what makes this presentation a reuse.
      return {
        type: 'ferrt',
        description: e.reason ?? 'Reused rotating refresh token detected, revoked the family',
        details: member ? { ...member, latestCounter: member.tokenCounter + 1 } : {},
      };
    }
    case 'error':
      if (e.refreshTokenId !== null || e.parentRefreshTokenId !== null) {
        return { type: 'fertft', description: e.reason ?? 'Unknown or invalid refresh token.', details: { failure_reason: 'invalid_token', ...session(e) } };
      }
      return { type: 'feacft', description: e.reason ?? 'Invalid authorization code', details: { code: '*************************************Zx4' } };
  }
}

/** Auth0 tenant logs as a Log Stream (custom webhook, JSON lines) delivers them. */
export const auth0Renderer: IdpRenderer = {
  format: 'auth0',

  render(e) {
    const { type, description, details } = typeAndDetails(e);
    const id = logId(e);
    const data: Json = {
      date: new Date(e.ts).toISOString(),
      type,
      description,
      connection_id: '',
      client_id: e.clientId,
      client_name: '',
      ip: e.ip,
      user_agent: 'Chrome 131.0.0 / Mac OS X 10.15.7',
      details: Object.fromEntries(Object.entries(details).filter(([, v]) => v !== null && v !== undefined)),
      hostname: HOSTNAME,
      // Auth0 writes an empty string, not null, when no user is involved.
      user_id: e.subject ?? '',
      user_name: '',
      log_id: id,
      tenant_name: TENANT,
    };
    return JSON.stringify({ log_id: id, data });
  },
};
