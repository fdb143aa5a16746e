// The canonical AccessEvent JSON (ARCHITECTURE.md) as an input format: events another
// tokenwatch (or a user's own pipeline) already normalised. Validated with the model's
// zod schema; the event passes through unchanged, it already carries a fingerprint.
import { accessEventSchema, type AccessEvent } from '../model.js';
import type { JsonObject } from '../fields.js';
import { fail, type ParseResult } from '../parse-result.js';

/** True for records shaped like a canonical AccessEvent. */
export function detectCanonicalAccess(record: JsonObject): boolean {
  // Property loads, not `in`: asked of every access record, and JSON holds no undefined values.
  return record.tokenFp !== undefined && record.gateway !== undefined && record.deployment !== undefined;
}

/** Validates a canonical AccessEvent record. */
export function parseCanonicalAccess(record: JsonObject): ParseResult<AccessEvent> {
  const result = accessEventSchema.safeParse(record);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(record)';
  const missing = issue.code === 'invalid_type' && record[String(issue.path[0])] === undefined;
  return fail(missing ? 'missing_field' : 'invalid_field', `${path}: ${issue.message}`);
}
