// Envoy access logs in three shapes: Envoy's default text format, Istio's default text
// format (Envoy's plus response details, cluster and addresses), and JSON dictionaries
// (`json_format` / `typed_json_format`) with Istio's, Envoy Gateway's or users' keys.
// Emits one AccessDraft per HTTP request; TCP-proxy records (no method, path or protocol)
// are skipped. Pure and total: bad input becomes a DLQ reason, never an exception.
import type { JsonObject } from '../fields.js';
import { numValue, strValue } from '../fields.js';
import { anyToMs } from '../time.js';
import { FieldError, fail, guard, skip, type ParseResult } from '../parse-result.js';
import { emptyDraft, type AccessDraft, type GatewayParser, type RawRecord } from './types.js';

// Envoy docs, configuration/observability/access_log/usage "Default Format String":
// [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%
// %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%"
// "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
// Emissary-ingress (Ambassador) writes the same format behind an "ACCESS " prefix.
const ENVOY_TEXT =
  /^(?:ACCESS )?\[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d+|-) (\S+) (\d+|-) (\d+|-) (\d+|-) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"\s*$/;

// Istio's EnvoyTextLogFormat (istio/istio pilot/pkg/model/telemetry_logging.go; istio.io
// "Envoy Access Logs"): the default above with %RESPONSE_CODE_DETAILS%
// %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" after the flags and
// %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
// %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME% at the end.
const ISTIO_TEXT =
  /^\[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d+|-) (\S+) (\S+) (\S+) "([^"]*)" (\d+|-) (\d+|-) (\d+|-) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\s*$/;

// Both text formats open with the bracketed RFC 3339 START_TIME, the quoted request line and
// the status; NGINX / Traefik CLF lines open with an address, Tyk logfmt with `time=`.
const TEXT_HEAD = /^(?:ACCESS )?\[\d{4}-\d\d-\d\dT[^\] ]*\] "[^"]*" \d+ /;

// Istio cluster names are direction|port|subset|host; an inbound sidecar logs `inbound|8000||`
// without a host, and Envoy Gateway names clusters after the route (`httproute/ns/name/rule/0`):
// neither names the backend service, so neither becomes the draft's upstream.
const HOSTLESS_CLUSTER = /^(?:inbound|outbound)\|\d*\|[^|]*\|$/;
const GATEWAY_API_CLUSTER = /^(?:http|grpc|tls|tcp|udp)route\//;
// Istio's mTLS SNI, outbound_.<port>_.<subset>_.<host> (e.g. outbound_.9080_.v1_.reviews.default.svc.cluster.local),
// names the service and subset an inbound sidecar serves.
const ISTIO_SNI = /^outbound_\.(\d+)_\.([^_]*)_\.(.+)$/;

/** Envoy, Istio and Envoy Gateway access logs, text and JSON. */
export const envoyParser: GatewayParser = {
  format: 'envoy',

  detect(record: RawRecord): boolean {
    if (record.kind === 'text') return TEXT_HEAD.test(record.line);
    const v = record.value;
    // Keys named after Envoy command operators; the docs' bare {protocol, duration} example
    // carries none of them and needs --format envoy.
    return (
      v.response_flags !== undefined ||
      v.response_code_details !== undefined ||
      v.upstream_cluster !== undefined ||
      v['x-envoy-origin-path'] !== undefined ||
      (v.response_code !== undefined && v.start_time !== undefined)
    );
  },

  parse(record: RawRecord): ParseResult<AccessDraft> {
    return guard(() => (record.kind === 'text' ? parseText(record.line) : parseJson(record.value)));
  },
};

function parseText(line: string): ParseResult<AccessDraft> {
  // The default format ends with the quoted %UPSTREAM_HOST%, Istio's with the bare %ROUTE_NAME%.
  const istio = !line.trimEnd().endsWith('"');
  const m = (istio ? ISTIO_TEXT : ENVOY_TEXT).exec(line);
  if (!m) return fail('format_mismatch', 'not an Envoy default or Istio default access log line');
  const ts = anyToMs(m[1]!);
  const method = dash(m[2]!);
  const url = dash(m[3]!);
  if (method === null && url === null && dash(m[4]!) === null) return skip('not_http', 'Envoy TCP proxy record, not an HTTP request');
  const d = emptyDraft('envoy', ts, statusOf(m[5]!));
  d.method = method;
  d.url = url;
  if (istio) {
    d.gatewayError = joinError(dash(m[6]!), dash(m[7]!));
    d.latencyMs = dashNum(m[12]!);
    setForwardedFor(d, dash(m[14]!));
    d.userAgent = dash(m[15]!);
    d.requestId = dash(m[16]!);
    d.host = dash(m[17]!);
    d.upstream = upstreamOf(dash(m[19]!), dash(m[23]!));
    d.clientIp = dash(m[22]!) ?? d.clientIp;
    d.route = dash(m[24]!);
  } else {
    d.gatewayError = joinError(dash(m[6]!), null);
    d.latencyMs = dashNum(m[9]!);
    setForwardedFor(d, dash(m[11]!));
    d.userAgent = dash(m[12]!);
    d.requestId = dash(m[13]!);
    d.host = dash(m[14]!);
  }
  return { ok: true, event: d };
}

