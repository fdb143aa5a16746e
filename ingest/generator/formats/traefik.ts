// Writes a SyntheticRequest as one Traefik access-log line: the JSON format (logrus fields
// in key order, headers kept with accessLog.fields.headers.defaultMode=keep, so the
// Authorization header appears as request_Authorization) or the default `common` CLF.
// Same request, same line.
import { answeredByGateway, type GatewayRenderer, type SyntheticRequest } from '../types.js';

const VARIANTS = ['json', 'clf'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PEER_PORT = 51234;
const REQUEST_COUNT = 1042;

/** Traefik access logs: `json` and `clf` (the default `common` format). */
export const traefikRenderer: GatewayRenderer = {
  format: 'traefik',
  variants: VARIANTS,

  render(req: SyntheticRequest, variant: string): string {
    const target = requestTarget(req);
    const size = req.status === 200 ? 512 : 0;
    const serviceUrl = `http://${req.upstream}:8080`;
    if (variant === 'clf') {
      // CommonLogFormatter (pkg/middlewares/accesslog/logger_formatters.go); quoted values escape `"`.
      return (
        `${req.clientIp} - - [${clfTime(req.ts)}] "${req.method} ${target} HTTP/2.0" ${req.status} ${size} "-" ` +
        `${quote(req.userAgent)} ${REQUEST_COUNT} ${quote(`${req.route}@file`)} ${quote(serviceUrl)} ${Math.floor(req.latencyMs)}ms`
      );
    }
    if (variant !== 'json') throw new Error(`traefik renderer: unknown variant "${variant}" (expected ${VARIANTS.join(', ')})`);
    const durationNs = Math.round(req.latencyMs * 1e6);
    const originNs = Math.max(0, durationNs - 1_000_000);
    const start = goTime(req.ts);
    const fields: Record<string, string | number> = {
      ClientAddr: req.clientIp.includes(':') ? `[${req.clientIp}]:${PEER_PORT}` : `${req.clientIp}:${PEER_PORT}`,
      ClientHost: req.clientIp,
      ClientPort: String(PEER_PORT),
      ClientUsername: '-',
      DownstreamContentSize: size,
      DownstreamStatus: req.status,
      Duration: durationNs,
      OriginContentSize: size,
      OriginDuration: originNs,
      OriginStatus: req.status,
      Overhead: durationNs - originNs,
      RequestAddr: req.host,
      RequestContentSize: 0,
      RequestCount: REQUEST_COUNT,
      RequestHost: req.host,
      RequestMethod: req.method,
      RequestPath: target,
      RequestPort: '-',
      RequestProtocol: 'HTTP/2.0',
      RequestScheme: 'https',
      RetryAttempts: 0,
      RouterName: `${req.route}@file`,
      ServiceAddr: `${req.upstream}:8080`,
      ServiceName: `${req.upstream}@file`,
      ServiceURL: serviceUrl,
      StartLocal: start,
      StartUTC: start,
      TLSCipher: 'TLS_AES_128_GCM_SHA256',
      TLSVersion: '1.3',
      'downstream_Content-Type': 'application/json',
    };
    if (req.wwwAuthenticate !== null) fields['downstream_Www-Authenticate'] = req.wwwAuthenticate;
    fields['downstream_X-Deployment-Track'] = req.track;
    fields['downstream_X-Deployment-Version'] = req.version;
    fields.entryPointName = 'websecure';
    fields.level = 'info';
    fields.msg = '';
    // Go's http.Header keys are canonical MIME names, so headers log as request_X-Api-Key etc.
    if (req.rawToken !== null && req.tokenIn === 'authorization') fields.request_Authorization = `Bearer ${req.rawToken}`;
    fields['request_User-Agent'] = req.userAgent;
    if (req.rawToken !== null && req.tokenIn === 'api_key_header') fields['request_X-Api-Key'] = req.rawToken;
    fields['request_X-Request-Id'] = req.requestId;
    fields.time = goTime(Math.floor((req.ts + req.latencyMs) / 1000) * 1000);
    return JSON.stringify(fields);
  },

  carriesAuthorization(variant: string): boolean {
    // CLF has no header fields; JSON logs request_Authorization once headers are kept.
    return variant === 'json';
  },
};

/** RequestPath: Traefik keeps query parameters by default (accessLog.fields.queryParameters.defaultMode=keep). */
function requestTarget(req: SyntheticRequest): string {
  let query = req.query;
  if (req.rawToken !== null && req.tokenIn === 'query' && !(query ?? '').includes('access_token=')) {
    query = query ? `${query}&access_token=${encodeURIComponent(req.rawToken)}` : `access_token=${encodeURIComponent(req.rawToken)}`;
  }
  return query ? `${req.path}?${query}` : req.path;
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, `Z` suffix. */
function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

/** 02/Jan/2006:15:04:05 -0700 in UTC. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function quote(v: string): string {
  return `"${v.replaceAll('"', '\\"')}"`;
}
