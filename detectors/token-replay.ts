// token_replay: one token used concurrently from clearly different clients. A client is a
// network (/24, /48) plus a user-agent family. Two clients that differ in both, within the
// window, are theft: high, revoke. The same UA family flapping between two IPv4 networks
// is suspicious but explainable (a phone on wifi and cellular): medium alert. A NAT pool,
// a sequential network handover and a dual-stack client switching IPv4 / IPv6 are silent.
import { z } from 'zod';
import type { AccessEvent } from '../ingest/model.js';
import type { Detector } from './detector.js';
import type { LifecycleStore, ClientKey } from '../lifecycle/store.js';
import { C1_V6, C2_V6 } from '../lifecycle/token-table.js';
import { iso, NONE, severityRank, type Finding, type Severity } from './finding.js';
import { lastRequest, OpenFindings, tokenFinding } from './token-finding.js';

export const tokenReplayConfigSchema = z
  .object({
    /** How close in stream time two clients' uses must be to count as concurrent, ms. Default 5 minutes. */
    windowMs: z.number().int().positive().default(5 * 60_000),
  })
  .strict();
export type TokenReplayConfig = z.output<typeof tokenReplayConfigSchema>;

interface Incident {
  finding: Finding;
  clients: Map<string, { network: string | null; uaFamily: string; firstSeen: number; lastSeen: number; requests: number }>;
}

/** Creates the token_replay detector. */
export function createTokenReplay(config: TokenReplayConfig): Detector {
  // Open incidents per token key: bounded by the tokens that actually show replay.
  const incidents = new OpenFindings<Incident>();
  return {
    kind: 'token_replay',
    onEvent(e, store) {
      if (e.source !== 'access') return NONE;
      const key = (e.event.claims?.jti ?? e.event.tokenFp) as string | null;
      const slot = store.find(key);
      if (slot < 0) return NONE;
      const client = store.clientOf(e.event);
      const open = incidents.get(key!);
      const verdict = judge(store, slot, client, e.event.ts, config.windowMs);
      if (!verdict && !open) return NONE;
      const incident = open ?? start(key!, e.event, store, slot);
      if (!open) incidents.set(key!, incident);
      record(incident, client, e.event);
      if (verdict && severityRank(verdict) > severityRank(incident.finding.severity)) incident.finding.severity = verdict;
      update(incident, e.event);
      return [incident.finding];
    },
  };
}

// Compares this request's client with the token's two most recent other clients. Runs on every
// request of a tracked token, so it reads the columns in place rather than gathering them.
function judge(store: LifecycleStore, slot: number, c: ClientKey, ts: number, windowMs: number): Severity | null {
  const t = store.tokens;
  const count = t.clientCount[slot]!;
  if (count === 0) return null;
  const flags = t.flags[slot]!;
  const two = count >= 2;
  // When this request's client is one of the two, when it was last seen.
  const mineLast =
    t.c1Net[slot] === c.net && t.c1Ua[slot] === c.ua ? t.c1Last[slot]! : two && t.c2Net[slot] === c.net && t.c2Ua[slot] === c.ua ? t.c2Last[slot]! : NaN;
  let verdict = compare(null, c, ts, windowMs, mineLast, t.c1Net[slot]!, t.c1Ua[slot]!, t.c1Last[slot]!, (flags & C1_V6) !== 0);
  if (two) verdict = compare(verdict, c, ts, windowMs, mineLast, t.c2Net[slot]!, t.c2Ua[slot]!, t.c2Last[slot]!, (flags & C2_V6) !== 0);
  return verdict;
}

// The verdict after weighing one other client (net, ua, last use, IPv6) against this request's.
function compare(verdict: Severity | null, c: ClientKey, ts: number, windowMs: number, mineLast: number, net: number, ua: number, last: number, v6: boolean): Severity | null {
  if (net === c.net || ts - last > windowMs) return verdict;
  if (ua !== c.ua) return 'high';
  // Same UA family: a handover is sequential; coming back to an earlier network after the
  // other one was used is flapping, unless it is the same dual-stack host's v4 / v6 pair.
  if (mineLast < last && v6 === c.v6 && verdict === null) return 'medium';
  return verdict;
}

function start(key: string, e: AccessEvent, store: LifecycleStore, slot: number): Incident {
  const finding = tokenFinding('token_replay', key, e, store, slot, store.tokens.firstUse[slot]!);
  finding.severity = 'medium';
  return { finding, clients: new Map() };
}

function record(incident: Incident, c: ClientKey, e: AccessEvent): void {
  const id = `${c.network}|${c.family}`;
  const seen = incident.clients.get(id);
  if (seen) {
    seen.lastSeen = e.ts;
    seen.requests++;
  } else if (incident.clients.size < 16) {
    incident.clients.set(id, { network: c.network, uaFamily: c.family, firstSeen: e.ts, lastSeen: e.ts, requests: 1 });
  }
}

function update(incident: Incident, e: AccessEvent): void {
  const f = incident.finding;
  const high = f.severity === 'high' || f.severity === 'critical';
  f.action = high ? 'revoke' : 'alert';
  const clients = [...incident.clients.values()];
  const networks = new Set(clients.map((c) => c.network)).size;
  const families = new Set(clients.map((c) => c.uaFamily)).size;
  f.summary = high
    ? `Token ${f.jti ?? f.tokenFp} was used concurrently from ${networks} networks by ${families} different client types (${clients.map((c) => c.uaFamily).join(', ')}): likely stolen and replayed.`
    : `Token ${f.jti ?? f.tokenFp} alternated between ${networks} networks with the same client type within minutes: possible replay, or a device flapping between networks.`;
  f.evidence = {
    clients,
    lastRequest: lastRequest(e),
    lastEventAt: iso(e.ts),
  };
}
