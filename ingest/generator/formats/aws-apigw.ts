// Writes a SyntheticRequest as one AWS API Gateway access-log line: `rest` in the flat style of
// the console's JSON formats (dotted `$context` names as keys), `http` with user-made groups
// ({"request":{…},"http":{…}}). Access logs can log only `$context` variables, never headers, so
// a bearer token shows only as the claims a Cognito / JWT authorizer exposes or as an API key id.
import { createHash } from 'node:crypto';
import type { GatewayRenderer, SyntheticRequest } from '../types.js';

const VARIANTS = ['rest', 'http'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const API_ID = 'a1b2c3d4e5';
const RESPONSE_LENGTH = '512';

/** AWS API Gateway access logs: `rest` (REST API) and `http` (HTTP API). */
export const awsApigwRenderer: GatewayRenderer = {
  format: 'aws-apigw',
  variants: VARIANTS,

  render(req: SyntheticRequest, variant: string): string {
    if (variant === 'rest') return JSON.stringify(rest(req));
    if (variant === 'http') return JSON.stringify(http(req));
    throw new Error(`aws-apigw renderer: unknown variant "${variant}" (expected ${VARIANTS.join(', ')})`);
  },

  carriesAuthorization(): boolean {
    return false;
  },
};

function rest(req: SyntheticRequest): Record<string, string> {
  const claims = authorizerClaims(req);
  // Canary releases are a REST stage setting; blue / green are separate stages behind one domain.
  const stage = req.track === 'blue' || req.track === 'green' ? req.track : 'prod';
  const out: Record<string, string> = {
    requestId: req.requestId,
    extendedRequestId: extendedId(req.requestId),
    ip: req.clientIp,
    caller: '-',
    user: '-',
    requestTime: clfTime(req.ts),
    requestTimeEpoch: String(req.ts),
    httpMethod: req.method,
    resourcePath: '/{proxy+}',
    path: req.path,
    status: String(req.status),
    protocol: 'HTTP/1.1',
    responseLength: RESPONSE_LENGTH,
    responseLatency: String(req.latencyMs),
    integrationLatency: String(Math.max(0, req.latencyMs - 4)),
    domainName: req.host,
    stage,
    apiId: API_ID,
    deploymentId: req.version,
    isCanaryRequest: stage === 'prod' ? String(req.track === 'canary') : '-',
    'identity.userAgent': req.userAgent,
    'identity.apiKeyId': req.rawToken !== null && req.tokenIn === 'api_key_header' ? apiKeyId(req.rawToken) : '-',
    'authorizer.principalId': req.consumerId ?? '-',
    'error.responseType': '-',
    'error.message': '-',
  };
  for (const [name, value] of Object.entries(claims)) out[`authorizer.claims.${name}`] = value;
  const failure = authFailure(req);
  if (failure) {
    out['error.responseType'] = failure.responseType;
    // A Cognito user-pool authorizer answers an expired token with this message.
    out['error.message'] = failure.expired ? 'The incoming token has expired' : 'Unauthorized';
  }
  return out;
}

function http(req: SyntheticRequest): Record<string, unknown> {
  const failure = authFailure(req);
  const claims = authorizerClaims(req);
  const stage = req.track === 'stable' ? '$default' : req.track;
  return {
    request: { requestId: req.requestId, requestTime: clfTime(req.ts) },
    api: { apiId: API_ID, stage, domainName: req.host },
    client: { sourceIp: req.clientIp, userAgent: req.userAgent },
    http: { path: req.path, routeKey: `${req.method} ${req.path.replace(/\/[^/]*$/, '/{id}')}`, protocol: 'HTTP/1.1', httpMethod: req.method },
    response: { status: req.status, responseLength: RESPONSE_LENGTH, responseLatency: req.latencyMs },
    // A JWT authorizer's rejection reason is the error_description of its WWW-Authenticate challenge.
    authorizer: {
      error: failure ? (challengeDescription(req.wwwAuthenticate) ?? 'Unauthorized') : '-',
      principalId: '-',
      claims,
    },
    error: { responseType: failure ? failure.responseType : '-', errorMessage: failure ? 'Unauthorized' : '-' },
  };
}

function authFailure(req: SyntheticRequest): { responseType: string; expired: boolean } | null {
  if (req.status !== 401 && req.status !== 403) return null;
  const expired = /expir/i.test(req.wwwAuthenticate ?? '');
  return { responseType: req.status === 401 ? 'UNAUTHORIZED' : 'ACCESS_DENIED', expired };
}

// The claims an authorizer exposes as $context.authorizer.claims.* once it accepted the JWT.
function authorizerClaims(req: SyntheticRequest): Record<string, string> {
  if (req.rawToken === null || req.tokenIn === 'api_key_header' || req.status === 401 || req.status === 403) return {};
  const parts = req.rawToken.split('.');
  if (parts.length !== 3) return {};
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const name of ['sub', 'jti', 'iss', 'client_id', 'azp']) {
    const v = payload[name];
    if (typeof v === 'string') out[name] = v;
  }
  // Cognito user-pool authorizers print NumericDates as Java dates, e.g. "Thu May 04 03:50:06 UTC 2023".
  for (const name of ['exp', 'iat']) {
    const v = payload[name];
    if (typeof v === 'number') out[name] = javaDate(v * 1000);
  }
  return out;
}

function challengeDescription(challenge: string | null): string | null {
  return challenge ? (/error_description="([^"]*)"/.exec(challenge)?.[1] ?? null) : null;
}

// API key ids are opaque ten-character ids; derived from the key so one key keeps one id.
const apiKeyId = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 10);
const extendedId = (requestId: string): string => `${Buffer.from(requestId).toString('base64').replace(/=+$/, '').slice(0, 14)}=`;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function javaDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
