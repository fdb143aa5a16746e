// Turns a gateway parser's AccessDraft into the canonical AccessEvent: finds the token
// (Authorization header, OAuth query parameter, API-key header, or the id the gateway
// logged), fingerprints it and drops it, decodes claims, classifies the auth outcome,
// infers the deployment and the client IP, strips query strings and control characters.
import { z } from 'zod';
import type { AccessEvent, Claims, Deployment, GatewayFormat, TokenKind } from './model.js';
import { GATEWAYS } from './model.js';
import type { AccessDraft } from './parsers/types.js';
import { fail, type ParseResult } from './parse-result.js';
import { classifyAuthError } from './auth-error.js';
import { deploymentConfigSchema, inferDeployment, routeHint, upstreamHint, type DeploymentConfig } from './deployment.js';
import { bareIp, clientIp, TrustedProxies } from './client-ip.js';
import { cleanPath, stripControls } from './scrub.js';
import { TokenCache } from './token-cache.js';
import type { JwksVerifier } from './jwt-claims.js';

export const ingestConfigSchema = z
  .object({
    /** Proxies whose X-Forwarded-For entries are believed (CIDRs or addresses). Default none. */
    trustedProxies: z.array(z.string()).default([]),
    /** Deployment header names for every gateway. */
    deployment: deploymentConfigSchema.default({ versionHeader: 'x-deployment-version', trackHeader: 'x-deployment-track' }),
    /** Per-gateway overrides of the deployment header names. Default none. */
    gatewayDeployment: z.partialRecord(z.enum(GATEWAYS), deploymentConfigSchema.partial()).default({}),
    /** Request headers that carry API keys. Default x-api-key, apikey. */
    apiKeyHeaders: z.array(z.string().min(1)).default(['x-api-key', 'apikey']),
    /** Query parameters that carry bearer tokens (RFC 6750 section 2.3; Kong jwt plugin's `jwt`). */
    queryTokenParams: z.array(z.string().min(1)).default(['access_token', 'oauth_token', 'jwt']),
    /** Query parameters that carry API keys (Kong key-auth's `apikey`). */
    queryApiKeyParams: z.array(z.string().min(1)).default(['apikey', 'api_key']),
    /** Longest token accepted, bytes; longer ones go to the DLQ as token_too_large. Default 16384. */
    maxTokenBytes: z.number().int().positive().default(16_384),
    /** Distinct tokens whose fingerprint and claims are cached. Default 100000. */
    tokenCacheSize: z.number().int().positive().default(100_000),
  })
  .strict();
export type IngestConfig = z.output<typeof ingestConfigSchema>;

const MAX_TEXT = 4096;
// Distinct deployment-hint combinations remembered; cleared whole when full (they are few).
const DEPLOYMENT_CACHE = 4096;
const clip = (v: string | null): string | null => (v === null ? null : stripControls(v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) : v));
const BASIC = /^basic /i;
const UNSAFE = /[\u0000-\u001f\u007f-\u009f]/;

/** True when `v` is unset, or short and free of C0 / C1 control characters: clip() would keep it. */
const safe = (v: string | null): boolean => v === null || (v.length <= MAX_TEXT && !UNSAFE.test(v));

// Free-text fields are bounded and free of control characters (log injection): a value that is
// neither comes back clipped. One test, which copies nothing, spares the work on clean values.
const sanitized = (v: string | null): string | null => (safe(v) ? v : clip(v));

// V8 makes a substring of this many chars or more a slice that keeps its whole parent alive
// (SlicedString::kMinLength); shorter ones are copies.
const MIN_SLICE = 13;

/**
 * `v` as a string that keeps no larger one alive, for values unique to an event (request id,
 * path). Concatenating builds a rope that the slice flattens into a fresh string one char longer
 * than `v`: several times cheaper than structuredClone, which caches pay once per value instead.
 */
const detach = (v: string | null): string | null => (v === null || v.length < MIN_SLICE ? v : (' ' + v).slice(1));

/** A flat copy for a long-lived cache key or value (see Recurring). */
const flatCopy = <T extends string | null | undefined>(v: T): T => (v == null ? v : structuredClone(v));

// Buckets of the cache of recurring field values, two values each; a power of two.
const RECURRING = 4096;

/**
 * Free-text values that recur across requests (user agents, hosts, client addresses, methods,
 * routes), each kept once, clean. Events wait in the analyzer's reorder buffer for the allowed
 * lateness, long enough to outlive the young generation: when their fields point to one long-lived
 * copy instead of a fresh string per request, the copying collector moves and promotes the event
 * alone, not its strings. A hit also proves the value clean. Buckets are picked by a few of the
 * value's chars and hold the two values last used there: a one-off value displaces one of them,
 * and a hit must equal the value.
 */
