// Writes a SyntheticRequest as one Kong 3.x log serializer record (file-log / http-log JSON),
// shaped like the sample in https://developer.konghq.com/plugins/file-log/ ("Log format").
// Kong replaces request.headers.authorization with "REDACTED" (kong/pdk/log.lua); the record
// here is what a deployment gets after restoring it with custom_fields_by_lua:
//   config.custom_fields_by_lua["request.headers.authorization"] = return kong.request.get_header("authorization")
import { createHash } from 'node:crypto';
import { answeredByGateway, type GatewayRenderer, type SyntheticRequest } from '../types.js';

const VARIANTS = ['json'] as const;

// Kong ids are UUIDs; derive stable ones from names so the same request renders the same line.
function uuidOf(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function querystring(query: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!query) return out;
  for (const [k, v] of new URLSearchParams(query)) out[k] = v;
  return out;
}

function record(r: SyntheticRequest): Record<string, unknown> {
  const uri = r.query ? `${r.path}?${r.query}` : r.path;
  // Auth plugins answer 401 / 403 themselves; everything else reached the upstream.
  const fromKong = answeredByGateway(r);
  const authenticated = r.rawToken !== null && !fromKong;
  const requestHeaders: Record<string, string> = { host: r.host, 'user-agent': r.userAgent, accept: '*/*' };
  if (r.rawToken !== null && r.tokenIn === 'authorization') requestHeaders.authorization = `Bearer ${r.rawToken}`;
  // key-auth reads the `apikey` header by default (config.key_names = ["apikey"]).
  if (r.rawToken !== null && r.tokenIn === 'api_key_header') requestHeaders.apikey = r.rawToken;

  const proxyLatency = fromKong ? -1 : Math.max(0, r.latencyMs - 2);
  const responseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': '128',
    date: new Date(r.ts + r.latencyMs).toUTCString(),
    via: '1.1 kong/3.9.0',
    'x-kong-request-id': r.requestId,
  };
  // The challenge is logged whoever sent it: Kong passes an upstream's WWW-Authenticate through.
  if (r.wwwAuthenticate !== null) responseHeaders['www-authenticate'] = r.wwwAuthenticate;
  if (fromKong) {
    responseHeaders['x-kong-response-latency'] = String(r.latencyMs);
  } else {
    responseHeaders['x-kong-upstream-latency'] = String(proxyLatency);
    responseHeaders['x-kong-proxy-latency'] = '1';
    responseHeaders['x-deployment-version'] = r.version;
    responseHeaders['x-deployment-track'] = r.track;
  }

  const out: Record<string, unknown> = {
    response: { size: 402, headers: responseHeaders, status: r.status },
    route: {
      id: uuidOf(`route:${r.route}`),
      name: r.route,
      paths: [r.path.split('/').slice(0, 3).join('/') || '/'],
      protocols: ['http', 'https'],
      strip_path: false,
      preserve_host: false,
      service: { id: uuidOf(`service:${r.service}`) },
    },
    workspace: uuidOf('workspace:default'),
    workspace_name: 'default',
    tries: fromKong ? undefined : [{ balancer_start: r.ts + 1, ip: '10.0.12.7', port: 8080, balancer_latency: 0 }],
    client_ip: r.clientIp,
    request: {
      id: r.requestId,
      headers: requestHeaders,
      uri,
      size: 180,
      method: r.method,
      querystring: querystring(r.query),
      url: `https://${r.host}:8443${uri}`,
    },
    upstream_uri: uri,
    started_at: r.ts,
    source: fromKong ? 'kong' : 'upstream',
    upstream_status: fromKong ? '' : String(r.status),
    latencies: { kong: 1, proxy: proxyLatency, request: r.latencyMs, receive: 0 },
    service: {
      host: r.upstream,
      name: r.service,
      id: uuidOf(`service:${r.service}`),
      port: 8080,
      protocol: 'http',
      retries: 5,
      connect_timeout: 60000,
    },
  };
  if (authenticated && r.consumerId !== null) {
    out.consumer = { id: uuidOf(`consumer:${r.consumerId}`), username: r.consumerId };
    out.authenticated_entity = { id: uuidOf(`credential:${r.consumerId}`), consumer_id: uuidOf(`consumer:${r.consumerId}`) };
  }
  return out;
}

/** Renders synthetic requests as Kong log serializer JSON lines. */
export const kongRenderer: GatewayRenderer = {
  format: 'kong',
  variants: VARIANTS,

  render(request: SyntheticRequest, variant: string): string {
    if (variant !== 'json') throw new Error(`kong renderer: unknown variant "${variant}"`);
    return JSON.stringify(record(request));
  },

  carriesAuthorization(variant: string): boolean {
    return variant === 'json';
  },
};
