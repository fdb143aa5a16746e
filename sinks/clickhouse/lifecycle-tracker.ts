// Turns the lifecycle store's state into token_lifecycles rows. The store keeps keys as
// hashes only (its memory budget), so this tracker remembers, per live slot, the strings a
// row needs (key, jti, tokenFp, subject, client id): only when a store is written, at the
// cost of those strings per tracked token. A slot changed by an event is marked dirty and
// its row is cut at the next minute tick, at eviction, or at the end; a revocation of a
// session, refresh family or subject marks every token it covers, found through an index
// of the tracked slots by session, family and subject. A slot's generation guards against
// writing a recycled slot under an evicted token's key.
import type { AccessEvent, TokenEvent } from '../../ingest/model.js';
import { LifecycleStore } from '../../lifecycle/store.js';
import { SEEN_AT_GATEWAY, SUPERSEDED } from '../../lifecycle/token-table.js';
import type { StreamEvent } from '../../lifecycle/stream-event.js';
import type { TokenLifecycle } from './rows.js';

interface SlotMeta {
  gen: number;
  key: string;
  tokenFp: string | null;
  jti: string | null;
  subject: string | null;
  clientId: string | null;
  dirty: boolean;
  /** The state of the last row cut, so a row is cut again when time alone changed it (expiry). */
  written: TokenLifecycle['state'] | null;
  /** The store's session and family index of the slot when it was last indexed (-1: none), and whether `subject` is. */
  session: number;
  family: number;
  subjectIndexed: boolean;
}

/** Slots by a group they belong to; a slot leaves its lists when its token is evicted. */
class SlotLists<K> {
  private readonly lists = new Map<K, number[]>();

  get(key: K): readonly number[] {
    return this.lists.get(key) ?? [];
  }

  add(key: K, slot: number): void {
    const list = this.lists.get(key);
    if (list === undefined) this.lists.set(key, [slot]);
    else list.push(slot);
  }

  remove(key: K, slot: number): void {
    const list = this.lists.get(key);
    if (list === undefined) return;
    const i = list.indexOf(slot);
    if (i < 0) return;
    list[i] = list[list.length - 1]!;
    list.pop();
    if (list.length === 0) this.lists.delete(key);
  }
}

/** Remembers which tokens changed and cuts their current lifecycle rows. */
export class LifecycleTracker {
  private readonly meta: Array<SlotMeta | undefined> = [];
  private dirty: number[] = [];
  // A logout or a family revocation is common next to the tokens tracked: a scan of every slot
  // per revocation would cost the store's size each time.
  private readonly bySession = new SlotLists<number>();
  private readonly byFamily = new SlotLists<number>();
  private readonly bySubject = new SlotLists<string>();

  constructor(private readonly store: LifecycleStore) {}

  /** Records that `e` was folded into the store. */
  applied(e: StreamEvent): void {
    if (e.source === 'access') this.access(e.event);
    else this.token(e.event);
  }

  /** Rows of the tokens changed since the last call, as of stream time `now`. */
  cut(now: number): TokenLifecycle[] {
    const rows: TokenLifecycle[] = [];
    for (const slot of this.dirty) {
      const m = this.live(slot);
      if (m === undefined || !m.dirty) continue;
      m.dirty = false;
      const row = this.row(slot, m, now);
      m.written = row.state;
      rows.push(row);
    }
    this.dirty = [];
    return rows;
  }

  /** The row of a slot the store is about to evict, if it changed since its last row. */
  evicting(slot: number, now: number): TokenLifecycle | null {
    const stale = this.meta[slot];
    if (stale !== undefined) this.unindex(slot, stale);
    const m = this.live(slot);
    this.meta[slot] = undefined;
    if (m === undefined) return null;
    const row = this.row(slot, m, now);
    return m.dirty || row.state !== m.written ? row : null;
  }

  /** Rows of every tracked token whose state differs from its last row: the end of input. */
  final(now: number): TokenLifecycle[] {
    const rows = this.cut(now);
    for (let slot = 0; slot < this.meta.length; slot++) {
      const m = this.live(slot);
      if (m === undefined) continue;
      const row = this.row(slot, m, now);
      if (row.state === m.written) continue;
      m.written = row.state;
      rows.push(row);
    }
    return rows;
  }

  private access(e: AccessEvent): void {
    const key = LifecycleStore.keyOf(e);
    if (key === null) return;
    const slot = this.store.find(key);
    const m = this.touch(slot, key);
    if (m === undefined) return;
    const c = e.claims;
    m.tokenFp ??= e.tokenFp;
    if (c !== null) {
      m.jti ??= c.jti;
      m.subject ??= c.sub;
      m.clientId ??= c.clientId;
    }
    this.index(slot, m);
  }

  private token(e: TokenEvent): void {
    if (e.tokenId !== null) {
      const slot = this.store.find(e.tokenId);
      const m = this.touch(slot, e.tokenId);
      if (m !== undefined) {
        m.jti ??= e.tokenId;
        m.subject ??= e.subject;
        m.clientId ??= e.clientId;
        this.index(slot, m);
      }
    }
    if (e.type === 'revoked' || e.type === 'logout' || e.type === 'reuse_detected') this.coveredBy(e);
  }

