// Decides a request's auth outcome (expired | invalid | revoked | malformed | missing)
// from its status, the RFC 6750 WWW-Authenticate challenge and the gateway's own error
// fields (Envoy response flags / jwt_authn details, Kong message, AWS error.responseType).
import type { AuthError } from './model.js';

export interface AuthSignals {
  status: number;
  /** The response's WWW-Authenticate header, when logged. */
  wwwAuthenticate: string | null;
  /** The gateway's own error text or code. */
  gatewayError: string | null;
  /** Whether the request carried a token (header, query or key); null when the record cannot tell. */
  hasToken: boolean | null;
}

// RFC 6750 section 3: error="invalid_request" (400), "invalid_token" (401), "insufficient_scope" (403).
const CHALLENGE_ERROR = /\berror\s*=\s*"?([a-z_]+)"?/i;
const CHALLENGE_DESCRIPTION = /\berror_description\s*=\s*"([^"]*)"/i;

const BEARER_CHALLENGE = /^\s*bearer\b/i;
// Envoy RBAC filter (response code details `rbac_access_denied_matched_policy[...]`) and scope
// denials: the token was accepted, the request was not allowed.
const NOT_TOKEN_FAILURE = /rbac_access_denied|insufficient_scope/i;

// Ordered: the first that matches wins. Sources: Envoy jwt_authn status strings
// ("Jwt is expired", "Jwt is missing", "Jwt is not in the form of Header.Payload.Signature"),
// Kong jwt/oauth2 plugin messages ("token expired", "Bad token", "Unauthorized"),
// AWS API Gateway gateway-response types (EXPIRED_TOKEN, MISSING_AUTHENTICATION_TOKEN,
// INVALID_SIGNATURE, UNAUTHORIZED, ACCESS_DENIED).
const RULES: ReadonlyArray<[RegExp, AuthError]> = [
  [/expired|exp_|token_expired|expired_token/i, 'expired'],
  [/revoked|revocation|inactive token|token is not active|active.?false/i, 'revoked'],
  [/missing|no (bearer|token|credential|api.?key|authorization)|not found in (header|request)|jwt_authn_access_denied\{jwt_is_missing\}/i, 'missing'],
  [/malformed|invalid_request|not in the form|bad token|decode|base64|not a (valid )?jwt|jwt_header|jwt_payload/i, 'malformed'],
];

/** The auth outcome of one request, or null when it is not an authentication failure. */
export function classifyAuthError(s: AuthSignals): AuthError | null {
  // Nearly every request: no challenge and a status no rule below reads as a failure.
  if (!s.wwwAuthenticate && s.status !== 400 && s.status !== 401 && s.status !== 403) return null;
  const challenge = s.wwwAuthenticate ?? '';
  const code = CHALLENGE_ERROR.exec(challenge)?.[1]?.toLowerCase() ?? null;
  const description = CHALLENGE_DESCRIPTION.exec(challenge)?.[1] ?? '';
  // insufficient_scope and RBAC denials are authorisation decisions about a valid token.
  if (code === 'insufficient_scope' || (s.gatewayError !== null && NOT_TOKEN_FAILURE.test(s.gatewayError))) return null;
  const text = `${description} ${s.gatewayError ?? ''}`;
  const failed = s.status === 401 || s.status === 403 || code !== null || (s.status === 400 && /jwt|token/i.test(text));
  if (!failed) return null;
  for (const [pattern, kind] of RULES) if (pattern.test(text)) return kind;
  if (code === 'invalid_request') return 'malformed';
  // RFC 6750 section 3.1: a request that lacked any authentication gets a challenge without an error code.
  if (code === null && BEARER_CHALLENGE.test(challenge) && s.hasToken !== true) return 'missing';
  if (s.hasToken === false && (s.status === 401 || s.status === 403)) return 'missing';
  return 'invalid';
}
