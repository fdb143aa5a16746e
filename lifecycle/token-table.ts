// Column storage for per-token state: one slot per tracked token, each field a typed
// array, so a million live tokens cost under 200 bytes each instead of a heap object,
// its strings and their headers (keys are kept as 64-bit hashes, see hash-index.ts). Slots are recycled through a free list; a doubly
// linked list over the slots keeps least-recently-used order for the hard cap.

/** Flag bits of a token slot. */
export const SEEN_AT_GATEWAY = 1;
export const ANNOUNCED_BY_IDP = 2;
/** A newer access token of the same refresh family was issued. */
export const SUPERSEDED = 4;
/** Client slot 1 / 2 used IPv6 (dual-stack clients move between the families). */
export const C1_V6 = 8;
export const C2_V6 = 16;

const INITIAL = 1024;

/** Typed-array columns for token state. Times are epoch ms, NaN when unknown. */
export class TokenTable {
  capacity = 0;
  size = 0;
  /** 64-bit hash of each slot's key (jti, else tokenFp), see hash-index.ts. */
  hashHi = new Uint32Array(0);
  hashLo = new Uint32Array(0);
  /** Bumped when a slot is freed, so stale eviction entries for it are recognised. */
  gen = new Uint32Array(0);
  issuedAt = new Float64Array(0);
  exp = new Float64Array(0);
  firstUse = new Float64Array(0);
  lastUse = new Float64Array(0);
  revokedAt = new Float64Array(0);
  uses = new Uint32Array(0);
  failures = new Uint32Array(0);
  session = new Int32Array(0);
  family = new Int32Array(0);
  flags = new Uint8Array(0);
  /** Two most recent distinct clients: network hash, UA-family hash, first and last use. */
  c1Net = new Uint32Array(0);
  c1Ua = new Uint32Array(0);
  c1First = new Float64Array(0);
  c1Last = new Float64Array(0);
  c2Net = new Uint32Array(0);
  c2Ua = new Uint32Array(0);
  c2First = new Float64Array(0);
  c2Last = new Float64Array(0);
  /** Distinct clients seen, saturating at 255. */
  clientCount = new Uint8Array(0);
  /** Distinct routes seen (first two kept as hashes), saturating at 255. */
  r1 = new Uint32Array(0);
  r2 = new Uint32Array(0);
  routeCount = new Uint8Array(0);
  /** LRU links; -1 ends the list. */
  prev = new Int32Array(0);
  next = new Int32Array(0);
  head = -1;
  tail = -1;
  free: number[] = [];

  constructor() {
    this.grow(INITIAL);
  }

  /** A fresh slot for the key hashed to (hi, lo), at the head of the LRU list. */
  allocate(hi: number, lo: number): number {
    if (this.free.length === 0) this.grow(this.capacity * 2);
    const slot = this.free.pop()!;
    this.hashHi[slot] = hi;
    this.hashLo[slot] = lo;
    this.issuedAt[slot] = NaN;
    this.exp[slot] = NaN;
    this.firstUse[slot] = NaN;
    this.lastUse[slot] = NaN;
    this.revokedAt[slot] = NaN;
    this.uses[slot] = 0;
    this.failures[slot] = 0;
    this.session[slot] = -1;
    this.family[slot] = -1;
    this.flags[slot] = 0;
    this.c1Net[slot] = 0;
    this.c1Ua[slot] = 0;
    this.c1First[slot] = NaN;
    this.c1Last[slot] = NaN;
    this.c2Net[slot] = 0;
    this.c2Ua[slot] = 0;
    this.c2First[slot] = NaN;
    this.c2Last[slot] = NaN;
    this.clientCount[slot] = 0;
    this.r1[slot] = 0;
    this.r2[slot] = 0;
    this.routeCount[slot] = 0;
    this.linkHead(slot);
    this.size++;
    return slot;
  }

  /** Frees `slot`; it must already be gone from the index. */
  release(slot: number): void {
    this.unlink(slot);
    this.gen[slot]!++;
    this.free.push(slot);
    this.size--;
  }

  /** Marks `slot` most recently used. */
  touch(slot: number): void {
    if (this.head === slot) return;
    this.unlink(slot);
    this.linkHead(slot);
  }

  private linkHead(slot: number): void {
    this.prev[slot] = -1;
    this.next[slot] = this.head;
    if (this.head >= 0) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail < 0) this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.prev[slot] = -1;
    this.next[slot] = -1;
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    for (const name of COLUMNS) {
      const column = this[name];
      const bigger = new (column.constructor as new (n: number) => typeof column)(capacity);
      bigger.set(column as never);
      (this as unknown as Record<string, unknown>)[name] = bigger;
    }
    for (let slot = capacity - 1; slot >= old; slot--) this.free.push(slot);
    this.capacity = capacity;
  }

}

const COLUMNS = [
  'hashHi', 'hashLo', 'gen', 'issuedAt', 'exp', 'firstUse', 'lastUse', 'revokedAt', 'uses', 'failures', 'session', 'family', 'flags',
  'c1Net', 'c1Ua', 'c1First', 'c1Last', 'c2Net', 'c2Ua', 'c2First', 'c2Last', 'clientCount', 'r1', 'r2', 'routeCount', 'prev', 'next',
] as const;