  // A revocation beyond the token itself changes every token of the session, family or subject.
  private coveredBy(e: TokenEvent): void {
    const { sessions, families, refresh } = this.store.state;
    const session = e.sessionId !== null ? (sessions.index.get(e.sessionId) ?? -1) : -1;
    const refreshId = e.type === 'reuse_detected' ? (e.parentRefreshTokenId ?? e.refreshTokenId) : e.refreshTokenId;
    const family = refreshId !== null ? (refresh.get(refreshId)?.family ?? families.index.get(refreshId) ?? -1) : -1;
    const subject = e.type === 'logout' && e.sessionId === null ? e.subject : null;
    if (session < 0 && family < 0 && subject === null) return;
    const t = this.store.tokens;
    const cover = (slots: readonly number[], covered: (slot: number, m: SlotMeta) => boolean): void => {
      for (const slot of slots) {
        const m = this.live(slot);
        if (m !== undefined && covered(slot, m)) this.mark(slot, m);
      }
    };
    if (session >= 0) cover(this.bySession.get(session), (slot) => t.session[slot] === session);
    if (family >= 0) cover(this.byFamily.get(family), (slot) => t.family[slot] === family);
    if (subject !== null) cover(this.bySubject.get(subject), (_slot, m) => m.subject === subject);
  }

  private touch(slot: number, key: string): SlotMeta | undefined {
    if (slot < 0) return undefined;
    const gen = this.store.tokens.gen[slot]!;
    let m = this.meta[slot];
    if (m === undefined || m.gen !== gen) {
      if (m !== undefined) this.unindex(slot, m);
      m = { gen, key, tokenFp: null, jti: null, subject: null, clientId: null, dirty: false, written: null, session: -1, family: -1, subjectIndexed: false };
      this.meta[slot] = m;
    }
    this.mark(slot, m);
    return m;
  }

  // The store links a token to its session and family once, when the event that names them is
  // folded in (the one just applied), and the subject is learned the same way.
  private index(slot: number, m: SlotMeta): void {
    const t = this.store.tokens;
    if (m.session !== t.session[slot]) {
      if (m.session >= 0) this.bySession.remove(m.session, slot);
      m.session = t.session[slot]!;
      if (m.session >= 0) this.bySession.add(m.session, slot);
    }
    if (m.family !== t.family[slot]) {
      if (m.family >= 0) this.byFamily.remove(m.family, slot);
      m.family = t.family[slot]!;
      if (m.family >= 0) this.byFamily.add(m.family, slot);
    }
    if (!m.subjectIndexed && m.subject !== null) {
      this.bySubject.add(m.subject, slot);
      m.subjectIndexed = true;
    }
  }

  private unindex(slot: number, m: SlotMeta): void {
    if (m.session >= 0) this.bySession.remove(m.session, slot);
    if (m.family >= 0) this.byFamily.remove(m.family, slot);
    if (m.subjectIndexed) this.bySubject.remove(m.subject!, slot);
  }

  private mark(slot: number, m: SlotMeta): void {
    if (m.dirty) return;
    m.dirty = true;
    this.dirty.push(slot);
  }

  private live(slot: number): SlotMeta | undefined {
    const m = this.meta[slot];
    return m !== undefined && m.gen === this.store.tokens.gen[slot] ? m : undefined;
  }

  private row(slot: number, m: SlotMeta, now: number): TokenLifecycle {
    const t = this.store.tokens;
    const revocation = this.store.revocation(slot, m.subject);
    const exp = nullable(t.exp[slot]!);
    const uses = t.uses[slot]!;
    const state: TokenLifecycle['state'] =
      revocation !== null && revocation.at <= now
        ? 'revoked'
        : exp !== null && exp <= now
          ? 'expired'
          : (t.flags[slot]! & SUPERSEDED) !== 0
            ? 'refreshed'
            : uses > 0 || (t.flags[slot]! & SEEN_AT_GATEWAY) !== 0
              ? 'active'
              : 'issued';
    return {
      key: m.key,
      tokenFp: m.tokenFp,
      jti: m.jti,
      sessionId: this.store.sessionOf(slot),
      family: this.store.familyOf(slot),
      subject: m.subject,
      clientId: m.clientId,
      state,
      issuedAt: nullable(t.issuedAt[slot]!),
      firstUseAt: nullable(t.firstUse[slot]!),
      lastUseAt: nullable(t.lastUse[slot]!),
      exp,
      revokedAt: revocation?.at ?? null,
      revokedBy: revocation?.by ?? null,
      uses,
      failures: t.failures[slot]!,
      distinctClients: t.clientCount[slot]!,
      updatedAt: now,
    };
  }
}

const nullable = (v: number): number | null => (Number.isNaN(v) ? null : v);
