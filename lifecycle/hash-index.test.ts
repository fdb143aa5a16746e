import { describe, expect, it } from 'vitest';
import { HashIndex, hashKey, hashed } from './hash-index.js';
import { Random } from '../ingest/generator/random.js';

function columns(n: number): { hashHi: Uint32Array; hashLo: Uint32Array } {
  return { hashHi: new Uint32Array(n), hashLo: new Uint32Array(n) };
}

describe('HashIndex', () => {
  it('finds every live key and none of the removed ones through inserts, removals and growth', () => {
    const n = 20_000;
    const cols = columns(n);
    const index = new HashIndex();
    const live = new Set<number>();
    const rnd = new Random(3);
    for (let slot = 0; slot < n; slot++) {
      hashKey(`jti-${slot}`);
      cols.hashHi[slot] = hashed.hi;
      // Few distinct low halves force long probe chains and wrap-around shifts.
      cols.hashLo[slot] = slot % 97;
      index.insert(cols, slot);
      live.add(slot);
      if (rnd.chance(0.4)) {
        const victim = [...live][rnd.int(0, live.size - 1)]!;
        index.remove(cols, victim);
        live.delete(victim);
      }
    }
    expect(index.size).toBe(live.size);
    for (let slot = 0; slot < n; slot++) {
      expect(index.find(cols, cols.hashHi[slot]!, cols.hashLo[slot]!)).toBe(live.has(slot) ? slot : -1);
    }
  });

  it('gives different keys different 64-bit hashes and the same key the same hash', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      hashKey(`0000${i}`.slice(-6));
      seen.add(`${hashed.hi}:${hashed.lo}`);
    }
    expect(seen.size).toBe(100_000);
    hashKey('abc');
    const first = `${hashed.hi}:${hashed.lo}`;
    hashKey('abc');
    expect(`${hashed.hi}:${hashed.lo}`).toBe(first);
  });
});
