// NGINX / OpenResty access logs: the predefined `combined` text format, nginx.conf's `main`
// (combined plus "$http_x_forwarded_for"), ingress-nginx's default `upstreaminfo`, and JSON
// `log_format … escape=json` objects keyed by nginx variable names. Emits one AccessDraft per
// line; pure, never throws. ts is the request's start: nginx stamps $time_local, $time_iso8601
// and $msec at the log write, so $request_time is subtracted whenever the line logs it.
//
// Sources: https://nginx.org/en/docs/http/ngx_http_log_module.html (log_format, combined,
// escaping, "$msec … at the time of the log write", "$request_time … time elapsed between the
// first bytes were read from the client and the log write"); nginx conf/nginx.conf (`main`);
// kubernetes/ingress-nginx internal/ingress/controller/config/config.go logFormatUpstream and
// docs/user-guide/nginx-configuration/log-format.md (`upstreaminfo`).
//
// JSON keys accepted ("" and "-" are unset). detect() wants status, a time key (time_local,
// time_iso8601, msec, or time / @timestamp / timestamp beside request_time) and one of request,
// request_uri, request_method, uri, remote_addr:
//   time: msec (epoch s.ms) | time_iso8601 | @timestamp | timestamp | time_local | time (any of
//     the three shapes: configs put $time_iso8601 or $msec under time_local / time)
//   request ("GET /p?q HTTP/1.1") | request_method | method | http_method;
//   request_uri | http_uri (path + query) | uri | path | request_path (+ args | query_string | request_query)
//   status; request_time (s) -> latencyMs; request_id | req_id; remote_addr, else client_ip;
//   remote_user -> consumerId; host | http_host | vhost | server_name -> host;
//   http_user_agent | user_agent; http_x_forwarded_for | x_forwarded_for | proxy_add_x_forwarded_for;
//   proxy_alternative_upstream_name (ingress canary) | proxy_upstream_name | proxy_host -> upstream;
//   service_name -> service; ingress_name -> route;
//   http_<name> -> request header <name> (http_authorization, http_x_api_key…);
//   sent_http_<name> / upstream_http_<name> -> response header (www-authenticate, x-deployment-*).
import { FieldError, fail, rejected, type ParseResult } from '../parse-result.js';
import type { JsonObject } from '../fields.js';
import { anyToMs, clfToMs, epochToMs } from '../time.js';
import { emptyDraft, requestStart, type AccessDraft, type GatewayParser, type RawRecord } from './types.js';
import { HeaderFields, type HeaderField } from './header-fields.js';

// combined: $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
// "$http_referer" "$http_user_agent"; then nothing (combined), "$http_x_forwarded_for" (main), or
// upstreaminfo's $request_length $request_time [$proxy_upstream_name]
// [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
// $upstream_response_time $upstream_status $req_id. The upstream_* values are lists ("a, b", and
// "a : b" after internal redirects, ngx_http_upstream_module docs). Default escaping writes `"`
// as \x22, so quoted values hold no quote.
// A Traefik CLF line continues with `<count> "<router>" "<url>" <n>ms` and matches none of the tails.
const UPSTREAM_LIST = String.raw`(?:\S+(?:, | : ))*\S+`;
const LINE = new RegExp(
  String.raw`^(\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"` +
    String.raw`(?: "([^"]*)"| (\d+) (\d+(?:\.\d+)?|-) \[([^\]]*)\] \[([^\]]*)\] ` +
    `${UPSTREAM_LIST} ${UPSTREAM_LIST} ${UPSTREAM_LIST} ${UPSTREAM_LIST}` +
    String.raw` (\S+))?$`,
);
// "$request" is the raw request line; garbage (a TLS hello on the plain port, "-" when nothing
// was read) is logged with status 400 and reads as a request without method and target.
const REQUEST_LINE = /^[A-Za-z]+ \S+(?: HTTP\/\d(?:\.\d)?)?$/;
// Default escaping writes bytes outside printable ASCII, `"` and `\` as \xXX (log module docs).
const HEX_ESCAPE = /\\x([0-9A-Fa-f]{2})/g;
const NON_LATIN1 = /[^\u0000-\u00ff]/;
// ingress-nginx logs no response headers: a canary routing it saw reaches the normaliser under the
// default deployment track header.
const TRACK_SUFFIX = /[-_.](?:stable|canary|blue|green)(?:-\d+)?$/i;

// $http_<name> is a request header, $sent_http_<name> what the client got, $upstream_http_<name>
// what the backend sent; a logged but empty $http_authorization means no credential was sent.
const HEADERS = new HeaderFields({ field: headerField, unset: ['', '-'], unsetAuthorizationIsNone: true, redacted: null });
// Keys by header variable prefix and the headers they give, null for other keys; cached, since a
// deployment logs the same few keys on every line.
const HEADER_FIELDS = new Map<string, HeaderField | null>();
const MAX_HEADER_FIELDS = 4096;
// Time keys after $msec, most precise first: configs put $time_iso8601 or $msec under any of them.
const TIME_KEYS = ['time_iso8601', '@timestamp', 'timestamp', 'time_local', 'time'] as const;

