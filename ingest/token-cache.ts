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

/** Bounded map from raw token to its fingerprint, kind and claims. */
export class TokenCache {
  private readonly entries = new Map<string, TokenInfo>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly key: string,
    private readonly capacity: number,
    private readonly verifier: JwksVerifier | null,
  ) {}

  /** Info for `raw`; `kind` is the caller's view (api_key for key headers), JWTs are detected here. */
  lookup(raw: string, kind: 'bearer' | 'api_key'): TokenInfo {
    const cacheKey = kind === 'api_key' ? `k:${raw}` : raw;
    const hit = this.entries.get(cacheKey);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const info = this.compute(raw, kind);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(cacheKey, info);
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
