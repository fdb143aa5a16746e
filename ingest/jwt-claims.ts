// Decodes a JWT's header and claims without trusting them, and optionally checks its
// signature against a JWKS file. Never throws on input: a token that is not a JWT is
// reported as such. The raw token and its signature never leave this module.
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Claims } from './model.js';
import { TokenwatchError } from '../common/errors.js';

const B64URL = /^[A-Za-z0-9_-]+$/;

export interface DecodedJwt {
  claims: Claims;
  /** `header.payload`, the bytes a signature covers; kept only for verification. */
  signingInput: string;
  signature: string;
  kid: string | null;
}

/** Decodes `token` as a compact JWS; null when it is not one (opaque token). */
export function decodeJwt(token: string): DecodedJwt | null {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return null;
  const h = token.slice(0, first);
  const p = token.slice(first + 1, second);
  const s = token.slice(second + 1);
  if (!B64URL.test(h) || !B64URL.test(p) || (s.length > 0 && !B64URL.test(s))) return null;
  const header = parseSegment(h);
  const payload = parseSegment(p);
  if (!header || !payload || typeof header.alg !== 'string') return null;
  return {
    claims: {
      jti: claimStr(payload.jti),
      sub: claimStr(payload.sub),
      sid: claimStr(payload.sid),
      clientId: claimStr(payload.azp) ?? claimStr(payload.client_id) ?? claimStr(payload.cid),
      iat: claimTime(payload.iat),
      exp: claimTime(payload.exp),
      iss: claimStr(payload.iss),
      aud: claimAud(payload.aud),
      alg: claimStr(header.alg),
      verified: null,
    },
    signingInput: token.slice(0, second),
    signature: s,
    kid: claimStr(header.kid),
  };
}

function parseSegment(seg: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const MAX_CLAIM = 512;
function claimStr(v: unknown): string | null {
  if (typeof v === 'string' && v.length > 0) return v.length > MAX_CLAIM ? v.slice(0, MAX_CLAIM) : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

// NumericDate is seconds (RFC 7519 section 2); out-of-range values are dropped, not trusted.
function claimTime(v: unknown): number | null {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 7e9) return null;
  return Math.round(v * 1000);
}

function claimAud(v: unknown): string[] | null {
  if (typeof v === 'string') return [v.slice(0, MAX_CLAIM)];
  if (Array.isArray(v)) {
    const out = v.filter((x): x is string => typeof x === 'string').slice(0, 16).map((x) => x.slice(0, MAX_CLAIM));
    return out.length > 0 ? out : null;
  }
  return null;
}

/** Verifies JWS signatures against the public keys of a JWKS document (RS*, PS*, ES*, EdDSA). */
export class JwksVerifier {
  private readonly byKid = new Map<string, KeyObject>();
  private readonly all: KeyObject[] = [];

  constructor(jwks: unknown) {
    const keys = (jwks as { keys?: unknown })?.keys;
    if (!Array.isArray(keys)) throw new TokenwatchError('TW_ERR_CONFIG_JWKS', 'jwks: expected an object with a "keys" array');
    for (const jwk of keys) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      const kty = (jwk as { kty?: unknown }).kty;
      if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') continue;
      const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      const kid = (jwk as { kid?: unknown }).kid;
      if (typeof kid === 'string') this.byKid.set(kid, key);
      this.all.push(key);
    }
  }

  /** Reads and parses a JWKS file. */
  static fromFile(path: string): JwksVerifier {
    try {
      return new JwksVerifier(JSON.parse(readFileSync(path, 'utf8')));
    } catch (err) {
      if (err instanceof TokenwatchError) throw err;
      throw new TokenwatchError('TW_ERR_CONFIG_JWKS', `jwks: cannot read ${path}`, { cause: err });
    }
  }

  /** True when the signature verifies under the key named by `kid` (or any key when no kid). */
  verify(jwt: DecodedJwt): boolean {
    const alg = jwt.claims.alg ?? 'none';
    const params = ALGS[alg];
    if (!params || jwt.signature.length === 0) return false;
    const candidates = jwt.kid !== null ? [this.byKid.get(jwt.kid)].filter((k): k is KeyObject => !!k) : this.all;
    const sig = Buffer.from(jwt.signature, 'base64url');
    const data = Buffer.from(jwt.signingInput, 'utf8');
    return candidates.some((key) => {
      try {
        return cryptoVerify(params.hash, data, { key, ...params.options }, sig);
      } catch {
        return false;
      }
    });
  }
}

type VerifyOptions = { padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
// JWA (RFC 7518 section 3): ECDSA signatures are raw r||s, hence ieee-p1363.
const ALGS: Record<string, { hash: string | null; options: VerifyOptions }> = {
  RS256: { hash: 'sha256', options: {} },
  RS384: { hash: 'sha384', options: {} },
  RS512: { hash: 'sha512', options: {} },
  PS256: { hash: 'sha256', options: { padding: 6, saltLength: 32 } },
  PS384: { hash: 'sha384', options: { padding: 6, saltLength: 48 } },
  PS512: { hash: 'sha512', options: { padding: 6, saltLength: 64 } },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  ES512: { hash: 'sha512', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, options: {} },
};
