// Writes a SyntheticRequest as one Envoy access-log line: Envoy's default text format,
// Istio's default text format, or an Istio-keyed JSON dictionary extended with the header
// operators a user adds to log tokens and deployments (%REQ(AUTHORIZATION)%,
// %RESP(WWW-AUTHENTICATE)%, %RESP(X-DEPLOYMENT-VERSION)%). Same request, same line.
import { answeredByGateway, type GatewayRenderer, type SyntheticRequest } from '../types.js';

const VARIANTS = ['json', 'text', 'istio'] as const;

// Fixed addresses of the gateway's side of the connections: the sidecar/gateway pod and the
// backend pod Envoy forwarded to.
const PEER_PORT = 51234;
const LOCAL_ADDRESS = '10.0.1.5:8443';
const UPSTREAM_HOST = '10.0.3.21:8080';
const UPSTREAM_LOCAL = '10.0.1.5:40312';

/** Envoy access logs: `json` (Istio keys + header operators), `text` (Envoy default), `istio` (Istio default). */
export const envoyRenderer: GatewayRenderer = {
  format: 'envoy',
  variants: VARIANTS,

  render(req: SyntheticRequest, variant: string): string {
    const r = reply(req);
    const start = new Date(req.ts).toISOString();
    const target = requestTarget(req);
    const cluster = istioCluster(req);
    const bytesSent = r.local ? 14 : 512;
    const serviceTime = r.local ? '-' : String(Math.max(0, req.latencyMs - 1));
    if (variant === 'text') {
      return (
        `[${start}] "${req.method} ${target} HTTP/1.1" ${req.status} ${r.flags} 0 ${bytesSent} ${req.latencyMs} ${serviceTime} ` +
        `"${req.clientIp}" "${req.userAgent}" "${req.requestId}" "${req.host}" "${r.local ? '-' : UPSTREAM_HOST}"`
      );
    }
    if (variant === 'istio') {
      return (
        `[${start}] "${req.method} ${target} HTTP/1.1" ${req.status} ${r.flags} ${r.details} - "-" 0 ${bytesSent} ${req.latencyMs} ` +
        `${serviceTime} "${req.clientIp}" "${req.userAgent}" "${req.requestId}" "${req.host}" "${r.local ? '-' : UPSTREAM_HOST}" ` +
        `${cluster} ${r.local ? '-' : UPSTREAM_LOCAL} ${LOCAL_ADDRESS} ${hostPort(req.clientIp, PEER_PORT)} ${req.host} ${req.route}`
      );
    }
    if (variant !== 'json') throw new Error(`envoy renderer: unknown variant "${variant}" (expected ${VARIANTS.join(', ')})`);
    // typed_json_format: numbers stay numbers and unset operators render as null (usage docs).
    const deployed = !r.local;
    return JSON.stringify({
      authority: req.host,
      authorization: req.rawToken !== null && req.tokenIn === 'authorization' ? `Bearer ${req.rawToken}` : null,
      bytes_received: 0,
      bytes_sent: bytesSent,
      connection_termination_details: null,
      downstream_local_address: LOCAL_ADDRESS,
      downstream_remote_address: hostPort(req.clientIp, PEER_PORT),
      duration: req.latencyMs,
      method: req.method,
      path: target,
      protocol: 'HTTP/1.1',
      request_id: req.requestId,
      requested_server_name: req.host,
      response_code: req.status,
      response_code_details: r.details,
      response_flags: r.flags,
      route_name: req.route,
      start_time: start,
      upstream_cluster: cluster,
      upstream_host: r.local ? null : UPSTREAM_HOST,
      upstream_local_address: r.local ? null : UPSTREAM_LOCAL,
      upstream_service_time: r.local ? null : serviceTime,
      upstream_transport_failure_reason: null,
      user_agent: req.userAgent,
      www_authenticate: req.wwwAuthenticate,
      x_api_key: req.rawToken !== null && req.tokenIn === 'api_key_header' ? req.rawToken : null,
      x_deployment_track: deployed ? req.track : null,
      x_deployment_version: deployed ? req.version : null,
      x_forwarded_for: req.clientIp,
    });
  },

  carriesAuthorization(variant: string): boolean {
    // Only the JSON dictionary has the user-added %REQ(AUTHORIZATION)% key; both text defaults omit it.
    return variant === 'json';
  },
};

interface Reply {
  /** Envoy answered itself (jwt_authn denial, no healthy upstream): no upstream host or headers. */
  local: boolean;
  flags: string;
  details: string;
}

// jwt_authn denials are local replies with %RESPONSE_CODE_DETAILS% jwt_authn_access_denied{<status
// with spaces as underscores>}; an empty cluster gives 503 UH no_healthy_upstream (usage docs, flags).
function reply(req: SyntheticRequest): Reply {
  if (answeredByGateway(req)) {
    const reason =
      req.rawToken === null
        ? 'Jwt_is_missing'
        : /expired/i.test(req.wwwAuthenticate ?? '')
          ? 'Jwt_is_expired'
          : 'Jwt_verification_fails';
    return { local: true, flags: '-', details: `jwt_authn_access_denied{${reason}}` };
  }
  if (req.status === 503) return { local: true, flags: 'UH', details: 'no_healthy_upstream' };
  return { local: false, flags: '-', details: 'via_upstream' };
}

/** %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%: the path with its query, the token added when it travels there. */
function requestTarget(req: SyntheticRequest): string {
  let query = req.query;
  if (req.rawToken !== null && req.tokenIn === 'query' && !(query ?? '').includes('access_token=')) {
    query = query ? `${query}&access_token=${encodeURIComponent(req.rawToken)}` : `access_token=${encodeURIComponent(req.rawToken)}`;
  }
  return query ? `${req.path}?${query}` : req.path;
}

/** Istio's outbound|port|subset|host cluster, the subset carrying version and track (e.g. v2-canary). */
function istioCluster(req: SyntheticRequest): string {
  return `outbound|8080|${req.version}-${req.track}|${req.service}.prod.svc.cluster.local`;
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
