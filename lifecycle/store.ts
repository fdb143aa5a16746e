// Per-token, per-session and per-refresh-family state rebuilt from gateway and IdP events.
// Consumes StreamEvents in event-time order; keeps, per token (keyed by jti, else tokenFp):
// issue, first / last use, uses, clients, routes, failures, expiry, revocation (token,
// session, family or subject) and refresh lineage. Memory is bounded: state is evicted at
// expiry (or last use + idle TTL) plus a grace, and a hard LRU cap protects the process;
// evictions are counted. All decisions use stream time, never the wall clock.
import { z } from 'zod';
import type { AccessEvent, TokenEvent } from '../ingest/model.js';
import type { Metrics } from '../common/metrics.js';
import type { StreamEvent } from './stream-event.js';
import { TokenTable, SEEN_AT_GATEWAY, ANNOUNCED_BY_IDP, SUPERSEDED, C1_V6, C2_V6 } from './token-table.js';
import { hash32, isIpv6, networkPrefix, uaFamily } from './clients.js';
import { DeadlineHeap } from './deadline-heap.js';
import { Registry, type Entry } from './registry.js';
import { HashIndex, hashKey, hashed } from './hash-index.js';

export const lifecycleConfigSchema = z
  .object({
    /** How long state is kept after a token expires (or goes idle), ms. Default 10 minutes. */
    evictionGraceMs: z.number().int().nonnegative().default(10 * 60_000),
    /** Idle time after which a token without `exp` (opaque, API key) is forgotten, ms. Default 1 hour. */
    idleTtlMs: z.number().int().positive().default(60 * 60_000),
    /** Hard cap on tracked tokens; the least recently used are evicted beyond it. Default 2,000,000. */
    maxTokens: z.number().int().positive().default(2_000_000),
    /** Idle time after which a session, refresh token or subject revocation is forgotten, ms. Default 24 hours. */
    sessionTtlMs: z.number().int().positive().default(24 * 60 * 60_000),
  })
  .strict();
export type LifecycleConfig = z.output<typeof lifecycleConfigSchema>;

/** Why and when a token stopped being valid. */
export interface Revocation {
  at: number;
  by: 'token' | 'session' | 'family' | 'subject';
}

/** One refresh token's redemption history (RFC 9700 section 4.14.2 reuse detection). */
export interface RefreshState {
  family: number;
  issuedAt: number;
  /** When it was redeemed for a new token pair; NaN while unused. */
  redeemedAt: number;
  redeemedBy: string | null;
  redeemIp: string | null;
  lastSeen: number;
}

interface SubjectRevocation {
  revokedAt: number;
  lastSeen: number;
}

/** A client as the store sees it: network and UA family (hashes), and the address family. */
export interface ClientKey {
  net: number;
  ua: number;
  v6: boolean;
  network: string | null;
  family: string;
}

/** Everything the store holds, as plain data: what a checkpoint saves. */
export interface StoreState {
  tokens: TokenTable;
  index: HashIndex;
  expiry: DeadlineHeap;
  sessions: Registry;
  families: Registry;
  refresh: Map<string, RefreshState>;
  subjects: Map<string, SubjectRevocation>;
  lastSweep: number;
}

/** The lifecycle store: token table, sessions, refresh families, subject revocations. */
export class LifecycleStore {
  readonly state: StoreState;
  private readonly uaCache = new Map<string, { name: string; hash: number }>();
  private readonly netCache = new Map<string, { network: string | null; hash: number; v6: boolean; key: ClientKey | null }>();
  private lastClientEvent: AccessEvent | null = null;
  private lastClientKey: ClientKey | null = null;
  // Detectors and the store look up the same token in turn for each event: the last key's hash
  // and slot are kept, the slot only while the index has not changed since (indexVersion).
  private lastKey: string | null = null;
  private lastHi = 0;
  private lastLo = 0;
  private lastSlot = -1;
  private lastSlotVersion = -1;
  private indexVersion = 0;
  private readonly evictions: { expired: { value: number }; lru: { value: number } };
  /** Called with a slot about to be evicted, while its state can still be read. */
  onEvict: ((slot: number) => void) | null = null;