class Recurring {
  private readonly slots = new Array<string | null>(2 * RECURRING).fill(null);
  // What the last lookup found, or the bucket where keep() puts the value it missed.
  private found = '';
  private bucket = 0;
  /** Whether the last get() returned a string equal to its argument (false when it clipped it). */
  exact = true;

  /** `v` sanitized, as the kept copy when it recurs. */
  get(v: string | null): string | null {
    this.exact = true;
    if (v === null || v.length === 0) return v;
    if (this.hit(v)) return this.found;
    if (safe(v)) return this.keep(v);
    this.exact = false;
    return flatCopy(clip(v));
  }

  /** The kept copy of `v`, or null when `v` is not kept. */
  peek(v: string): string | null {
    return this.hit(v) ? this.found : null;
  }

  /** `v` as is (no sanitizing), as the kept copy when it recurs: for values matched downstream (claims). */
  own(v: string | null): string | null {
    if (v === null || v.length === 0) return v;
    return this.hit(v) ? this.found : this.keep(v);
  }

  /** Whether `v` is kept (then `found` is the kept copy); on a miss, `bucket` is where it goes. */
  private hit(v: string): boolean {
    const n = v.length;
    let h = Math.imul(n ^ v.charCodeAt(n - 1), 0x9e3779b1);
    h = Math.imul(h ^ v.charCodeAt(n >> 1), 0x85ebca6b);
    h = Math.imul(h ^ v.charCodeAt((n * 3) >> 2), 0xc2b2ae35);
    h = Math.imul(h ^ v.charCodeAt(n > 1 ? n - 2 : 0), 0x9e3779b1);
    const i = ((h >>> 16) & (RECURRING - 1)) << 1;
    const first = this.slots[i]!;
    if (first === v) {
      this.found = first;
      return true;
    }
    const second = this.slots[i + 1]!;
    if (second === v) {
      this.slots[i + 1] = first;
      this.slots[i] = second;
      this.found = second;
      return true;
    }
    this.bucket = i;
    return false;
  }

  /** Keeps `v`, which hit() just missed. */
  private keep(v: string): string {
    // Kept as a flat copy: a value cut from a larger string (a header in Tyk's decoded raw
    // request, a field of a log line) would otherwise keep all of it, token included, alive
    // for as long as it stays in the cache; and V8 compares flat strings several times faster.
    const kept = structuredClone(v);
    this.slots[this.bucket + 1] = this.slots[this.bucket]!;
    this.slots[this.bucket] = kept;
    return kept;
  }
}

type DeploymentTrie = Map<string | null | undefined, DeploymentTrie | Deployment>;
/** The values a deployment is inferred from, in a fixed order; the track last. */
type DeploymentHints = Array<string | null | undefined>;

// Slots of the memo in front of the deployment trie, each remembering the last two combinations
// that fell in it (canary and stable of one service can share a slot and alternate).
const DEPLOYMENT_MEMO = 64;

interface DeploymentMemo {
  hints: DeploymentHints;
  deployment: Deployment;
  /** The combination that held the slot before this one. */
  previous: DeploymentMemo | undefined;
}

/** A memo slot for `hints`: each hint's length and first and last chars, mixed. */
function memoSlot(hints: DeploymentHints): number {
  let h = 0x811c9dc5;
  for (const v of hints) {
    h = Math.imul(h ^ (v == null ? 0 : v.length ^ (v.charCodeAt(0) << 8) ^ (v.charCodeAt(v.length - 1) << 16)), 0x01000193);
  }
  return (h >>> 16) & (DEPLOYMENT_MEMO - 1);
}

function sameHints(a: DeploymentHints, b: DeploymentHints): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface FoundToken {
  raw: string;
  as: 'bearer' | 'api_key';
  /** The string `raw` was read from (the Authorization value), the token cache's key. */
  source: string;
  /** Whether `source` is a string of its own (see AccessDraft.ownHeaderValues). */
  own: boolean;
}

/** Stateful (token cache) normaliser shared by every gateway parser of one ingest run. */
export class Normalizer {
  readonly tokens: TokenCache;
  private readonly trusted: TrustedProxies;
  private readonly deployment = new Map<GatewayFormat, DeploymentConfig>();
  private readonly deployments: DeploymentTrie = new Map();
  private readonly deploymentMemo = new Array<DeploymentMemo | undefined>(DEPLOYMENT_MEMO);
  private readonly hints: DeploymentHints = new Array<string | null | undefined>(9).fill(null);
  private deploymentCount = 0;
  private readonly bearerParams: ReadonlySet<string>;
  private readonly apiKeyParams: ReadonlySet<string>;
  private readonly recurring = new Recurring();
  // Peer addresses that are their own client IP (bare, clean): a hit spares clientIp() its scan of
  // the address, and the event gets the kept copy.
  private readonly peers = new Recurring();
  private readonly claimValues = new Recurring();
  private readonly ownClaim = (v: string | null): string | null => this.claimValues.own(v);

