// Turns a gateway parser's AccessDraft into the canonical AccessEvent: finds the token
// (Authorization header, OAuth query parameter, API-key header, or the id the gateway
// logged), fingerprints it and drops it, decodes claims, classifies the auth outcome,
// infers the deployment and the client IP, strips query strings and control characters.
import { z } from 'zod';
import type { AccessEvent, Claims, GatewayFormat, TokenKind } from './model.js';
import { GATEWAYS } from './model.js';
import type { AccessDraft } from './parsers/types.js';
import { fail, type ParseResult } from './parse-result.js';
import { classifyAuthError } from './auth-error.js';
import { deploymentConfigSchema, inferDeployment, type DeploymentConfig } from './deployment.js';
import { clientIp, TrustedProxies } from './client-ip.js';
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
    /** Longest token accepted, bytes; longer ones go to the DLQ as token_too_large. Default 16384. */
    maxTokenBytes: z.number().int().positive().default(16_384),
    /** Distinct tokens whose fingerprint and claims are cached. Default 100000. */
    tokenCacheSize: z.number().int().positive().default(100_000),
  })
  .strict();
export type IngestConfig = z.output<typeof ingestConfigSchema>;

const MAX_TEXT = 4096;
const clip = (v: string | null): string | null => (v === null ? null : stripControls(v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) : v));

// RFC 6750 section 2.3 (access_token) and OAuth 1.0a-style proxies (oauth_token).
const QUERY_TOKEN = /(?:^|[?&])(?:access_token|oauth_token)=([^&#]+)/;

interface FoundToken {
  raw: string;
  as: 'bearer' | 'api_key';
}

/** Stateful (token cache) normaliser shared by every gateway parser of one ingest run. */
export class Normalizer {
  readonly tokens: TokenCache;
  private readonly trusted: TrustedProxies;
  private readonly deployment = new Map<GatewayFormat, DeploymentConfig>();

  constructor(
    private readonly config: IngestConfig,
    fpKey: string,
    verifier: JwksVerifier | null = null,
  ) {
    this.tokens = new TokenCache(fpKey, config.tokenCacheSize, verifier);
    this.trusted = new TrustedProxies(config.trustedProxies);
    for (const g of GATEWAYS) this.deployment.set(g, { ...config.deployment, ...config.gatewayDeployment[g] });
  }

  /** The canonical event for `draft`, or a rejection (token_too_large). */
  access(draft: AccessDraft): ParseResult<AccessEvent> {
    const found = this.findToken(draft);
    let tokenFp: string | null = null;
    let tokenKind: TokenKind | null = null;
    let claims: Claims | null = null;
    if (found) {
      if (Buffer.byteLength(found.raw) > this.config.maxTokenBytes) {
        return fail('token_too_large', `token of ${Buffer.byteLength(found.raw)} bytes exceeds maxTokenBytes ${this.config.maxTokenBytes}`);
      }
      const info = this.tokens.lookup(found.raw, found.as);
      tokenFp = info.fp;
      tokenKind = info.kind;
      claims = info.claims;
    } else if (draft.tokenId) {
      const info = this.tokens.lookup(draft.tokenId.value, 'api_key');
      tokenFp = info.fp;
      tokenKind = draft.tokenId.kind;
    }
    if (draft.loggedClaims) claims = mergeClaims(claims, draft.loggedClaims);
    if (tokenKind === null && claims !== null) tokenKind = 'jwt';

    const authError = classifyAuthError({
      status: draft.status,
      wwwAuthenticate: draft.responseHeaders['www-authenticate'] ?? null,
      gatewayError: draft.gatewayError,
      hasToken: tokenFp !== null,
    });
    const deployment = inferDeployment(
      { responseHeaders: draft.responseHeaders, service: draft.service, upstream: draft.upstream, route: draft.route, host: draft.host },
      this.deployment.get(draft.gateway)!,
    );
    const secrets = found ? [found.raw] : [];
    return {
      ok: true,
      event: {
        ts: draft.ts,
        gateway: draft.gateway,
        requestId: clip(draft.requestId),
        method: clip(draft.method),
        path: draft.url === null ? null : clip(cleanPath(draft.url, secrets)),
        route: clip(draft.route),
        host: clip(draft.host),
        status: draft.status,
        latencyMs: draft.latencyMs === null || draft.latencyMs < 0 ? null : draft.latencyMs,
        clientIp: clip(clientIp(draft.clientIp, draft.requestHeaders['x-forwarded-for'] ?? null, this.trusted)),
        userAgent: clip(draft.userAgent ?? draft.requestHeaders['user-agent'] ?? null),
        tokenFp,
        tokenKind,
        claims,
        authError,
        deployment: { service: clip(deployment.service), version: clip(deployment.version), track: deployment.track },
        consumerId: clip(draft.consumerId),
      },
    };
  }

  private findToken(draft: AccessDraft): FoundToken | null {
    const auth = draft.requestHeaders.authorization;
    if (auth) {
      const space = auth.indexOf(' ');
      const scheme = space > 0 ? auth.slice(0, space).toLowerCase() : '';
      const value = space > 0 ? auth.slice(space + 1).trim() : auth.trim();
      // RFC 7617 Basic credentials are a reusable secret, tracked like an API key.
      if (value.length > 0) return { raw: value, as: scheme === 'basic' ? 'api_key' : 'bearer' };
    }
    if (draft.url && draft.url.includes('_token=')) {
      const m = QUERY_TOKEN.exec(draft.url);
      if (m) {
        let raw = m[1]!;
        try {
          raw = decodeURIComponent(raw);
        } catch {
          // Keep the encoded form: a bad escape is still the same token on every request.
        }
        return { raw, as: 'bearer' };
      }
    }
    for (const h of this.config.apiKeyHeaders) {
      const v = draft.requestHeaders[h];
      if (v) return { raw: v, as: 'api_key' };
    }
    return null;
  }
}

function mergeClaims(decoded: Claims | null, logged: Partial<Claims>): Claims {
  const base: Claims = decoded ?? {
    jti: null, sub: null, sid: null, clientId: null, iat: null, exp: null, iss: null, aud: null, alg: null, verified: null,
  };
  const out: Claims = { ...base };
  for (const [k, v] of Object.entries(logged) as Array<[keyof Claims, never]>) {
    if (v !== null && v !== undefined && out[k] === null) out[k] = v;
  }
  return out;
}
