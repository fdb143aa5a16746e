// The canonical models every later stage consumes: AccessEvent (one gateway request)
// and TokenEvent (one issuer event), as zod schemas and their inferred types.
// Contract: ../shared/ARCHITECTURE.md. No field ever holds a raw token.
import { z } from 'zod';

export const GATEWAYS = ['kong', 'envoy', 'aws-apigw', 'nginx', 'traefik', 'tyk', 'canonical'] as const;
export const IDPS = ['keycloak', 'auth0', 'okta', 'canonical'] as const;
export const TOKEN_KINDS = ['jwt', 'opaque', 'api_key'] as const;
export const AUTH_ERRORS = ['expired', 'invalid', 'revoked', 'malformed', 'missing'] as const;
export const TRACKS = ['stable', 'canary', 'blue', 'green'] as const;
export const TOKEN_EVENT_TYPES = ['issued', 'refreshed', 'revoked', 'logout', 'reuse_detected', 'error'] as const;

export type GatewayFormat = (typeof GATEWAYS)[number];
export type IdpFormat = (typeof IDPS)[number];
export type TokenKind = (typeof TOKEN_KINDS)[number];
export type AuthError = (typeof AUTH_ERRORS)[number];
export type Track = (typeof TRACKS)[number];
export type TokenEventType = (typeof TOKEN_EVENT_TYPES)[number];

const text = z.string().max(4096);
const epochMs = z.number().int().nonnegative();

/** JWT claims as decoded from the token, never trusted for authorisation. Times in epoch ms. */
export const claimsSchema = z
  .object({
    jti: text.nullable(),
    sub: text.nullable(),
    sid: text.nullable(),
    /** `azp`, else `client_id`, else `cid` (Okta). */
    clientId: text.nullable(),
    /** Issued-at, epoch ms (the JWT's seconds x 1000). */
    iat: epochMs.nullable(),
    /** Expiry, epoch ms (the JWT's seconds x 1000). */
    exp: epochMs.nullable(),
    iss: text.nullable(),
    aud: z.array(text).nullable(),
    /** The JOSE header `alg` (`none` marks an unsigned token). */
    alg: text.nullable(),
    /** Signature checked against the configured JWKS: true / false; null when no JWKS is configured. */
    verified: z.boolean().nullable(),
  })
  .strict();
export type Claims = z.infer<typeof claimsSchema>;

export const deploymentSchema = z
  .object({
    service: text.nullable(),
    version: text.nullable(),
    track: z.enum(TRACKS).nullable(),
  })
  .strict();
export type Deployment = z.infer<typeof deploymentSchema>;

/** One request seen by a gateway. */
export const accessEventSchema = z
  .object({
    /** Request start, epoch ms. */
    ts: epochMs,
    gateway: z.enum(GATEWAYS),
    requestId: text.nullable(),
    method: text.nullable(),
    /** Request path without the query string, token-like segments scrubbed. */
    path: text.nullable(),
    /** The gateway's route name or id, when logged. */
    route: text.nullable(),
    host: text.nullable(),
    status: z.number().int().min(0).max(999),
    latencyMs: z.number().nonnegative().nullable(),
    clientIp: text.nullable(),
    userAgent: text.nullable(),
    /** hex(HMAC-SHA256(key, rawToken))[0..32]; null when the request carried no token. */
    tokenFp: z.string().regex(/^[0-9a-f]{32}$/).nullable(),
    tokenKind: z.enum(TOKEN_KINDS).nullable(),
    claims: claimsSchema.nullable(),
    authError: z.enum(AUTH_ERRORS).nullable(),
    deployment: deploymentSchema,
    consumerId: text.nullable(),
  })
  .strict();
export type AccessEvent = z.infer<typeof accessEventSchema>;

/** One event of a token issuer (IdP). */
export const tokenEventSchema = z
  .object({
    ts: epochMs,
    idp: z.enum(IDPS),
    type: z.enum(TOKEN_EVENT_TYPES),
    /** The IdP's own event type (Keycloak `REFRESH_TOKEN`, Auth0 `sertft`, Okta `app.oauth2.token.grant`...). */
    idpEventType: text.nullable(),
    /** The access token's id (jti). */
    tokenId: text.nullable(),
    refreshTokenId: text.nullable(),
    parentRefreshTokenId: text.nullable(),
    sessionId: text.nullable(),
    subject: text.nullable(),
    clientId: text.nullable(),
    ip: text.nullable(),
    /** Expiry of the issued token, epoch ms. */
    exp: epochMs.nullable(),
    reason: text.nullable(),
  })
  .strict();
export type TokenEvent = z.infer<typeof tokenEventSchema>;
