// Scores findings against the labels of generated traffic: which finding is about which
// injected anomaly or look-alike. Used by `tokenwatch demo` and the end-to-end tests.
import type { Finding } from './finding.js';
import type { Label } from '../ingest/generator/scenarios.js';

/** Whether finding `f` is about what label `l` injected. */
export function labelMatches(f: Finding, l: Label): boolean {
  if (l.kind !== 'benign' && f.kind !== l.kind) return false;
  if (f.kind === 'auth_failure_spike') return l.service !== undefined && f.service === l.service && (l.version === undefined || f.version === l.version);
  if (f.kind === 'refresh_token_reuse') {
    const family = (f.evidence as { family?: unknown }).family;
    return (l.refreshFamily !== undefined && family === l.refreshFamily) || (l.sessionId !== undefined && f.sessionId === l.sessionId);
  }
  return l.jti !== undefined && f.jti === l.jti;
}

/** A finding that takes an automated action or calls for urgent attention. */
export const isSerious = (f: Finding): boolean => f.action !== 'alert' || f.severity === 'high' || f.severity === 'critical';
