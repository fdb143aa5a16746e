// The token cache answers by value whichever string object holds the token, and never mixes up
// two tokens, whether it keeps its own copy of a source or the caller's string.
import { describe, expect, it } from 'vitest';
import { TokenCache } from './token-cache.js';
import { buildJwt } from './generator/jwt.js';

/** An equal string that is another object: built from two halves, then flattened by a slice. */
const another = (s: string): string => (s.slice(0, 5) + s.slice(5)).slice(0);

describe('token cache', () => {
  for (const own of [false, true]) {
    it(`looks a token up by value${own ? ', holding the caller’s own string' : ', holding a copy'}`, () => {
      const cache = new TokenCache('fingerprint-key-0123456789abcdef', 10, null);
      const a = buildJwt({ jti: 'jti-a', sub: 'user-1', exp: 1_900_000_000 });
      const b = buildJwt({ jti: 'jti-b', sub: 'user-1', exp: 1_900_000_000 });
      const first = cache.lookup(a, 'bearer', `Bearer ${a}`, own);
      expect(first.claims?.jti).toBe('jti-a');
      expect(cache.lookup(another(a), 'bearer', another(`Bearer ${a}`), own)).toBe(first);
      expect(cache.lookup(a, 'bearer', `Bearer ${a}`, own)).toBe(first);
      const other = cache.lookup(b, 'bearer', `Bearer ${b}`, own);
      expect(other.claims?.jti).toBe('jti-b');
      expect(other.fp).not.toBe(first.fp);
      // The same string as an API key is another credential.
      expect(cache.lookup(a, 'api_key', `Bearer ${a}`, own).kind).toBe('api_key');
      expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 3 });
    });
  }
});
