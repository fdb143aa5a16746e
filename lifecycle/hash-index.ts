// Key -> slot index for the token table without keeping the key strings: each key is
// reduced to a 64-bit hash (two independent 32-bit hashes) stored in the table's columns,
// and an open-addressing table of slot numbers (linear probing, backward-shift deletion)
// finds it. A Map of a million string keys costs ~150 bytes a token; this costs ~16.
// Two keys share a 64-bit hash with probability ~3e-8 at a million live tokens; keys are
// untrusted claims anyway (an attacker who can mint a colliding jti can mint the jti itself).

/** The two 32-bit halves of a key's hash, written by `hashKey` (no allocation per call). */
export const hashed = { hi: 0, lo: 0 };

/** Hashes `key` into `hashed.hi` / `hashed.lo`: FNV-1a and a murmur-style mix, independent. */
export function hashKey(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // murmur3 fmix32 avalanche, so similar keys spread over the table.
  b ^= b >>> 16;
  b = Math.imul(b, 0x85ebca6b);
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  hashed.hi = a >>> 0;
  hashed.lo = b >>> 0;
}

/** Where the hashes of each slot live (the token table's columns). */
export interface HashColumns {
  hashHi: Uint32Array;
  hashLo: Uint32Array;
}

/** Open-addressing index from a 64-bit hash to a slot. */
export class HashIndex {
  table = new Int32Array(2048).fill(-1);
  size = 0;

  /** The slot holding hash (hi, lo), or -1. */
  find(cols: HashColumns, hi: number, lo: number): number {
    const mask = this.table.length - 1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const slot = this.table[i]!;
      if (slot < 0) return -1;
      if (cols.hashLo[slot] === lo && cols.hashHi[slot] === hi) return slot;
    }
  }

  /** Adds `slot`, whose hash is already in the columns. */
  insert(cols: HashColumns, slot: number): void {
    if ((this.size + 1) * 2 > this.table.length) this.rehash(cols, this.table.length * 2);
    const mask = this.table.length - 1;
    let i = cols.hashLo[slot]! & mask;
    while (this.table[i]! >= 0) i = (i + 1) & mask;
    this.table[i] = slot;
    this.size++;
  }

  /** Removes `slot`; backward-shift keeps every probe chain unbroken without tombstones. */
  remove(cols: HashColumns, slot: number): void {
    const mask = this.table.length - 1;
    let i = cols.hashLo[slot]! & mask;
    while (this.table[i] !== slot) {
      if (this.table[i]! < 0) return;
      i = (i + 1) & mask;
    }
    this.table[i] = -1;
    this.size--;
    for (let j = (i + 1) & mask; this.table[j]! >= 0; j = (j + 1) & mask) {
      const s = this.table[j]!;
      const home = cols.hashLo[s]! & mask;
      // Move s back into the hole unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      this.table[i] = s;
      this.table[j] = -1;
      i = j;
    }
  }

  private rehash(cols: HashColumns, capacity: number): void {
    const old = this.table;
    this.table = new Int32Array(capacity).fill(-1);
    this.size = 0;
    for (const slot of old) if (slot >= 0) this.insert(cols, slot);
  }
}