  constructor(
    private readonly config: LifecycleConfig,
    metrics: Metrics,
    restored?: StoreState,
  ) {
    this.state = restored ?? {
      tokens: new TokenTable(),
      index: new HashIndex(),
      expiry: new DeadlineHeap(),
      sessions: new Registry(),
      families: new Registry(),
      refresh: new Map(),
      subjects: new Map(),
      lastSweep: -Infinity,
    };
    this.evictions = {
      expired: metrics.counter('tokenwatch_lifecycle_evictions_total', { cause: 'expired' }),
      lru: metrics.counter('tokenwatch_lifecycle_evictions_total', { cause: 'lru_cap' }),
    };
  }

  get tokens(): TokenTable {
    return this.state.tokens;
  }

  /** Number of tracked tokens. */
  get size(): number {
    return this.tokens.size;
  }

  /** The key a gateway request's token is tracked under: its jti, else its fingerprint. */
  static keyOf(e: AccessEvent): string | null {
    return e.claims?.jti ?? e.tokenFp;
  }

  /** The slot of a tracked token, or -1. */
  find(key: string | null): number {
    if (key === null) return -1;
    if (key !== this.lastKey) {
      hashKey(key);
      this.lastKey = key;
      this.lastHi = hashed.hi;
      this.lastLo = hashed.lo;
    } else if (this.lastSlotVersion === this.indexVersion) return this.lastSlot;
    this.lastSlot = this.state.index.find(this.state.tokens, this.lastHi, this.lastLo);
    this.lastSlotVersion = this.indexVersion;
    return this.lastSlot;
  }

  /** The client of a request, reduced to what the store compares (shared: do not modify). */
  clientOf(e: AccessEvent): ClientKey {
    // Detectors and the store ask about the same event in turn; addresses and user agents
    // repeat across requests: both are worth remembering (bounded caches).
    if (this.lastClientEvent === e) return this.lastClientKey!;
    const ip = e.clientIp ?? '';
    let net = this.netCache.get(ip);
    if (net === undefined) {
      const network = networkPrefix(e.clientIp);
      net = { network, hash: network === null ? 0 : hash32(network), v6: isIpv6(e.clientIp), key: null };
      if (this.netCache.size > 100_000) this.netCache.clear();
      this.netCache.set(ip, net);
    }
    const ua = e.userAgent ?? '';
    let family = this.uaCache.get(ua);
    if (family === undefined) {
      const name = uaFamily(e.userAgent);
      family = { name, hash: hash32(name) };
      if (this.uaCache.size > 10_000) this.uaCache.clear();
      this.uaCache.set(ua, family);
    }
    // An address nearly always comes with the same user agent: its key is kept with it.
    let key = net.key;
    if (key === null || key.family !== family.name) {
      key = { net: net.hash, ua: family.hash, v6: net.v6, network: net.network, family: family.name };
      net.key = key;
    }
    this.lastClientEvent = e;
    this.lastClientKey = key;
    return key;
  }

  /** The earliest revocation that applies to `slot` (issued before it), or null. */
  revocation(slot: number, subject: string | null): Revocation | null {
    // Asked on every accepted request, nearly always of a token nothing revoked: no object
    // is made until one is found.
    const t = this.tokens;
    const issued = t.issuedAt[slot]!;
    let at = t.revokedAt[slot]!;
    let by: Revocation['by'] = 'token';
    const s = t.session[slot]!;
    if (s >= 0) {
      const r = this.state.sessions.at(s).revokedAt;
      if (covers(r, issued) && !(at <= r)) {
        at = r;
        by = 'session';
      }
    }
    const f = t.family[slot]!;
    if (f >= 0) {
      const r = this.state.families.at(f).revokedAt;
      if (covers(r, issued) && !(at <= r)) {
        at = r;
        by = 'family';
      }
    }
    if (subject !== null && this.state.subjects.size > 0) {
      const r = this.state.subjects.get(subject)?.revokedAt ?? NaN;
      if (covers(r, issued) && !(at <= r)) {
        at = r;
        by = 'subject';
      }
    }
    return Number.isNaN(at) ? null : { at, by };
  }

