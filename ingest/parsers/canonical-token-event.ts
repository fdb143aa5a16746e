// Consumes TokenEvents written as JSON in the canonical model (ARCHITECTURE.md; `ts` and `exp` as
// epoch ms or ISO-8601) and emits them validated. Also exports the string bounds and the blank
// event every IdP parser builds on, so all IdPs bound strings alike: identifiers over the schema's
// 4096 characters are rejected (cutting one would forge another id), free text is truncated.
// Guarantees: pure, never throws, unknown keys are rejected rather than silently dropped.
import { z } from 'zod';
import { IDPS, TOKEN_EVENT_TYPES, tokenEventSchema, type IdpFormat, type TokenEvent, type TokenEventType } from '../model.js';
import { isObject, str, type JsonObject } from '../fields.js';
import { FieldError, fail, guard, type ParseResult } from '../parse-result.js';
import { epochToMs, isoToMs } from '../time.js';
import type { IdpParser } from './types.js';

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

const ID_FIELDS = ['tokenId', 'refreshTokenId', 'parentRefreshTokenId', 'sessionId', 'subject', 'clientId', 'ip'] as const;
const idString = z.string().max(MAX_TEXT).nullable().optional();

// The wire shape: the model with times still raw and idp optional (defaults to `canonical`).
// `.strict()` because this is our own contract: a misspelt key (`token_id`) must be reported,
// not turn into an event that silently lost its identifier.
const wireSchema = z
  .object({
    ts: z.union([z.number(), z.string()]),
    idp: z.enum(IDPS).optional(),
    type: z.enum(TOKEN_EVENT_TYPES),
    idpEventType: idString,
    tokenId: idString,
    refreshTokenId: idString,
    parentRefreshTokenId: idString,
    sessionId: idString,
    subject: idString,
    clientId: idString,
    ip: idString,
    exp: z.union([z.number(), z.string()]).nullable().optional(),
    reason: z.string().nullable().optional(),
  })
  .strict();

/** Epoch ms (an integer of ms magnitude) or an ISO-8601 string; seconds are refused, not guessed. */
function canonicalTime(value: number | string, path: string): number {
  if (typeof value === 'string') return isoToMs(value);
  // 1e11 ms is 1973 and 1e14 ms is year 5138: outside that band the producer wrote s, µs or ns.
  if (!Number.isInteger(value) || value < 1e11 || value >= 1e14) {
    throw new FieldError('invalid_timestamp', `${path}: expected epoch milliseconds or ISO-8601, got ${value}`);
  }
  return epochToMs(value);
}

/** The canonical TokenEvent JSON, for IdPs without a parser of their own or events another tokenwatch normalised. */
export const canonicalTokenEventParser: IdpParser = {
  format: 'canonical',

  // Lower-case model types only, so Keycloak's upper-case `type` never matches; Auth0 codes and
  // Okta (`eventType`) are not model types either.
  detect(record) {
    const type = record.type;
    return (
      typeof type === 'string' &&
      (TOKEN_EVENT_TYPES as readonly string[]).includes(type) &&
      record.ts !== undefined &&
      (typeof record.tokenId === 'string' || typeof record.refreshTokenId === 'string' || typeof record.sessionId === 'string')
    );
  },

  parse(record) {
    return guard((): ParseResult<TokenEvent> => {
      if (!isObject(record)) return fail('invalid_field', '(record): expected a JSON object');
      for (const required of ['ts', 'type'] as const) {
        if (record[required] === undefined || record[required] === null) return fail('missing_field', `${required}: missing`);
      }
      const result = wireSchema.safeParse({ ...record, reason: typeof record.reason === 'string' ? boundedText(record.reason) : record.reason });
      if (!result.success) {
        const issue = result.error.issues[0]!;
        const path = issue.path.map(String).join('.') || '(record)';
        return fail('invalid_field', `${path}: ${issue.message}`);
      }
      const wire = result.data;
      const event: TokenEvent = {
        ...blankTokenEvent(wire.idp ?? 'canonical', wire.type, canonicalTime(wire.ts, 'ts'), wire.idpEventType ?? null),
        exp: wire.exp === undefined || wire.exp === null ? null : canonicalTime(wire.exp, 'exp'),
        reason: wire.reason ?? null,
      };
      for (const key of ID_FIELDS) event[key] = wire[key] ?? null;
      return { ok: true, event: tokenEventSchema.parse(event) };
    });
  },
};
