// Traefik access logs: the default `common` text format (CLF followed by the request count,
// router name, server URL and duration) and the `json` format (logrus fields StartUTC,
// Duration in ns, DownstreamStatus, RouterName, ServiceName... plus the request_/downstream_/
// origin_<Header> fields kept by accessLog.fields.headers). Emits one AccessDraft per record.
// Pure and total: bad input becomes a DLQ reason, never an exception.
import type { JsonObject } from '../fields.js';
import { isObject, numValue, strValue } from '../fields.js';
import { anyToMs, clfToMs } from '../time.js';
import { FieldError, fail, guard, type ParseResult } from '../parse-result.js';
import { emptyDraft, type AccessDraft, type GatewayParser, type RawRecord } from './types.js';
import { HeaderFields, type HeaderField } from './header-fields.js';

// traefik/traefik pkg/middlewares/accesslog/logger_formatters.go, CommonLogFormatter:
// "%s - %s [%s] \"%s %s %s\" %v %v %s %s %v %s %s %dms" over ClientHost, ClientUsername,
// StartUTC (02/Jan/2006:15:04:05 -0700), RequestMethod, RequestPath, RequestProtocol,
// DownstreamStatus, DownstreamContentSize, "Referer", "User-Agent", RequestCount, "RouterName",
// "ServiceURL", Duration in whole ms. Quoted values escape `"` as `\"`; unset values are `-`
// (older releases wrote the referer bare). ClientHost is the X-Forwarded-For header when the
// request carried one, so it may hold a comma-separated list.
const QUOTED = String.raw`("[^"\\]*(?:\\.[^"\\]*)*"|-)`;
const CLF = new RegExp(
  String.raw`^([^ ,]+(?:, ?[^ ,]+)*) - (\S+) \[([^\]]+)\] "(\S+) (\S+) ([^"]*)" (\d+|-) (\d+|-) ${QUOTED} ${QUOTED} (\d+|-) ${QUOTED} ${QUOTED} (\d+)ms\s*$`,
);
const CLF_HEAD = /^[^\s[]+.*? - \S+ \[/;

const ESCAPED_QUOTE = /\\"/g;
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
// Kubernetes providers name services <namespace>-<service>-<port>@provider
// (pkg/provider/kubernetes/crd/kubernetes_http.go fullServiceName).
const KUBERNETES_PORT = /-\d{1,5}$/;

/** Traefik access logs, CLF (`common`) and JSON. */
export const traefikParser: GatewayParser = {
  format: 'traefik',

  detect(record: RawRecord): boolean {
    if (record.kind === 'text') return hasTraefikTail(record.line) && CLF_HEAD.test(record.line);
    const v = record.value;
    return (
      v.DownstreamStatus !== undefined ||
      v.OriginStatus !== undefined ||
      (v.RequestMethod !== undefined && (v.StartUTC !== undefined || v.StartLocal !== undefined))
    );
  },

  parse(record: RawRecord): ParseResult<AccessDraft> {
    return guard(() => (record.kind === 'text' ? parseClf(record.line) : parseJson(record.value, record.keys)));
  },
};

function parseClf(line: string): ParseResult<AccessDraft> {
  const m = CLF.exec(line);
  if (!m) return fail('format_mismatch', 'not a Traefik common (CLF) access log line');
  // A status of `-` means Traefik recorded none (releases before 2.10.5 printed OriginStatus,
  // absent when Traefik answered itself); 0 is the model's "no status".
  const d = emptyDraft('traefik', clfToMs(m[3]!), m[7] === '-' ? 0 : statusOf(Number(m[7])));
  d.method = dash(m[4]!);
  d.url = dash(m[5]!);
  setClient(d, dash(m[1]!));
  d.consumerId = dash(m[2]!);
  d.userAgent = unquote(m[10]!);
  d.route = unquote(m[12]!);
  d.upstream = namedUpstream(unquote(m[13]!));
  d.latencyMs = Number(m[14]);
  return { ok: true, event: d };
}

// Fields are read as named properties (strValue(v.RequestMethod, …), not str(v, 'RequestMethod')),
// the cheaper read per record.
function parseJson(v: JsonObject, keys: readonly string[] | undefined): ParseResult<AccessDraft> {
  // StartUTC / StartLocal: "the time at which request processing started" (Traefik docs,
  // JSON format fields); StartLocal alone when users drop StartUTC for local time zones.
  const start = v.StartUTC ?? v.StartLocal;
  if (start === undefined || start === null || start === '') throw new FieldError('missing_field', 'StartUTC: missing');
  if (typeof start !== 'string') throw new FieldError('invalid_timestamp', 'StartUTC: expected an RFC 3339 string');
  const code = numValue(v.DownstreamStatus, 'DownstreamStatus') ?? numValue(v.OriginStatus, 'OriginStatus');
  if (code === null) throw new FieldError('missing_field', 'DownstreamStatus: missing');
  const d = emptyDraft('traefik', anyToMs(start), statusOf(code));
  d.ownHeaderValues = true;
  d.method = strValue(v.RequestMethod, 'RequestMethod');
  d.url = strValue(v.RequestPath, 'RequestPath');
  d.host = strValue(v.RequestHost, 'RequestHost') ?? strValue(v.RequestAddr, 'RequestAddr');
  const duration = numValue(v.Duration, 'Duration');
  d.latencyMs = duration === null ? null : duration / 1e6;
  // Traefik 1.x names: FrontendName / BackendName / BackendURL.
  d.route = strValue(v.RouterName, 'RouterName') ?? strValue(v.FrontendName, 'FrontendName');
  d.service =
    strValue(v.KubernetesServiceName, 'KubernetesServiceName') ??
    serviceName(strValue(v.ServiceName, 'ServiceName') ?? strValue(v.BackendName, 'BackendName'));
  d.upstream = namedUpstream(urlOf(v.ServiceURL ?? v.BackendURL));
  // BasicAuth, DigestAuth and ForwardAuth record the authenticated user here
  // (pkg/middlewares/auth/basic_auth.go); otherwise it is the URL's user info.
  d.consumerId = strValue(v.ClientUsername, 'ClientUsername');
  HEADERS.read(v, d, keys);
  d.userAgent = d.requestHeaders['user-agent'] ?? null;
  d.requestId = d.requestHeaders['x-request-id'] ?? null;
  const addr = strValue(v.ClientAddr, 'ClientAddr');
  const host = strValue(v.ClientHost, 'ClientHost');
  d.clientIp = addr ?? host;
  // ClientHost is overwritten with the X-Forwarded-For header when present (logger.go), so a
  // ClientHost that differs from ClientAddr's host is the forwarded chain, not the peer.
  if (host !== null && addr !== null && d.requestHeaders['x-forwarded-for'] === undefined && host !== hostOf(addr)) {
    d.requestHeaders['x-forwarded-for'] = host;
  }
  return { ok: true, event: d };
}

// request_<Header> / downstream_<Header> / origin_<Header> fields (values joined with ","): what
// the client got (downstream) wins over what the backend sent (origin). Header values kept with
// `redact` are replaced by "REDACTED" (Traefik access-log docs, "Limiting the Fields/Including
// Headers"): no token to fingerprint, but one was sent.
const HEADERS = new HeaderFields({ field: headerField, unset: [''], unsetAuthorizationIsNone: false, redacted: 'REDACTED' });

// Field names repeat on every record: classifying each once keeps the per-record cost to a
// lookup. Bounded, so records with ever-new keys cannot grow it.
const HEADER_FIELDS = new Map<string, HeaderField | null>();
const HEADER_FIELDS_MAX = 4096;

function headerField(key: string): HeaderField | null {
  // Core fields are capitalised; header fields start with a lower-case r, d or o.
  const c = key.charCodeAt(0);
  if (c !== 114 && c !== 100 && c !== 111) return null;
  let field = HEADER_FIELDS.get(key);
  if (field !== undefined) return field;
  field = key.startsWith('request_')
    ? { side: 'request', name: key.slice(8).toLowerCase(), rank: 0 }
    : key.startsWith('downstream_')
      ? { side: 'response', name: key.slice(11).toLowerCase(), rank: 1 }
      : key.startsWith('origin_')
        ? { side: 'response', name: key.slice(7).toLowerCase(), rank: 0 }
        : null;
  if (HEADER_FIELDS.size < HEADER_FIELDS_MAX) HEADER_FIELDS.set(key, field);
  return field;
}

/** The `<count> "<router>" "<url>" <n>ms` tail that no NGINX format has: a line ending `" <digits>ms`. */
function hasTraefikTail(line: string): boolean {
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) <= 32) end--;
  if (end < 5 || line.charCodeAt(end - 1) !== 115 || line.charCodeAt(end - 2) !== 109) return false; // "ms"
  let i = end - 3;
  while (i >= 0 && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i--;
  return i < end - 3 && i >= 1 && line.charCodeAt(i) === 32 && line.charCodeAt(i - 1) === 34; // '" ' before the digits
}

function setClient(d: AccessDraft, host: string | null): void {
  if (host === null || !host.includes(',')) {
    d.clientIp = host;
    return;
  }
  // A forwarded chain: its last hop is the address the nearest proxy saw.
  d.requestHeaders['x-forwarded-for'] = host;
  d.clientIp = host.slice(host.lastIndexOf(',') + 1).trim() || null;
}

function statusOf(n: number): number {
  if (!Number.isInteger(n) || (n !== 0 && (n < 100 || n > 999))) throw new FieldError('invalid_field', 'DownstreamStatus: not an HTTP status');
  return n;
}

/** `orders-canary@kubernetescrd` -> `orders-canary`; Kubernetes providers also lose the `-<port>`. */
function serviceName(raw: string | null): string | null {
  if (raw === null) return null;
  const at = raw.lastIndexOf('@');
  if (at <= 0) return raw;
  const name = raw.slice(0, at);
  return raw.startsWith('kubernetes', at + 1) ? name.replace(KUBERNETES_PORT, '') : name;
}

/** ServiceURL is a string since Traefik 3.0 and a marshalled url.URL object before (Elastic's 2.x samples). */
function urlOf(raw: unknown): string | null {
  if (typeof raw === 'string') return raw === '' || raw === '-' ? null : raw;
  if (!isObject(raw)) return null;
  const host = typeof raw.Host === 'string' ? raw.Host : '';
  if (host === '') return null;
  return `${typeof raw.Scheme === 'string' && raw.Scheme !== '' ? raw.Scheme : 'http'}://${host}`;
}

/** A backend URL as an upstream name, unless its host is an IP literal (a pod or container address names nothing). */
function namedUpstream(url: string | null): string | null {
  if (url === null) return null;
  // The authority: after `scheme://` (the first `://`, when the URL opens with a scheme), up to the path.
  const sep = url.indexOf('://');
  const from = sep > 0 && SCHEME.test(url) ? sep + 3 : 0;
  const slash = url.indexOf('/', from);
  const host = hostOf(url.slice(from, slash < 0 ? url.length : slash));
  // hostOf leaves IPv6 literals bare, and only they contain a colon.
  return host.length === 0 || IPV4.test(host) || host.includes(':') ? null : url;
}

/** The host of `host:port` / `[v6]:port` / a bare host. */
function hostOf(addr: string): string {
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    return end > 0 ? addr.slice(1, end) : addr;
  }
  const colon = addr.indexOf(':');
  return colon > 0 && colon === addr.lastIndexOf(':') ? addr.slice(0, colon) : addr;
}

const dash = (v: string): string | null => (v === '-' || v === '' ? null : v);

function unquote(v: string): string | null {
  if (v === '-') return null;
  const inner = v.slice(1, -1);
  return dash(inner.includes('\\"') ? inner.replace(ESCAPED_QUOTE, '"') : inner);
}