  /** The session id of a slot, or null. */
  sessionOf(slot: number): string | null {
    const s = this.tokens.session[slot]!;
    return s >= 0 ? this.state.sessions.at(s).id : null;
  }

  /** The refresh family root of a slot, or null. */
  familyOf(slot: number): string | null {
    const f = this.tokens.family[slot]!;
    return f >= 0 ? this.state.families.at(f).id : null;
  }

  /** Folds one event into the state. Call after the detectors have seen it. */
  apply(e: StreamEvent): void {
    if (e.source === 'access') this.applyAccess(e.event);
    else this.applyToken(e.event);
  }

  /** Evicts what expired before `now` (stream time) and enforces the LRU cap. */
  advance(now: number): void {
    const t = this.tokens;
    const expiry = this.state.expiry;
    while (expiry.size > 0 && expiry.peekDeadline() <= now) {
      const { slot, gen } = expiry.pop();
      if (t.gen[slot] !== gen) continue;
      const deadline = this.deadline(slot);
      if (deadline > now) {
        expiry.push(deadline, slot, gen);
        continue;
      }
      this.evict(slot);
      this.evictions.expired.value++;
    }
    while (t.size > this.config.maxTokens && t.tail >= 0) {
      this.evict(t.tail);
      this.evictions.lru.value++;
    }
    // Sessions, refresh tokens and subject revocations are far fewer: sweep them hourly.
    if (now - this.state.lastSweep >= 60 * 60_000) {
      this.state.lastSweep = now;
      this.sweep(now);
    }
  }

  private applyAccess(e: AccessEvent): void {
    const key = LifecycleStore.keyOf(e);
    if (key === null) return;
    const t = this.tokens;
    let slot = this.find(key);
    const created = slot < 0;
    if (created) slot = this.create(key);
    else t.touch(slot);
    t.flags[slot]! |= SEEN_AT_GATEWAY;
    const c = e.claims;
    let expLearned = false;
    if (c) {
      if (Number.isNaN(t.exp[slot]!) && c.exp !== null) {
        t.exp[slot] = c.exp;
        expLearned = true;
      }
      if (Number.isNaN(t.issuedAt[slot]!) && c.iat !== null) t.issuedAt[slot] = c.iat;
      if (t.session[slot]! < 0 && c.sid !== null) this.link(slot, 'session', this.state.sessions.slot(c.sid, e.ts));
    }
    if (Number.isNaN(t.firstUse[slot]!)) t.firstUse[slot] = e.ts;
    if (!(t.lastUse[slot]! >= e.ts)) t.lastUse[slot] = e.ts;
    t.uses[slot]!++;
    if (e.authError !== null) t.failures[slot]!++;
    this.recordClient(slot, this.clientOf(e), e.ts);
    if (e.route !== null || e.path !== null) this.recordRoute(slot, hash32(e.route ?? e.path!));
    if (created || expLearned) this.schedule(slot);
  }

  private recordClient(slot: number, c: ClientKey, ts: number): void {
    const t = this.tokens;
    if (t.clientCount[slot] === 0) {
      this.setClient(slot, 1, c, ts);
      t.clientCount[slot] = 1;
    } else if (t.c1Net[slot] === c.net && t.c1Ua[slot] === c.ua) {
      t.c1Last[slot] = Math.max(t.c1Last[slot]!, ts);
    } else if (t.clientCount[slot]! > 1 && t.c2Net[slot] === c.net && t.c2Ua[slot] === c.ua) {
      t.c2Last[slot] = Math.max(t.c2Last[slot]!, ts);
    } else {
      // A new distinct client replaces the one used least recently.
      const which = t.clientCount[slot] === 1 || t.c2Last[slot]! < t.c1Last[slot]! ? 2 : 1;
      this.setClient(slot, which, c, ts);
      if (t.clientCount[slot]! < 255) t.clientCount[slot]!++;
    }
  }

