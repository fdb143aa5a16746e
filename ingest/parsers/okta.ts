// Consumes Okta System Log events (the LogEvent objects of GET /api/v1/logs and of log streaming).
// Emits one TokenEvent per OAuth 2.0 access/refresh token grant, revocation and reuse detection, of
// both the org (`app.oauth2.token.*`) and custom (`app.oauth2.as.token.*`) authorization servers, and
// per `user.session.end`; every other event type is skipped. Pure, never throws; an `app.oauth2` token
// event type this parser does not know (Okta adds types) is skipped as `unknown_event_type`: it carries
// no token event we understand, and the record is not broken.
import { isObject, obj, str, type JsonObject } from '../fields.js';
import { FieldError, fail, guard, skip, type ParseResult } from '../parse-result.js';
import type { TokenEvent, TokenEventType } from '../model.js';
import { isoToMs } from '../time.js';
import { UNKNOWN_EVENT_TYPE, blankTokenEvent, boundedText, idField } from './idp-fields.js';
import type { IdpParser } from './types.js';

// The token event types of Okta's event-type catalog, org and custom authorization server alike.
// A grant logs one event per token it issues; a failed grant logs the bare `…token.grant`
// (the legacy `app.oauth2.token.grant_failure` maps to it).
const PREFIXES = ['app.oauth2.token.', 'app.oauth2.as.token.'] as const;
const KNOWN = new Set([
  'grant',
  'grant.access_token',
  'grant.refresh_token',
  'grant.id_token',
  'revoke',
  'revoke.implicit.as',
  'revoke.implicit.client',
  'revoke.implicit.user',
  'detect_reuse',
]);

const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/i;

/** Okta System Log events. */
export const oktaParser: IdpParser = {
  format: 'okta',

  // `eventType` and `published` are on every LogEvent and on no Keycloak, Auth0, canonical or gateway record.
  detect(record) {
    return typeof record.eventType === 'string' && typeof record.published === 'string';
  },

  parse(record) {
    return guard((): ParseResult<TokenEvent> => {
      const eventType = str(record, 'eventType');
      if (eventType === null) return fail('missing_field', 'eventType: missing');
      if (!EVENT_TYPE.test(eventType) || eventType.length > 256) {
        return fail('invalid_field', `eventType: not an Okta event type: ${JSON.stringify(eventType.slice(0, 64))}`);
      }
      const published = str(record, 'published');
      if (published === null) return fail('missing_field', 'published: missing');
      const ts = isoToMs(published);

      if (eventType === 'user.session.end') {
        if (outcome(record) === 'FAILURE') return skip('failed_operation', 'okta user.session.end failed: the session stands');
        const actor = obj(record, 'actor');
        return ok({
          ...base(record, 'logout', ts, eventType, []),
          subject: actor && str(actor, 'type') === 'User' ? idField(actor, 'id') : null,
        });
      }
      const prefix = PREFIXES.find((p) => eventType.startsWith(p));
      if (!prefix) return skip('no_token_event', `okta ${eventType} carries no token event`);
      const kind = eventType.slice(prefix.length);
      if (!KNOWN.has(kind)) return skip(UNKNOWN_EVENT_TYPE);

      const targets = targetsOf(record);
      const failed = outcome(record) === 'FAILURE';
      const grantType = str(record, 'debugContext.debugData.grantType');
      const access = targets.find((t) => t.type === 'access_token') ?? null;
      const refresh = targets.find((t) => t.type === 'refresh_token') ?? null;
      const reason = boundedText(str(record, 'outcome.reason'));

      if (kind === 'detect_reuse') return ok({ ...base(record, 'reuse_detected', ts, eventType, targets), refreshTokenId: refresh?.id ?? null, reason });
      if (kind === 'grant.id_token') return skip('no_token_event', `okta ${eventType}: an ID token is not a bearer token for APIs`);
      if (failed) {
        return ok({ ...base(record, 'error', ts, eventType, targets), tokenId: access?.id ?? null, refreshTokenId: refresh?.id ?? null, reason });
      }
      if (kind === 'grant') return skip('no_token_event', `okta ${eventType} succeeded without naming a token`);
      if (kind === 'grant.access_token' || kind === 'grant.refresh_token') {
        // A refresh logs the same grant events as a first issue, told apart by debugData.grantType.
        const type = grantType === 'refresh_token' ? 'refreshed' : 'issued';
        if (kind === 'grant.access_token') {
          return ok({ ...base(record, type, ts, eventType, targets), tokenId: access?.id ?? null, exp: access?.expires ?? null });
        }
        // The refresh token's own expiry is left out: `exp` is the access token's, which detectors key on.
        return ok({ ...base(record, type, ts, eventType, targets), refreshTokenId: refresh?.id ?? null });
      }
      if (kind.startsWith('revoke.implicit.')) {
        // Everything of the user / client / authorization server an admin deactivated. The actor and
        // its session are the admin's, so neither names the tokens' client or session.
        const app = targets.find((t) => t.type !== null && /ClientApp|AppInstance/.test(t.type));
        return ok({ ...base(record, 'revoked', ts, eventType, targets), sessionId: null, clientId: app?.id ?? null });
      }
      return ok({ ...base(record, 'revoked', ts, eventType, targets), tokenId: access?.id ?? null, refreshTokenId: refresh?.id ?? null });
    });
  },
};

interface Target {
  type: string | null;
  id: string | null;
  subject: string | null;
  expires: number | null;
}

/** `target[]`, each with its `detailEntry` (`expires`, `subject`, `hash` on token targets). */
function targetsOf(record: JsonObject): Target[] {
  const raw = record.target;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new FieldError('invalid_field', 'target: expected an array');
  return raw.map((t, i) => {
    if (!isObject(t)) throw new FieldError('invalid_field', `target.${i}: expected an object`);
    const expires = str(t, 'detailEntry.expires');
    return {
      type: str(t, 'type'),
      id: idField(t, 'id'),
      subject: idField(t, 'detailEntry.subject'),
      expires: expires === null ? null : isoToMs(expires),
    };
  });
}

/** The fields every Okta token event shares: client, subject, session, address. */
function base(record: JsonObject, type: TokenEventType, ts: number, eventType: string, targets: Target[]): TokenEvent {
  const actor = obj(record, 'actor');
  const actorType = actor ? str(actor, 'type') : null;
  // Token requests are made by the OAuth client: actor.type PublicClientApp, actor.id = client_id.
  const clientId = actor && actorType !== null && /ClientApp/.test(actorType) ? idField(actor, 'id') : null;
  const token = targets.find((t) => t.type === 'access_token' || t.type === 'refresh_token');
  const user = targets.find((t) => t.type === 'User');
  // Okta writes "unknown" when the request had no Okta session (client credentials, API calls).
  const session = idField(record, 'authenticationContext.externalSessionId');
  return {
    ...blankTokenEvent('okta', type, ts, eventType),
    clientId,
    subject: token?.subject ?? user?.id ?? null,
    sessionId: session === 'unknown' ? null : session,
    ip: idField(record, 'client.ipAddress'),
  };
}

function outcome(record: JsonObject): string | null {
  return str(record, 'outcome.result');
}

function ok(event: TokenEvent): ParseResult<TokenEvent> {
  return { ok: true, event };
}
