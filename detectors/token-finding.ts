// The skeleton of a finding about one token seen at a gateway: identity fields from the
// request and the lifecycle store, the deployment that served it. Detectors fill in
// severity, action, summary and evidence. Also the bounded map of open findings by token.
import type { AccessEvent } from '../ingest/model.js';
import type { LifecycleStore } from '../lifecycle/store.js';
import { compact, findingId, iso, type Finding } from './finding.js';

/** A new finding of `kind` about the token `key` used by request `e`. */
export function tokenFinding(kind: Finding['kind'], key: string, e: AccessEvent, store: LifecycleStore, slot: number, firstEventAt: number): Finding {
  return compact({
    id: findingId(kind, key),
    kind,
    severity: 'high',
    action: 'alert',
    detectedAt: iso(e.ts),
    firstEventAt: iso(firstEventAt),
    tokenFp: e.tokenFp ?? undefined,
    jti: e.claims?.jti ?? undefined,
    sessionId: e.claims?.sid ?? (slot >= 0 ? store.sessionOf(slot) : null) ?? undefined,
    subject: e.claims?.sub ?? undefined,
    service: e.deployment.service ?? undefined,
    version: e.deployment.version ?? undefined,
    track: e.deployment.track ?? undefined,
    summary: '',
    evidence: {},
  }) as Finding;
}

/** Open findings by token key, oldest dropped beyond `cap` (a dropped one reopens under the same id). */
export class OpenFindings<T> {
  private readonly open = new Map<string, T>();

  constructor(private readonly cap = 10_000) {}

  get(key: string): T | undefined {
    return this.open.get(key);
  }

  set(key: string, value: T): void {
    this.open.set(key, value);
    if (this.open.size > this.cap) this.open.delete(this.open.keys().next().value as string);
  }
}

/** The last request behind a finding, as evidence. */
export const lastRequest = (e: AccessEvent): Record<string, unknown> => ({
  ts: iso(e.ts),
  requestId: e.requestId,
  gateway: e.gateway,
  clientIp: e.clientIp,
  userAgent: e.userAgent,
  path: e.path,
  status: e.status,
});