  private setClient(slot: number, which: 1 | 2, c: ClientKey, ts: number): void {
    const t = this.tokens;
    if (which === 1) {
      t.c1Net[slot] = c.net;
      t.c1Ua[slot] = c.ua;
      t.c1First[slot] = ts;
      t.c1Last[slot] = ts;
      t.flags[slot] = c.v6 ? t.flags[slot]! | C1_V6 : t.flags[slot]! & ~C1_V6;
    } else {
      t.c2Net[slot] = c.net;
      t.c2Ua[slot] = c.ua;
      t.c2First[slot] = ts;
      t.c2Last[slot] = ts;
      t.flags[slot] = c.v6 ? t.flags[slot]! | C2_V6 : t.flags[slot]! & ~C2_V6;
    }
  }

  private recordRoute(slot: number, route: number): void {
    const t = this.tokens;
    if (t.r1[slot] === route || t.r2[slot] === route) return;
    if (t.routeCount[slot] === 0) t.r1[slot] = route;
    else if (t.routeCount[slot] === 1) t.r2[slot] = route;
    if (t.routeCount[slot]! < 255) t.routeCount[slot]!++;
  }

  private applyToken(e: TokenEvent): void {
    switch (e.type) {
      case 'issued':
      case 'refreshed':
        this.issue(e);
        break;
      case 'revoked':
        this.revoke(e);
        break;
      case 'logout':
        if (e.sessionId !== null) revokeEntry(this.state.sessions.at(this.state.sessions.slot(e.sessionId, e.ts)), e.ts);
        else if (e.subject !== null) this.revokeSubject(e.subject, e.ts);
        break;
      case 'reuse_detected':
        // The IdP revoked the whole family on reuse (RFC 9700 section 4.14.2).
        this.revokeFamilyOf(e.parentRefreshTokenId ?? e.refreshTokenId, e.ts);
        break;
      case 'error':
        break;
    }
  }

  private issue(e: TokenEvent): void {
    const { refresh, families } = this.state;
    const parent = e.parentRefreshTokenId !== null ? refresh.get(e.parentRefreshTokenId) : undefined;
    let family = parent?.family ?? -1;
    const root = e.parentRefreshTokenId ?? e.refreshTokenId;
    if (family < 0 && root !== null) family = families.slot(root, e.ts);
    if (parent) {
      if (Number.isNaN(parent.redeemedAt)) {
        parent.redeemedAt = e.ts;
        parent.redeemedBy = e.refreshTokenId;
        parent.redeemIp = e.ip;
      }
      parent.lastSeen = e.ts;
      families.slot(families.at(family).id, e.ts);
    }
    if (e.refreshTokenId !== null && family >= 0 && !refresh.has(e.refreshTokenId)) {
      refresh.set(e.refreshTokenId, { family, issuedAt: e.ts, redeemedAt: NaN, redeemedBy: null, redeemIp: null, lastSeen: e.ts });
      families.ref(family);
    }
    if (e.tokenId === null) return;
    const t = this.tokens;
    let slot = this.find(e.tokenId);
    if (slot < 0) slot = this.create(e.tokenId);
    t.flags[slot]! |= ANNOUNCED_BY_IDP;
    t.issuedAt[slot] = e.ts;
    if (e.exp !== null) t.exp[slot] = e.exp;
    if (e.sessionId !== null && t.session[slot]! < 0) this.link(slot, 'session', this.state.sessions.slot(e.sessionId, e.ts));
    if (family >= 0) {
      if (t.family[slot]! < 0) this.link(slot, 'family', family);
      const f = families.at(family);
      const previous = f.latestToken === null ? -1 : this.find(f.latestToken);
      if (previous >= 0 && previous !== slot) t.flags[previous]! |= SUPERSEDED;
      f.latestToken = e.tokenId;
    }
    this.schedule(slot);
  }