// Keys are read as named properties (`v.method`), not through str(v, 'method'): a dictionary's keys
// are the same on every record, and a named load is the cheaper read per record.
function parseJson(v: JsonObject): ParseResult<AccessDraft> {
  const ts = startTime(v);
  const method = strValue(v.method, 'method') ?? strValue(v[':method'], ':method');
  const url = strValue(v.path, 'path') ?? strValue(v['x-envoy-origin-path'], 'x-envoy-origin-path') ?? strValue(v[':path'], ':path');
  if (method === null && url === null && strValue(v.protocol, 'protocol') === null) return skip('not_http', 'Envoy TCP proxy record, not an HTTP request');
  const code = v.response_code ?? v.status;
  if (code === undefined || code === null || code === '-') throw new FieldError('missing_field', 'response_code: missing');
  const d = emptyDraft('envoy', ts, statusOf(code));
  d.ownHeaderValues = true;
  d.method = method;
  d.url = url;
  d.latencyMs = numValue(v.duration, 'duration');
  d.userAgent = strValue(v.user_agent, 'user_agent') ?? strValue(v['user-agent'], 'user-agent');
  d.requestId = strValue(v.request_id, 'request_id') ?? strValue(v['x-request-id'], 'x-request-id') ?? strValue(v.x_request_id, 'x_request_id');
  d.host = strValue(v.authority, 'authority') ?? strValue(v[':authority'], ':authority');
  d.route = strValue(v.route_name, 'route_name');
  d.gatewayError = joinError(strValue(v.response_flags, 'response_flags'), strValue(v.response_code_details, 'response_code_details'));
  d.upstream = upstreamOf(strValue(v.upstream_cluster, 'upstream_cluster'), strValue(v.requested_server_name, 'requested_server_name'));
  setForwardedFor(d, strValue(v.x_forwarded_for, 'x_forwarded_for') ?? strValue(v['x-forwarded-for'], 'x-forwarded-for'));
  // %DOWNSTREAM_REMOTE_ADDRESS% may already be inferred from PROXY protocol or X-Forwarded-For
  // by Envoy's own trust settings (usage docs, note); the direct peer is the fallback, the last
  // XFF hop the last resort.
  d.clientIp =
    strValue(v.downstream_remote_address, 'downstream_remote_address') ??
    strValue(v.downstream_direct_remote_address, 'downstream_direct_remote_address') ??
    d.clientIp;
  // Header operators users add to the dictionary: %REQ(AUTHORIZATION)%, %REQ(X-API-KEY)%,
  // %RESP(WWW-AUTHENTICATE)%, %RESP(X-DEPLOYMENT-VERSION)%; Envoy Gateway-style keys keep the dashes.
  const auth = strValue(v.authorization, 'authorization');
  if (auth !== null) d.requestHeaders.authorization = auth;
  // A logged %REQ(AUTHORIZATION)% that is "-": the client sent no Authorization header.
  else if ('authorization' in v) d.tokenPresented = false;
  const apiKey = strValue(v.x_api_key, 'x_api_key') ?? strValue(v['x-api-key'], 'x-api-key');
  if (apiKey !== null) d.requestHeaders['x-api-key'] = apiKey;
  const challenge = strValue(v.www_authenticate, 'www_authenticate') ?? strValue(v['www-authenticate'], 'www-authenticate');
  if (challenge !== null) d.responseHeaders['www-authenticate'] = challenge;
  const version = strValue(v.x_deployment_version, 'x_deployment_version') ?? strValue(v['x-deployment-version'], 'x-deployment-version');
  if (version !== null) d.responseHeaders['x-deployment-version'] = version;
  const track = strValue(v.x_deployment_track, 'x_deployment_track') ?? strValue(v['x-deployment-track'], 'x-deployment-track');
  if (track !== null) d.responseHeaders['x-deployment-track'] = track;
  return { ok: true, event: d };
}

function startTime(v: JsonObject): number {
  const raw = v.start_time ?? v.timestamp ?? v['@timestamp'];
  if (raw === undefined || raw === null || raw === '-' || raw === '') throw new FieldError('missing_field', 'start_time: missing');
  // START_TIME's default is RFC 3339 with ms in UTC; %START_TIME(%s.%3f)% gives epoch seconds.
  if (typeof raw === 'number' || typeof raw === 'string') return anyToMs(raw);
  throw new FieldError('invalid_timestamp', 'start_time: expected a string or number');
}

/** %RESPONSE_CODE%: 0 means Envoy never sent a response (downstream disconnect), else an HTTP status. */
function statusOf(raw: unknown): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || (n !== 0 && (n < 100 || n > 999))) throw new FieldError('invalid_field', 'response_code: not an HTTP status');
  return n;
}

// Envoy writes "-" for every unset operator in text logs (usage docs, "Command Operators").
const dash = (v: string): string | null => (v === '-' || v === '' ? null : v);
const dashNum = (v: string): number | null => (v === '-' ? null : Number(v));

/** %RESPONSE_FLAGS% and %RESPONSE_CODE_DETAILS% (UAEX ext_authz_denied, - jwt_authn_access_denied{Jwt_is_expired}). */
function joinError(flags: string | null, details: string | null): string | null {
  const d = details === 'via_upstream' ? null : details;
  if (flags === null) return d;
  return d === null ? flags : `${flags} ${d}`;
}

/** Keeps the XFF header and takes its last hop as the client: an edge Envoy appends its peer there. */
function setForwardedFor(d: AccessDraft, xff: string | null): void {
  if (xff === null) return;
  d.requestHeaders['x-forwarded-for'] = xff;
  const comma = xff.lastIndexOf(',');
  const last = (comma < 0 ? xff : xff.slice(comma + 1)).trim();
  if (last.length > 0) d.clientIp = last;
}

function upstreamOf(cluster: string | null, sni: string | null): string | null {
  if (cluster !== null && !HOSTLESS_CLUSTER.test(cluster) && !GATEWAY_API_CLUSTER.test(cluster)) return cluster;
  const m = sni === null ? null : ISTIO_SNI.exec(sni);
  return m ? `outbound|${m[1]}|${m[2]}|${m[3]}` : null;
}
