// Fingerprints and decoded claims per distinct raw token. Tokens repeat across requests,
// so each distinct token is hashed and decoded once; the cache is bounded (oldest entry
// out first) and lives only in memory, like the raw tokens it is keyed by.
import type { Claims, TokenKind } from './model.js';
import { fingerprint } from './fingerprint.js';
import { decodeJwt, type JwksVerifier } from './jwt-claims.js';

export interface TokenInfo {
  fp: string;
  kind: TokenKind;
  claims: Claims | null;
}

interface Entry {
  /** The string the token was read from (see lookup). */
  source: string;
  kind: 'bearer' | 'api_key';
  info: TokenInfo;
}

// Chars of a token's tail and middle the probe reads: a JWT's tail is its signature, an opaque
// token's is random, and the middle tells apart tokens that share a suffix (unsigned JWTs).
const PROBE_TAIL = 16;
const PROBE_MIDDLE = 8;

/**
 * A number standing for a token, read from its length and a few dozen chars. V8 hashes a string
 * key over all of its chars (hundreds for a JWT, per request, since each record's strings are new);
 * this reads a fixed few. Tokens that share a probe only evict each other: entries hold the token's
 * source and a hit must equal it.
 */
function probe(token: string, kind: 'bearer' | 'api_key'): number {
  const n = token.length;
  let h = (kind === 'api_key' ? 0x9dc5 : 0x811c) ^ n;
  const mid = n >> 1;
  for (let i = mid, end = Math.min(n, mid + PROBE_MIDDLE); i < end; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  for (let i = Math.max(0, n - PROBE_TAIL); i < n; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  // 30 bits stay a small integer, which V8 keys a Map by without allocating.
  return h & 0x3fffffff;
}

/** Bounded map from raw token to its fingerprint, kind and claims. */
export class TokenCache {
  private readonly entries = new Map<number, Entry>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly key: string,
    private readonly capacity: number,
    private readonly verifier: JwksVerifier | null,
  ) {}

  /**
   * Info for `raw`; `kind` is the caller's view (api_key for key headers), JWTs are detected here.
   * `source` is the string `raw` was cut from when that cut is a function of the string alone (an
   * Authorization value and its `Bearer ` prefix): probing and comparing the whole string costs less
   * than doing so on the slice of it that `raw` is. `own` says `source` is a string of its own
   * (AccessDraft.ownHeaderValues), which the entry may then hold instead of a copy.
   */
  lookup(raw: string, kind: 'bearer' | 'api_key', source: string = raw, own = false): TokenInfo {
    const key = probe(source, kind);
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.kind === kind && entry.source === source) {
      // The very string compares as one pointer: a decoder that interns a recurring value (the
      // shape decoder) hands the same one to every request of the token.
      if (own) entry.source = source;
      this.hits++;
      return entry.info;
    }
    this.misses++;
    const info = this.compute(raw, kind);
    if (entry === undefined && this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as number);
    // Else a flat copy of the source: comparing with a slice (a header value cut from a decoded
    // message) costs V8 several times more, and the slice would keep the whole message alive.
    this.entries.set(key, { source: own ? source : structuredClone(source), kind, info });
    return info;
  }

  private compute(raw: string, kind: 'bearer' | 'api_key'): TokenInfo {
    const fp = fingerprint(this.key, raw);
    if (kind === 'api_key') return { fp, kind: 'api_key', claims: null };
    const jwt = decodeJwt(raw);
    if (!jwt) return { fp, kind: 'opaque', claims: null };
    const claims = this.verifier ? { ...jwt.claims, verified: this.verifier.verify(jwt) } : jwt.claims;
    return { fp, kind: 'jwt', claims };
  }
}