  private revoke(e: TokenEvent): void {
    if (e.tokenId !== null) {
      let slot = this.find(e.tokenId);
      if (slot < 0) slot = this.create(e.tokenId);
      this.tokens.revokedAt[slot] = minTime(this.tokens.revokedAt[slot]!, e.ts);
      this.schedule(slot);
    }
    // RFC 7009 section 2.1: revoking a refresh token invalidates the access tokens of its grant.
    if (e.refreshTokenId !== null) this.revokeFamilyOf(e.refreshTokenId, e.ts);
    if (e.tokenId === null && e.refreshTokenId === null && e.sessionId !== null) {
      revokeEntry(this.state.sessions.at(this.state.sessions.slot(e.sessionId, e.ts)), e.ts);
    }
  }

  private revokeFamilyOf(refreshTokenId: string | null, ts: number): void {
    if (refreshTokenId === null) return;
    const { refresh, families } = this.state;
    const known = refresh.get(refreshTokenId);
    revokeEntry(families.at(known ? known.family : families.slot(refreshTokenId, ts)), ts);
  }

  private revokeSubject(subject: string, ts: number): void {
    const s = this.state.subjects.get(subject);
    if (s) s.revokedAt = minTime(s.revokedAt, ts);
    else this.state.subjects.set(subject, { revokedAt: ts, lastSeen: ts });
  }

  private link(slot: number, to: 'session' | 'family', index: number): void {
    if (to === 'session') {
      this.tokens.session[slot] = index;
      this.state.sessions.ref(index);
    } else {
      this.tokens.family[slot] = index;
      this.state.families.ref(index);
    }
  }

  private create(key: string): number {
    this.indexVersion++;
    hashKey(key);
    const slot = this.tokens.allocate(hashed.hi, hashed.lo);
    this.state.index.insert(this.state.tokens, slot);
    return slot;
  }

  // Called once a slot's fields are set (new slot, or its expiry became known). Earlier entries
  // for the slot stay in the heap and are re-checked when popped.
  private schedule(slot: number): void {
    this.state.expiry.push(this.deadline(slot), slot, this.tokens.gen[slot]!);
  }

  // Kept until expiry (or idle TTL after last use) plus grace, so revocations and expiry are
  // still known for late uses; a revoked token without exp is kept for the idle TTL like others.
  private deadline(slot: number): number {
    const t = this.tokens;
    const exp = t.exp[slot]!;
    const last = Math.max(t.lastUse[slot]! || 0, t.issuedAt[slot]! || 0, t.revokedAt[slot]! || 0);
    const end = Number.isNaN(exp) ? last + this.config.idleTtlMs : Math.max(exp, last);
    return end + this.config.evictionGraceMs;
  }

  private evict(slot: number): void {
    this.onEvict?.(slot);
    this.indexVersion++;
    const t = this.tokens;
    this.state.index.remove(t, slot);
    if (t.session[slot]! >= 0) this.state.sessions.unref(t.session[slot]!);
    if (t.family[slot]! >= 0) this.state.families.unref(t.family[slot]!);
    t.release(slot);
  }

  private sweep(now: number): void {
    const ttl = this.config.sessionTtlMs;
    const { refresh, families, sessions, subjects } = this.state;
    for (const [id, r] of refresh) {
      if (now - r.lastSeen <= ttl) continue;
      refresh.delete(id);
      families.unref(r.family);
    }
    for (const [id, s] of subjects) if (now - Math.max(s.lastSeen, s.revokedAt) > ttl) subjects.delete(id);
    sessions.sweep(now, ttl);
    families.sweep(now, ttl);
  }
}

// A revocation at `at` covers the tokens that existed when it happened, not those issued after it.
const covers = (at: number, issued: number): boolean => !Number.isNaN(at) && !(issued > at);

const minTime = (a: number, b: number): number => (Number.isNaN(a) ? b : Math.min(a, b));

function revokeEntry(entry: Entry, ts: number): void {
  entry.revokedAt = minTime(entry.revokedAt, ts);
}
