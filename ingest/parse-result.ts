// The result every parser returns instead of throwing, and the closed set of reasons
// a record can be rejected for. A reason becomes the DLQ reason and a metric label.

export const DLQ_REASONS = [
  'empty_line',
  'line_too_long',
  'invalid_utf8',
  'binary_input',
  'invalid_json',
  'nesting_too_deep',
  'unknown_format',
  'format_mismatch',
  'missing_field',
  'invalid_field',
  'invalid_timestamp',
  'token_too_large',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];

/** Why a valid record carries no event; a metric label, so a closed set (the record's own words go in `detail`). */
export const SKIP_REASONS = ['no_token_event', 'unknown_event_type', 'failed_operation', 'not_http', 'control_message'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** A parsed event, a valid record that carries no event (skipped, counted), or a rejection. */
export type ParseResult<T> =
  | { ok: true; event: T }
  | { ok: true; event: null; skipped: SkipReason; detail: string }
  | { ok: false; reason: DlqReason; detail: string };

export const fail = (reason: DlqReason, detail: string): { ok: false; reason: DlqReason; detail: string } => ({
  ok: false,
  reason,
  detail,
});

export const skip = (skipped: SkipReason, detail: string = skipped): { ok: true; event: null; skipped: SkipReason; detail: string } => ({
  ok: true,
  event: null,
  skipped,
  detail,
});

/** Thrown inside a parser by the field readers; the parser's wrapper turns it into a rejection. */
export class FieldError extends Error {
  constructor(
    readonly reason: DlqReason,
    message: string,
  ) {
    super(message);
  }
}

/** Runs `body`, mapping a FieldError to a rejection so parsers read fields without threading results. */
export function guard<T>(body: () => ParseResult<T>): ParseResult<T> {
  try {
    return body();
  } catch (err) {
    return rejected(err);
  }
}

/**
 * The rejection of what a parser threw: a FieldError's own reason, anything else invalid_field.
 * Parsers that catch on their per-record path call it directly: guard's one call site of its
 * body is shared by every parser, and calls through it cost more once a process has run several
 * formats.
 */
export function rejected(err: unknown): ParseResult<never> {
  if (err instanceof FieldError) return fail(err.reason, err.message);
  return fail('invalid_field', err instanceof Error ? err.message : String(err));
}
