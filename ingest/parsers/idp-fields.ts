// Field readers every IdP parser (Keycloak, Auth0, Okta, canonical) builds its TokenEvents with.
// Consumes the JSON values of one IdP record; emits identifiers, free text and a blank TokenEvent.
// Guarantees all IdPs bound strings alike: identifiers over the schema's 4096 characters are
// rejected (cutting one would forge another id), free text is truncated.
import { str, type JsonObject } from '../fields.js';
import { FieldError } from '../parse-result.js';
import type { IdpFormat, TokenEvent, TokenEventType } from '../model.js';

/**
 * The skip reason of a well-formed record whose event type the parser does not know (a newer IdP
 * release): fixed, not the type itself, because skip reasons are metric labels and must stay bounded.
 */
export const UNKNOWN_EVENT_TYPE = 'unknown_event_type' as const;

/** The schema's cap on every string field, in characters. */
export const MAX_TEXT = 4096;

/** An identifier, unchanged; longer than MAX_TEXT is `invalid_field`. */
export function boundedId(value: string, path: string): string {
  if (value.length > MAX_TEXT) throw new FieldError('invalid_field', `${path}: longer than ${MAX_TEXT} characters`);
  return value;
}

/** An identifier field read with `str` (null when unset), bounded by `boundedId`. */
export function idField(record: JsonObject, path: string): string | null {
  const value = str(record, path);
  return value === null ? null : boundedId(value, path);
}

/** Free text (reasons, error descriptions) cut to MAX_TEXT: its tail is never a lookup key. */
export function boundedText(value: string | null): string | null {
  return value !== null && value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) : value;
}

/** A TokenEvent with every optional field empty, for parsers to spread their fields over. */
export function blankTokenEvent(idp: IdpFormat, type: TokenEventType, ts: number, idpEventType: string | null): TokenEvent {
  return {
    ts,
    idp,
    type,
    idpEventType,
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
}