  constructor(
    private readonly config: IngestConfig,
    fpKey: string,
    verifier: JwksVerifier | null = null,
  ) {
    this.tokens = new TokenCache(fpKey, config.tokenCacheSize, verifier);
    this.trusted = new TrustedProxies(config.trustedProxies);
    this.bearerParams = new Set(config.queryTokenParams);
    this.apiKeyParams = new Set(config.queryApiKeyParams);
    for (const g of GATEWAYS) this.deployment.set(g, { ...config.deployment, ...config.gatewayDeployment[g] });
  }

  /** The canonical event for `draft`, or a rejection (token_too_large). */
  access(draft: AccessDraft): ParseResult<AccessEvent> {
    const found = this.findToken(draft);
    let tokenFp: string | null = null;
    let tokenKind: TokenKind | null = null;
    let claims: Claims | null = null;
    if (found) {
      // A UTF-16 code unit is at most 3 UTF-8 bytes: only a token near the limit needs measuring.
      if (found.raw.length * 3 > this.config.maxTokenBytes && Buffer.byteLength(found.raw) > this.config.maxTokenBytes) {
        return fail('token_too_large', `token of ${Buffer.byteLength(found.raw)} bytes exceeds maxTokenBytes ${this.config.maxTokenBytes}`);
      }
      const info = this.tokens.lookup(found.raw, found.as, found.source, found.own);
      tokenFp = info.fp;
      tokenKind = info.kind;
      claims = info.claims;
    } else if (draft.tokenId) {
      const info = this.tokens.lookup(draft.tokenId.value, 'api_key');
      tokenFp = info.fp;
      tokenKind = draft.tokenId.kind;
    }
    if (draft.loggedClaims) claims = mergeClaims(claims, draft.loggedClaims, this.ownClaim);
    if (tokenKind === null && claims !== null) tokenKind = 'jwt';

    const authError = classifyAuthError({
      status: draft.status,
      wwwAuthenticate: draft.responseHeaders['www-authenticate'] ?? null,
      gatewayError: draft.gatewayError,
      hasToken: tokenFp !== null || draft.tokenPresented,
    });
    // The kept host also stands for the raw one among the deployment hints when it equals it: the
    // memo then compares two flat strings, not a slice of the line (a slow path in V8).
    const host = this.recurring.get(draft.host);
    const deployment = this.deploymentOf(draft, this.recurring.exact ? host : draft.host);
    const event: AccessEvent = {
      ts: draft.ts,
      gateway: draft.gateway,
      // Every string an event holds is a copy of its own or a kept one: events outlive their log
      // line in the reorder buffer, and a value cut from the line would keep all of it alive.
      requestId: detach(sanitized(draft.requestId)),
      method: this.recurring.get(draft.method),
      path: draft.url === null ? null : detach(sanitized(cleanPath(draft.url, found ? [found.raw] : []))),
      route: this.recurring.get(draft.route),
      host,
      status: draft.status,
      // Negative, or overflowed to Infinity (a huge logged number): unknown, not a duration.
      latencyMs: draft.latencyMs !== null && draft.latencyMs >= 0 && draft.latencyMs < Infinity ? draft.latencyMs : null,
      clientIp: this.clientIpOf(draft),
      userAgent: this.recurring.get(draft.userAgent ?? draft.requestHeaders['user-agent'] ?? null),
      tokenFp,
      tokenKind,
      claims,
      authError,
      deployment,
      consumerId: this.recurring.get(draft.consumerId),
    };
    return { ok: true, event };
  }

  /** The event's client IP, sanitized and kept. */
  private clientIpOf(draft: AccessDraft): string | null {
    const peer = draft.clientIp;
    const forwarded = draft.requestHeaders['x-forwarded-for'] ?? null;
    // Without a believed X-Forwarded-For the client is the peer; nearly every peer is a bare address
    // seen before, whose kept copy is the answer.
    if (peer !== null && peer.length > 0 && (!forwarded || this.trusted.empty)) {
      const kept = this.peers.peek(peer);
      if (kept !== null) return kept;
      const ip = bareIp(peer);
      // Identity: bareIp returns the address itself when it has no port or brackets to strip.
      if (ip === peer && safe(ip)) return this.peers.own(ip);
      return this.recurring.get(ip);
    }
    return this.recurring.get(clientIp(peer, forwarded, this.trusted));
  }

