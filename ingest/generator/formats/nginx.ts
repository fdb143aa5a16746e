// Writes a SyntheticRequest as one NGINX access-log line: `json` (an escape=json log_format keyed
// by variable names, logging $http_authorization, $sent_http_www_authenticate and the backend's
// x-deployment-* headers), the predefined `combined` text format, or ingress-nginx's default
// `upstreaminfo`. Text variants log no request headers; all log the query string.
import type { GatewayRenderer, SyntheticRequest } from '../types.js';

const VARIANTS = ['json', 'combined', 'upstreaminfo'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const UPSTREAM_ADDR = '10.244.1.17:8080';
const NAMESPACE = 'default';
const BODY_BYTES = 512;

/** NGINX access logs: `json`, `combined` and ingress-nginx `upstreaminfo`. */
export const nginxRenderer: GatewayRenderer = {
  format: 'nginx',
  variants: VARIANTS,

  render(req: SyntheticRequest, variant: string): string {
    const target = req.query ? `${req.path}?${req.query}` : req.path;
    const requestLine = `${req.method} ${target} HTTP/1.1`;
    // $time_local / $msec are taken at the log write, after the response went out.
    const end = req.ts + req.latencyMs;
    const seconds = (ms: number): string => (ms / 1000).toFixed(3);
    const bytes = req.status === 204 ? 0 : BODY_BYTES;
    if (variant === 'json') {
      const auth = req.rawToken !== null && req.tokenIn === 'authorization' ? `Bearer ${req.rawToken}` : '';
      const apiKey = req.rawToken !== null && req.tokenIn === 'api_key_header' ? req.rawToken : '';
      return JSON.stringify({
        msec: seconds(end),
        time_iso8601: isoTime(end),
        remote_addr: req.clientIp,
        remote_user: '',
        request: requestLine,
        request_id: req.requestId,
        status: req.status,
        body_bytes_sent: bytes,
        request_time: Number(seconds(req.latencyMs)),
        upstream_addr: UPSTREAM_ADDR,
        upstream_response_time: seconds(Math.max(0, req.latencyMs - 2)),
        proxy_host: req.upstream,
        http_host: req.host,
        http_referer: '',
        http_user_agent: req.userAgent,
        http_x_forwarded_for: '',
        http_authorization: auth,
        http_x_api_key: apiKey,
        sent_http_www_authenticate: req.wwwAuthenticate ?? '',
        upstream_http_x_deployment_version: req.version,
        upstream_http_x_deployment_track: req.track,
      });
    }
    const head = `${req.clientIp} - - [${clfTime(end)}] "${escape(requestLine)}" ${req.status} ${bytes} "-" "${escape(req.userAgent)}"`;
    if (variant === 'combined') return head;
    if (variant !== 'upstreaminfo') throw new Error(`nginx renderer: unknown variant "${variant}" (expected ${VARIANTS.join(', ')})`);
    // ingress-nginx routes canary traffic to the alternative backend of the main ingress's upstream;
    // other tracks are their own upstream, named <namespace>-<service>-<port>.
    const canary = req.track === 'canary';
    const primary = `${NAMESPACE}-${canary ? req.service : req.upstream}-8080`;
    const alternative = canary ? `${NAMESPACE}-${req.upstream}-8080` : '';
    const requestLength = 180 + target.length;
    return (
      `${head} ${requestLength} ${seconds(req.latencyMs)} [${primary}] [${alternative}] ${UPSTREAM_ADDR} ` +
      `${bytes} ${seconds(Math.max(0, req.latencyMs - 2))} ${req.status} ${req.requestId}`
    );
  },

  carriesAuthorization(variant: string): boolean {
    return variant === 'json';
  },
};

const pad = (n: number): string => String(n).padStart(2, '0');

function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function isoTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

// Default escaping: `"`, `\` and bytes outside printable ASCII become \xXX (ngx_http_log_module docs).
function escape(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s) && !/["\\]/.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c ? `\\x${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  }
  return out;
}
