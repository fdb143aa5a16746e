// Writes a SyntheticRequest as one Tyk record: `analytics`, the AnalyticsRecord JSON tyk-pump
// writes (tyk-pump analytics/analytics.go JSON tags, detailed recording on, so raw_request and
// raw_response hold the base64 wire-format messages), or `logfmt`, the Gateway access log
// (https://tyk.io/docs/api-management/logs/access-logs, all fields, RFC 3339 text formatter).
import { createHash } from 'node:crypto';
import { answeredByGateway, type GatewayRenderer, type SyntheticRequest } from '../types.js';

const VARIANTS = ['analytics', 'logfmt'] as const;

const ORG_ID = '5e9d9544a1dcd60001d0ed20';

// Stand-in for Tyk's murmur64 key hash (hash_keys: true): any stable 16-hex digest serves.
const keyHash = (raw: string): string => createHash('sha256').update(raw).digest('hex').slice(0, 16);
const apiIdOf = (service: string): string => createHash('md5').update(`api:${service}`).digest('hex');

// Go's time.RFC3339Nano, as encoding/json writes time.Time: trailing fraction zeros dropped.
function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

const REASONS: Record<number, string> = { 200: 'OK', 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' };

// Which Tyk middleware rejects a request, and how it classifies the error (internal/errors/classifier.go).
function classification(r: SyntheticRequest): Record<string, string | number> {
  if (r.status === 401 && r.rawToken !== null) {
    const expired = /expired/i.test(r.wwwAuthenticate ?? '');
    return { error_source: 'JWTMiddleware', response_code_details: expired ? 'jwt_token_expired' : 'jwt_token_invalid', response_flag: expired ? 'TKE' : 'TKI' };
  }
  if (r.status === 401) return { error_source: 'AuthKey', response_code_details: 'auth_field_missing', response_flag: 'AMF' };
  if (r.status === 403) return { error_source: 'AuthKey', response_code_details: 'auth_key_not_found', response_flag: 'AKI' };
  if (r.status >= 500) {
    return { error_source: 'Upstream', error_target: `${r.upstream}:8080`, response_code_details: 'upstream_response_5xx', response_flag: 'URS', upstream_status: r.status };
  }
  return {};
}

// Tyk's error messages (gateway/handler_error.go, mw_jwt.go) behind its `{"error": ...}` template.
function errorMessage(r: SyntheticRequest): string {
  if (r.status === 401 && r.rawToken === null) return 'Authorization field missing';
  if (r.status === 401) return /expired/i.test(r.wwwAuthenticate ?? '') ? 'Key not authorized: token has expired' : 'Key not authorized';
  if (r.status === 403) return 'Access to this API has been disallowed';
  return 'There was a problem proxying the request';
}

function rawRequest(r: SyntheticRequest): string {
  const target = r.query ? `${r.path}?${r.query}` : r.path;
  const lines = [`${r.method} ${target} HTTP/1.1`, `Host: ${r.host}`, `User-Agent: ${r.userAgent}`, 'Accept: */*'];
  if (r.rawToken !== null && r.tokenIn === 'authorization') lines.push(`Authorization: Bearer ${r.rawToken}`);
  if (r.rawToken !== null && r.tokenIn === 'api_key_header') lines.push(`X-Api-Key: ${r.rawToken}`);
  lines.push(`X-Request-Id: ${r.requestId}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`).toString('base64');
}

function rawResponse(r: SyntheticRequest): string {
  const failed = r.status >= 400;
  const body = failed ? `{\n    "error": "${errorMessage(r)}"\n}` : '{"id":42,"status":"shipped"}';
  const lines = [`HTTP/1.1 ${r.status} ${REASONS[r.status] ?? 'Status'}`, `Content-Length: ${Buffer.byteLength(body)}`, 'Content-Type: application/json'];
  if (r.wwwAuthenticate !== null) lines.push(`Www-Authenticate: ${r.wwwAuthenticate}`);
  if (!answeredByGateway(r) && (!failed || r.status >= 500 || r.rejectedBy === 'upstream')) lines.push(`X-Deployment-Track: ${r.track}`, `X-Deployment-Version: ${r.version}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`).toString('base64');
}

function analytics(r: SyntheticRequest): string {
  const end = r.ts + r.latencyMs;
  const upstream = r.status === 401 || r.status === 403 ? 0 : Math.max(0, r.latencyMs - 2);
  const d = new Date(end);
  return JSON.stringify({
    method: r.method,
    host: `${r.upstream}:8080`,
    path: r.path,
    raw_path: r.path,
    original_path: r.path,
    listen_path: `/${r.path.split('/')[1] ?? ''}/`,
    content_length: 0,
    user_agent: r.userAgent,
    day: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    year: d.getUTCFullYear(),
    hour: d.getUTCHours(),
    response_code: r.status,
    api_key: r.rawToken === null ? '00000000' : keyHash(r.rawToken),
    timestamp: goTime(end),
    api_version: 'Non Versioned',
    api_name: r.service,
    api_id: apiIdOf(r.service),
    org_id: ORG_ID,
    oauth_id: '',
    request_time: r.latencyMs,
    raw_request: rawRequest(r),
    raw_response: rawResponse(r),
    ip_address: r.clientIp,
    geo: { country: { iso_code: '' }, city: { geoname_id: 0, names: {} }, location: { latitude: 0, longitude: 0, time_zone: '' } },
    network: { open_connections: 0, closed_connections: 0, bytes_in: 0, bytes_out: 0 },
    latency: { total: r.latencyMs, upstream, gateway: r.latencyMs - upstream },
    tags: [`key-${r.rawToken === null ? '00000000' : keyHash(r.rawToken)}`, `org-${ORG_ID}`, `api-${apiIdOf(r.service)}`],
    alias: r.rawToken === null ? '' : (r.consumerId ?? ''),
    track_path: false,
    expireAt: goTime(end + 7 * 86_400_000),
    api_schema: '',
  });
}

// logrus quotes a value unless every character is one of [A-Za-z0-9-._/@^+] (text_formatter.go needsQuoting);
// JSON string syntax matches Go's %q for the printable text written here.
const BARE = /^[A-Za-z0-9\-._/@^+]*$/;
const logfmtValue = (v: string | number): string => (typeof v === 'number' || BARE.test(v) ? String(v) : JSON.stringify(v));

function logfmt(r: SyntheticRequest): string {
  const upstream = r.status === 401 || r.status === 403 ? 0 : Math.max(0, r.latencyMs - 2);
  const fields: Record<string, string | number> = {
    api_id: apiIdOf(r.service),
    // Access logs hash the key when hash_keys is on (record.go WithApiKey); "00000000" is the empty key's hash.
    api_key: r.rawToken === null ? '00000000' : keyHash(r.rawToken),
    api_name: r.service,
    api_type: 'oas',
    client_ip: r.clientIp,
    host: r.host,
    latency_gateway: r.latencyMs - upstream,
    latency_total: r.latencyMs,
    method: r.method,
    org_id: ORG_ID,
    original_path: r.path,
    path: r.path,
    prefix: 'access-log',
    protocol: 'HTTP/1.1',
    remote_addr: r.clientIp.includes(':') ? `[${r.clientIp}]:51234` : `${r.clientIp}:51234`,
    status: r.status,
    upstream_addr: `http://${r.upstream}:8080${r.path}`,
    upstream_latency: upstream,
    user_agent: r.userAgent,
    ...classification(r),
  };
  // logrus writes time and level first, then the fields sorted by key; RFC 3339 has whole seconds.
  const time = new Date(Math.floor((r.ts + r.latencyMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const body = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${logfmtValue(fields[k]!)}`)
    .join(' ');
  return `time="${time}" level=info ${body}`;
}

/** Renders synthetic requests as Tyk analytics JSON or Tyk Gateway access-log lines. */
export const tykRenderer: GatewayRenderer = {
  format: 'tyk',
  variants: VARIANTS,

  render(request: SyntheticRequest, variant: string): string {
    if (variant === 'analytics') return analytics(request);
    if (variant === 'logfmt') return logfmt(request);
    throw new Error(`tyk renderer: unknown variant "${variant}"`);
  },

  carriesAuthorization(variant: string): boolean {
    // raw_request holds the whole request, Authorization included; the access log only a key hash.
    return variant === 'analytics';
  },
};
