// Named entries (sessions, refresh families) that token slots point to by index. An
// entry lives while tokens reference it or it was seen within the TTL; freed indexes are
// reused, which is safe because no token references a freed entry.

/** A session or refresh family. Plain data, so a checkpoint can serialise it. */
export interface Entry {
  id: string;
  revokedAt: number;
  lastSeen: number;
  refs: number;
  /** Families: jti of the newest access token, which supersedes the ones before it. */
  latestToken: string | null;
}

/** Index-addressed entries with reference counts and a free list. */
export class Registry {
  entries: Array<Entry | undefined> = [];
  index = new Map<string, number>();
  free: number[] = [];

  /** Entry named `id`, if present. */
  get(id: string): Entry | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.entries[i];
  }

  /** Index of the entry named `id`, created when absent; marks it seen at `ts`. */
  slot(id: string, ts: number): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.free.pop() ?? this.entries.length;
      this.entries[i] = { id, revokedAt: NaN, lastSeen: ts, refs: 0, latestToken: null };
      this.index.set(id, i);
    }
    const e = this.entries[i]!;
    if (ts > e.lastSeen) e.lastSeen = ts;
    return i;
  }

  /** The entry at index `i` (which a live token references). */
  at(i: number): Entry {
    return this.entries[i]!;
  }

  ref(i: number): void {
    this.entries[i]!.refs++;
  }

  unref(i: number): void {
    this.entries[i]!.refs--;
  }

  /** Frees entries that no token references and that were not seen (nor revoked) within `ttl`. */
  sweep(now: number, ttl: number): number {
    let freed = 0;
    for (const [id, i] of this.index) {
      const e = this.entries[i]!;
      if (e.refs > 0 || now - Math.max(e.lastSeen, e.revokedAt || 0) <= ttl) continue;
      this.index.delete(id);
      this.entries[i] = undefined;
      this.free.push(i);
      freed++;
    }
    return freed;
  }

  get size(): number {
    return this.index.size;
  }
}