/** NGINX / OpenResty / ingress-nginx access logs, text and JSON. */
export const nginxParser: GatewayParser = {
  format: 'nginx',

  detect(record: RawRecord): boolean {
    if (record.kind === 'text') return lineMatch(record.line) !== null;
    const o = record.value;
    return (
      o.status !== undefined &&
      o.gateway === undefined &&
      // Tyk's JSON access log also has time, status and remote_addr, under prefix "access-log".
      o.prefix === undefined &&
      (o.time_local !== undefined ||
        o.time_iso8601 !== undefined ||
        o.msec !== undefined ||
        ((o.time !== undefined || o['@timestamp'] !== undefined || o.timestamp !== undefined) && o.request_time !== undefined)) &&
      (o.request !== undefined || o.request_uri !== undefined || o.request_method !== undefined || o.uri !== undefined || o.remote_addr !== undefined)
    );
  },

  parse(record: RawRecord): ParseResult<AccessDraft> {
    try {
      return record.kind === 'text' ? parseLine(record.line) : parseJson(record.value, record.keys);
    } catch (err) {
      return rejected(err);
    }
  },
};

// detect() and parse() of a line run the same match: the last line's is remembered.
let lastLine: string | null = null;
let lastMatch: RegExpExecArray | null = null;

function lineMatch(line: string): RegExpExecArray | null {
  if (line !== lastLine) {
    lastMatch = LINE.exec(line);
    lastLine = line;
  }
  return lastMatch;
}

function parseLine(line: string): ParseResult<AccessDraft> {
  const m = lineMatch(line);
  if (!m) return fail('format_mismatch', 'not an NGINX combined, main or ingress-nginx upstreaminfo line');
  const status = Number(m[5]);
  if (status < 100) throw new FieldError('invalid_field', `status: ${m[5]} is not an HTTP status`);
  const latencyMs = m[11] === undefined || m[11] === '-' ? null : Math.round(Number(m[11]) * 1000);
  const end = clfToMs(m[3]!);
  const d = emptyDraft('nginx', requestStart(end, latencyMs, 'request_time'), status);
  d.latencyMs = latencyMs;
  d.clientIp = dash(m[1]!);
  d.consumerId = dash(m[2]!);
  setRequestLine(d, unescape(m[4]!));
  d.userAgent = dash(unescape(m[8]!));
  const forwarded = m[9] === undefined ? null : dash(m[9]);
  if (forwarded) d.requestHeaders['x-forwarded-for'] = forwarded;
  if (m[10] !== undefined) {
    d.requestId = dash(m[14]!);
    setUpstream(d, m[12]!, m[13]!);
  }
  return { ok: true, event: d };
}

function parseJson(o: JsonObject, keys: readonly string[] | undefined): ParseResult<AccessDraft> {
  const statusRaw = o.status;
  if (unset(statusRaw)) throw new FieldError('missing_field', 'status: missing');
  const status = num(statusRaw, 'status')!;
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new FieldError('invalid_field', 'status: not an HTTP status');
  const seconds = num(o.request_time, 'request_time');
  const latencyMs = seconds === null ? null : Math.round(seconds * 1000);
  const end = endTime(o);
  const d = emptyDraft('nginx', requestStart(end, latencyMs, 'request_time'), status);
  d.ownHeaderValues = true;
  d.latencyMs = latencyMs;
  HEADERS.read(o, d, keys);

  const request = text(o.request, 'request');
  if (request !== null) setRequestLine(d, request);
  d.method = text(o.request_method ?? o.method ?? o.http_method, 'request_method') ?? d.method;
  const requestUri = text(o.request_uri ?? o.http_uri, 'request_uri');
  if (requestUri !== null) d.url = requestUri;
  else if (d.url === null) {
    const uri = text(o.uri ?? o.path ?? o.request_path, 'uri');
    const args = text(o.args ?? o.query_string ?? o.request_query, 'args');
    d.url = uri !== null && args !== null ? `${uri}?${args}` : uri;
  }
  d.requestId = text(o.request_id ?? o.req_id, 'request_id');
  d.consumerId = text(o.remote_user, 'remote_user');
  d.host = text(o.host, 'host') ?? text(o.http_host, 'http_host') ?? text(o.vhost, 'vhost') ?? text(o.server_name, 'server_name');
  d.userAgent = text(o.http_user_agent ?? o.user_agent, 'http_user_agent');

  const forwarded = text(o.http_x_forwarded_for ?? o.x_forwarded_for ?? o.proxy_add_x_forwarded_for, 'http_x_forwarded_for');
  if (forwarded !== null) d.requestHeaders['x-forwarded-for'] = forwarded;
  d.clientIp = text(o.remote_addr, 'remote_addr');
  const clientIp = text(o.client_ip, 'client_ip');
  // Configs log $remote_addr or $http_x_forwarded_for as client_ip: beside remote_addr, or as a
  // list, it is the forwarding chain.
  if (clientIp !== null) {
    if (d.clientIp === null && !clientIp.includes(',')) d.clientIp = clientIp;
    else d.requestHeaders['x-forwarded-for'] ??= clientIp;
  }

  d.service = text(o.service_name, 'service_name');
  d.route = text(o.ingress_name, 'ingress_name');
  const upstream = text(o.proxy_upstream_name, 'proxy_upstream_name') ?? text(o.proxy_host, 'proxy_host');
  setUpstream(d, upstream ?? '', text(o.proxy_alternative_upstream_name, 'proxy_alternative_upstream_name') ?? '');
  return { ok: true, event: d };
}

