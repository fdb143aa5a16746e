// Consumes TokenEvents written as JSON in the canonical model (ARCHITECTURE.md; `ts` and `exp` as
// epoch ms or ISO-8601) and emits them validated, strings bounded as every IdP bounds them
// (idp-fields.ts). Guarantees: pure, never throws, unknown keys are rejected rather than silently dropped.
import { z } from 'zod';
import { IDPS, TOKEN_EVENT_TYPES, tokenEventSchema, type TokenEvent } from '../model.js';
import { isObject } from '../fields.js';
import { FieldError, fail, guard, type ParseResult } from '../parse-result.js';
import { epochToMs, isoToMs } from '../time.js';
import { MAX_TEXT, blankTokenEvent, boundedText } from './idp-fields.js';
import type { IdpParser } from './types.js';

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