  // The same few services, upstreams and versions recur on every request: infer each combination
  // once. `host` is draft.host or a string equal to it.
  private deploymentOf(draft: AccessDraft, host: string | null): Deployment {
    const config = this.deployment.get(draft.gateway)!;
    // Upstream and route count only as far as inference reads them, so that paths logged in them do
    // not make every request a combination of its own.
    // Written into one scratch array, copied only when a new combination is remembered.
    const hints = this.hints;
    hints[0] = draft.gateway;
    hints[1] = draft.service;
    hints[2] = upstreamHint(draft.upstream);
    hints[3] = routeHint(draft.route);
    hints[4] = host;
    hints[5] = draft.responseHeaders[config.versionHeader];
    hints[6] = draft.responseHeaders[config.trackHeader];
    hints[7] = draft.version;
    hints[8] = draft.track;
    // A memo slot picked by a few chars of each hint answers most requests without hashing a hint string.
    const slot = memoSlot(hints);
    const memo = this.deploymentMemo[slot];
    if (memo !== undefined) {
      if (sameHints(memo.hints, hints)) return memo.deployment;
      if (memo.previous !== undefined && sameHints(memo.previous.hints, hints)) return memo.previous.deployment;
    }
    // Behind it, a trie of maps keyed by each hint holds every combination seen (bounded): hashing the
    // short hint strings is cheaper than building one key.
    let node = this.deployments;
    for (let i = 0; i < hints.length - 1; i++) node = child(node, hints[i]);
    const track = hints[hints.length - 1];
    let found = node.get(track) as Deployment | undefined;
    if (found === undefined) {
      const inferred = inferDeployment(draft, config);
      found = Object.freeze({ service: flatCopy(clip(inferred.service)), version: flatCopy(clip(inferred.version)), track: inferred.track });
      if (++this.deploymentCount > DEPLOYMENT_CACHE) {
        this.deployments.clear();
        this.deploymentCount = 0;
      }
      node.set(flatCopy(track), found);
    }
    const previous = memo === undefined ? undefined : { hints: memo.hints, deployment: memo.deployment, previous: undefined };
    this.deploymentMemo[slot] = { hints: hints.map(flatCopy), deployment: found, previous };
    return found;
  }

  private findToken(draft: AccessDraft): FoundToken | null {
    const auth = draft.requestHeaders.authorization;
    if (auth) {
      const space = auth.indexOf(' ');
      let value = space > 0 ? auth.slice(space + 1) : auth;
      if (value.charCodeAt(0) === 32 || value.charCodeAt(value.length - 1) === 32) value = value.trim();
      // RFC 7617 Basic credentials are a reusable secret, tracked like an API key.
      const basic = space === 5 && BASIC.test(auth);
      if (value.length > 0) return { raw: value, as: basic ? 'api_key' : 'bearer', source: auth, own: draft.ownHeaderValues };
    }
    const q = draft.url === null ? -1 : draft.url.indexOf('?');
    if (q >= 0) {
      const found = this.queryToken(draft.url!.slice(q + 1));
      if (found) return found;
    }
    for (const h of this.config.apiKeyHeaders) {
      const v = draft.requestHeaders[h];
      if (v) return { raw: v, as: 'api_key', source: v, own: draft.ownHeaderValues };
    }
    return null;
  }

  private queryToken(query: string): FoundToken | null {
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) continue;
      const name = pair.slice(0, eq);
      const as = this.bearerParams.has(name) ? 'bearer' : this.apiKeyParams.has(name) ? 'api_key' : null;
      if (as) {
        const raw = decodeParam(pair.slice(eq + 1).split('#')[0]!);
        return { raw, as, source: raw, own: false };
      }
    }
    return null;
  }
}

function child(node: DeploymentTrie, hint: string | null | undefined): DeploymentTrie {
  let next = node.get(hint) as DeploymentTrie | undefined;
  if (next === undefined) node.set(flatCopy(hint), (next = new Map()));
  return next;
}

function decodeParam(v: string): string {
  // Most tokens hold neither: the replace and the decode would only copy them.
  if (!v.includes('%') && !v.includes('+')) return v;
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    // Keep the encoded form: a bad escape is still the same token on every request.
    return v;
  }
}

// Field by field: a spread and a walk over Object.entries cost several times more on every record
// that carries logged claims. Decoded claims win; logged ones, cut from the line, fill the gaps.
function mergeClaims(decoded: Claims | null, logged: Partial<Claims>, own: (v: string | null) => string | null): Claims {
  return {
    jti: decoded?.jti ?? own(logged.jti ?? null),
    sub: decoded?.sub ?? own(logged.sub ?? null),
    sid: decoded?.sid ?? own(logged.sid ?? null),
    clientId: decoded?.clientId ?? own(logged.clientId ?? null),
    iat: decoded?.iat ?? logged.iat ?? null,
    exp: decoded?.exp ?? logged.exp ?? null,
    iss: decoded?.iss ?? own(logged.iss ?? null),
    aud: decoded?.aud ?? logged.aud?.map((a) => own(a)!) ?? null,
    alg: decoded?.alg ?? own(logged.alg ?? null),
    verified: decoded?.verified ?? logged.verified ?? null,
  };
}