function endTime(o: JsonObject): number {
  const msec = typeof o.msec === 'string' ? msecSeconds(o.msec) ?? num(o.msec, 'msec') : num(o.msec, 'msec');
  // The raw text only feeds the error detail; passing it spares a number-to-string conversion.
  if (msec !== null) return epochToMs(msec, typeof o.msec === 'string' ? o.msec : 'msec');
  for (const name of TIME_KEYS) {
    const raw = o[name];
    if (unset(raw)) continue;
    if (typeof raw === 'number' || typeof raw === 'string') return anyToMs(raw);
    throw new FieldError('invalid_timestamp', `${name}: expected a timestamp, got ${Array.isArray(raw) ? 'array' : typeof raw}`);
  }
  throw new FieldError('missing_field', 'time_local: missing (nor msec, time_iso8601, time)');
}

/**
 * $msec as logged, seconds and a three-digit fraction ("1795600800.110"); null for any other shape.
 * Read as two integers: Number() of a fractional string costs several times more, and the sum is
 * the same number to far better than the ms that epochToMs rounds to.
 */
function msecSeconds(s: string): number | null {
  const dot = s.length - 4;
  if (dot < 1 || dot > 10 || s.charCodeAt(dot) !== 46) return null;
  let seconds = 0;
  for (let i = 0; i < dot; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    seconds = seconds * 10 + d;
  }
  let fraction = 0;
  for (let i = dot + 1; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    fraction = fraction * 10 + d;
  }
  return seconds + fraction / 1000;
}

function setRequestLine(d: AccessDraft, request: string): void {
  // test() and two cuts cost less than exec() and its capture array. A matching line has one
  // space, or two with the protocol after the second.
  if (!REQUEST_LINE.test(request)) return;
  const first = request.indexOf(' ');
  const second = request.indexOf(' ', first + 1);
  d.method = request.slice(0, first);
  d.url = request.slice(first + 1, second < 0 ? request.length : second);
}

// ingress-nginx's Lua balancer sets $proxy_alternative_upstream_name only when it routes the
// request to the canary backend (rootfs/etc/nginx/lua/balancer.lua, route_to_alternative_balancer).
// Names are <namespace>-<service>-<port>; the normaliser reads -canary / -blue suffixes itself, and
// an alternative without one is still the canary.
function setUpstream(d: AccessDraft, primary: string, alternative: string): void {
  if (alternative !== '' && alternative !== '-') {
    d.upstream = alternative;
    if (!TRACK_SUFFIX.test(alternative)) d.track = 'canary';
  } else if (primary !== '' && primary !== '-') {
    d.upstream = primary;
  }
}

function headerField(key: string): HeaderField | null {
  // Core fields start with other letters: the first one spares the lookup.
  const c = key.charCodeAt(0);
  if (c !== 104 && c !== 115 && c !== 117) return null;
  let field = HEADER_FIELDS.get(key);
  if (field !== undefined) return field;
  const name = (prefix: number): string => key.slice(prefix).replace(/_/g, '-').toLowerCase();
  field = key.startsWith('http_')
    ? { side: 'request', name: name(5), rank: 0 }
    : key.startsWith('sent_http_')
      ? { side: 'response', name: name(10), rank: 1 }
      : key.startsWith('upstream_http_')
        ? { side: 'response', name: name(14), rank: 0 }
        : null;
  if (HEADER_FIELDS.size < MAX_HEADER_FIELDS) HEADER_FIELDS.set(key, field);
  return field;
}

const unset = (x: unknown): boolean => x === undefined || x === null || x === '' || x === '-';
const dash = (s: string): string | null => (s === '-' || s === '' ? null : s);

// Undoes default escaping (\xXX per byte, UTF-8 sequences included); cheap when nothing is escaped.
function unescape(s: string): string {
  // A line that already holds characters beyond Latin-1 was not written with default escaping.
  if (!s.includes('\\x') || NON_LATIN1.test(s)) return s;
  const bytes = Buffer.from(s.replace(HEX_ESCAPE, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  return bytes.toString('utf8');
}

function text(x: unknown, name: string): string | null {
  if (unset(x)) return null;
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  throw new FieldError('invalid_field', `${name}: expected a string, got ${Array.isArray(x) ? 'array' : typeof x}`);
}

function num(x: unknown, name: string): number | null {
  if (unset(x)) return null;
  const n = typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN;
  if (!Number.isFinite(n)) throw new FieldError('invalid_field', `${name}: expected a number, got ${Array.isArray(x) ? 'array' : typeof x}`);
  return n;
}
