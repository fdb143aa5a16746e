// The Finding: one detection with its evidence, the output line of `tokenwatch analyze`
// and the payload of alerts, revocations and rollback triggers (ARCHITECTURE.md).
// Ids are deterministic: the same input gives the same ids.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TRACKS } from '../ingest/model.js';

export const FINDING_KINDS = ['token_replay', 'refresh_token_reuse', 'use_after_revoke', 'use_after_expiry', 'auth_failure_spike'] as const;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const ACTIONS = ['alert', 'revoke', 'rollback'] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];
export type Severity = (typeof SEVERITIES)[number];
export type Action = (typeof ACTIONS)[number];

export const findingSchema = z
  .object({
    id: z.string(),
    kind: z.enum(FINDING_KINDS),
    severity: z.enum(SEVERITIES),
    action: z.enum(ACTIONS),
    /** Event time of the event that triggered (or last updated) the finding, ISO-8601. */
    detectedAt: z.string(),
    /** Event time of the first event behind the finding, ISO-8601. */
    firstEventAt: z.string(),
    tokenFp: z.string().optional(),
    jti: z.string().optional(),
    sessionId: z.string().optional(),
    subject: z.string().optional(),
    service: z.string().optional(),
    version: z.string().optional(),
    track: z.enum(TRACKS).optional(),
    summary: z.string(),
    evidence: z.record(z.string(), z.unknown()),
  })
  .strict();
export type Finding = z.infer<typeof findingSchema>;

/**
 * The answer of an event that finds nothing, shared: nearly every event finds nothing in every
 * detector, and a fresh empty array per detector per event is garbage for the collector. Frozen,
 * so a caller that tried to append to it would fail loudly.
 */
export const NONE = Object.freeze([]) as unknown as Finding[];

/** A deterministic finding id from its kind and the identity of what it is about. */
export function findingId(kind: FindingKind, ...parts: Array<string | number | null | undefined>): string {
  return createHash('sha256').update(`${kind}\u0000${parts.map((p) => p ?? '').join('\u0000')}`).digest('hex').slice(0, 32);
}

/** ISO-8601 of an epoch-ms event time. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Rank of a severity, for sorting and thresholds. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Drops undefined and null optional fields so findings serialise compactly and validate. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === null) delete o[k];
  return o;
}
