// Tyk Gateway records: the analytics record ("Traffic Log") as tyk-pump's stdout / Kafka
// pumps write it in JSON, and the Gateway access log (5.8+) in logrus text (logfmt) or JSON.
// Emits an AccessDraft; pure, never throws. Base64 raw_request / raw_response are decoded
// only up to their header block (at most 64 KiB) to read Authorization, WWW-Authenticate
// and deployment headers. Sources are cited beside each rule below.
import { FieldError, fail, guard, rejected, type ParseResult } from '../parse-result.js';
import { isObject, numValue, reqStr, status as statusField, strValue, type JsonObject } from '../fields.js';
import { isoToMs } from '../time.js';
import { emptyDraft, requestStart, type AccessDraft, type GatewayParser, type RawRecord } from './types.js';

// Field names of tyk-pump's AnalyticsRecord: JSON tags since tyk-pump v1.5.0 (analytics/analytics.go),
// Go's default field names before that.
interface AnalyticsKeys {
  method: string;
  host: string;
  path: string;
  rawPath: string;
  originalPath: string;
  userAgent: string;
  status: string;
  apiKey: string;
  timestamp: string;
  apiName: string;
  apiId: string;
  oauthId: string;
  latency: string;
  latencyTotal: string;
  requestTime: string;
  rawRequest: string;
  rawResponse: string;
  ip: string;
  alias: string;
}
const SNAKE: AnalyticsKeys = {
  method: 'method', host: 'host', path: 'path', rawPath: 'raw_path', originalPath: 'original_path',
  userAgent: 'user_agent', status: 'response_code', apiKey: 'api_key', timestamp: 'timestamp',
  apiName: 'api_name', apiId: 'api_id', oauthId: 'oauth_id', latency: 'latency', latencyTotal: 'total',
  requestTime: 'request_time', rawRequest: 'raw_request', rawResponse: 'raw_response', ip: 'ip_address', alias: 'alias',
};
const PASCAL: AnalyticsKeys = {
  method: 'Method', host: 'Host', path: 'Path', rawPath: 'RawPath', originalPath: 'OriginalPath',
  userAgent: 'UserAgent', status: 'ResponseCode', apiKey: 'APIKey', timestamp: 'TimeStamp',
  apiName: 'APIName', apiId: 'APIID', oauthId: 'OauthID', latency: 'Latency', latencyTotal: 'Total',
  requestTime: 'RequestTime', rawRequest: 'RawRequest', rawResponse: 'RawResponse', ip: 'IPAddress', alias: 'Alias',
};
// The stdout pump in `json` format nests the record under log_field_name (default below), pumps/stdout.go.
const STDOUT_FIELD = 'tyk-analytics-record';
// The Kafka pump flattens the record and renames request_time (pumps/kafka.go).
const KAFKA_REQUEST_TIME = 'request_time_ms';

// logrus text entries: `time=... level=... <fields sorted by key>`; access-log entries carry prefix=access-log.
// Lazy `.*?`: the same lines match, found from the front rather than by backtracking from the end.
const ACCESS_LOG_LINE = /^time=(?:"[^"]*"|\S+) level=[a-z]+ (?:.*? )?prefix=access-log(?: |$)/;
// The access-log fields read below (internal/httputil/accesslog/record.go); others are skipped.
const ACCESS_KEYS = [
  'prefix', 'time', 'status', 'latency_total', 'method', 'original_path', 'path', 'host', 'client_ip', 'remote_addr',
  'user_agent', 'api_id', 'api_name', 'upstream_addr', 'error_target', 'trace_id', 'api_key', 'response_flag', 'response_code_details',
] as const;
const ACCESS_SLOT = new Map<string, number>(ACCESS_KEYS.map((k, i) => [k, i]));
// A key sliced from a line is a fresh string, which the map must hash. A cell picked by its length
// and first and last chars holds the one field it can be, compared instead; a cell two fields share
// leaves them to the map.
const KEY_CELLS = 64;
const keyCell = (key: string): number => (key.length * 7 + key.charCodeAt(0) * 5 + key.charCodeAt(key.length - 1)) & (KEY_CELLS - 1);
const CELL_SLOT = new Array<number>(KEY_CELLS).fill(-1);
for (let i = 0; i < ACCESS_KEYS.length; i++) {
  const cell = keyCell(ACCESS_KEYS[i]!);
  CELL_SLOT[cell] = CELL_SLOT[cell] === -1 ? i : -2;
}

function accessSlot(key: string): number | undefined {
  const slot = CELL_SLOT[keyCell(key)]!;
  if (slot === -2) return ACCESS_SLOT.get(key);
  return slot >= 0 && ACCESS_KEYS[slot] === key ? slot : undefined;
}
const PREFIX_SLOT = 0;
// Tyk 5.8-5.13's default text formatter (and TYK_LOGFORMAT=legacy) stamps "Jan 02 15:04:05": no year, no zone.
const LEGACY_TIME = /^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}$/;
const HEX = /^[0-9a-f]+$/i;
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;
// Start lines of an HTTP/1.x message as Go's Request.Write / Response.Write emit them.
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d/;
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? \d{3}/;
// Tyk's default error template is `{"error": "{{.Message}}"}` (templates/error.json).
const ERROR_BODY = /"error"\s*:\s*"((?:[^"\\]|\\.){0,256})"/;

// Base64 characters holding 4095 decoded bytes (enough for most header blocks), then 64 KiB at most.
const PROBE_B64 = 5460;
const MAX_B64 = 87_384;
const MAX_DECODED = 65_536;

// "00000000" is murmur32 of the empty key (hash_keys on); "--" is obfuscateKey("") (hash_keys off),
// gateway/log_helpers.go; "****abcd" keeps only the last four characters, which identify nothing.
const NO_KEY_HASH = '00000000';
const NO_KEY_OBFUSCATED = '--';
const OBFUSCATED_PREFIX = '****';

interface RawHttp {
  startLine: string;
  headers: Record<string, string>;
  body: string;
}

// Go canonicalises header names (textproto.CanonicalMIMEHeaderKey), so few distinct spellings
// recur. A fixed table, slotted by a name's length and first and last chars, remembers each spelling
// and its lower-case form: a name is compared with one spelling, not hashed for a map lookup. Names
// that share a slot replace each other, which costs only a recomputation.
const NAME_SLOTS = 512;
const SPELLINGS: Array<string | undefined> = new Array<string | undefined>(NAME_SLOTS);
const LOWER_NAMES: string[] = new Array<string>(NAME_SLOTS);

/** The lower-cased, trimmed header name that `text` holds from `start` to `end`. */
function lowerName(text: string, start: number, end: number): string {
  const length = end - start;
  const slot = (length * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1)) & (NAME_SLOTS - 1);
  const raw = text.slice(start, end);
  // A slice and === cost less than startsWith(spelling, start) in V8.
  if (SPELLINGS[slot] === raw) return LOWER_NAMES[slot]!;
  // Remembered as a flat copy: a slice would keep the whole decoded message, token included, alive,
  // and comparing with a slice costs V8 more.
  const spelling = structuredClone(raw);
  const lower = spelling.trim().toLowerCase();
  SPELLINGS[slot] = spelling;
  LOWER_NAMES[slot] = lower;
  return lower;
}

function decodeBase64(b64: string): string | null {
  try {
    return atob(b64);
  } catch {
    // Not base64 (or cut inside a quantum): the record stands without its detailed recording.
    return null;
  }
}

/** The start line, lower-cased headers (but `skip`) and body prefix of a base64 (or decoded) HTTP message. */
function readRawHttp(raw: string, startLine: RegExp, skip: string | null): RawHttp | null {
  let text: string;
  // Pumps with raw_request_decoded / raw_response_decoded write the message as text.
  if (startLine.test(raw)) text = raw.length > MAX_DECODED ? raw.slice(0, MAX_DECODED) : raw;
  else {
    // atob yields one code unit per byte (latin1), which keeps header bytes as they are.
    const probe = decodeBase64(raw.length > PROBE_B64 ? raw.slice(0, PROBE_B64) : raw);
    if (probe === null) return null;
    text = probe;
    if (raw.length > PROBE_B64 && text.indexOf('\n\r\n') < 0 && text.indexOf('\n\n') < 0) {
      const more = decodeBase64(raw.slice(0, MAX_B64));
      if (more === null) return null;
      text = more;
    }
  }
  // The header block ends at the first CRLF CRLF (Go writes CRLF line ends), else at the first
  // LF LF (decoded payloads of some pumps keep bare LF). Found while walking the lines, not by
  // searching the message first: a blank line is where one of the two ends.
  const n = text.length;
  let headEnd = n;
  let bodyStart = -1;
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 0) lineEnd = n;
  // A CRLF CRLF whose first LF ends the start line: no headers, and the start line ends at that CR.
  else if (text.charCodeAt(lineEnd + 1) === 13 && text.charCodeAt(lineEnd + 2) === 10 && text.charCodeAt(lineEnd - 1) === 13) {
    headEnd = lineEnd - 1;
    bodyStart = lineEnd + 3;
    lineEnd = headEnd;
  }
  const first = text.slice(0, text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd);
  if (!startLine.test(first)) return null;
  const headers: Record<string, string> = {};
  let stored = 0;
  let pos = lineEnd + 1;
  while (pos < headEnd) {
    if (bodyStart < 0) {
      const c = text.charCodeAt(pos);
      // pos follows an LF: a line holding only CR after a CR LF is the CRLF CRLF.
      if (c === 13 && text.charCodeAt(pos + 1) === 10 && text.charCodeAt(pos - 2) === 13) {
        headEnd = pos - 2;
        bodyStart = pos + 2;
        break;
      }
      if (c === 10) {
        // An LF LF counts only when the message holds no CRLF CRLF at all; none lies before pos.
        const crlf = text.indexOf('\r\n\r\n', pos);
        if (crlf < 0) {
          headEnd = pos - 1;
          bodyStart = pos + 1;
          break;
        }
        headEnd = crlf;
        bodyStart = crlf + 4;
      }
    }
    let next = text.indexOf('\n', pos);
    if (next < 0 || next > headEnd) next = headEnd;
    const colon = text.indexOf(':', pos);
    if (colon > pos && colon < next) {
      const name = lowerName(text, pos, colon);
      if (name !== skip) {
        // Header.Write emits "Name: value\r\n".
        let from = colon + 1;
        while (from < next && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++;
        let to = next;
        while (to > from && (text.charCodeAt(to - 1) === 13 || text.charCodeAt(to - 1) === 32)) to--;
        const value = text.slice(from, to);
        // A repeated header is rare: a bit per name (by its length and first and last chars, so
        // names may share one) spares looking up every name in the headers stored so far.
        const bit = 1 << ((name.length * 7 + name.charCodeAt(0) + name.charCodeAt(name.length - 1)) & 31);
        if ((stored & bit) === 0) {
          stored |= bit;
          headers[name] = value;
        } else {
          const seen = headers[name];
          headers[name] = seen === undefined ? value : `${seen}, ${value}`;
        }
      }
    }
    pos = next + 1;
  }
  return { startLine: first, headers, body: bodyStart < 0 ? '' : text.slice(bodyStart) };
}

/** The token identifier Tyk logged in api_key, or null when it logged none or only an obfuscated tail. */
function keyId(apiKey: string | null): AccessDraft['tokenId'] {
  if (apiKey === null || apiKey === NO_KEY_HASH || apiKey === NO_KEY_OBFUSCATED || apiKey.startsWith(OBFUSCATED_PREFIX)) return null;
  // Raw (enable_key_logging, or analytics without hash_keys) or hashed: either way one value per key.
  return { value: apiKey, kind: JWT_SHAPE.test(apiKey) ? 'jwt' : 'api_key' };
}

function parseAnalytics(v: JsonObject): ParseResult<AccessDraft> {
  const wrapped = v[STDOUT_FIELD];
  const rec = isObject(wrapped) ? wrapped : v;
  // Fields are read as rec[k.method], not str(rec, k.method): each load site then sees one key and
  // one record shape per stream, which V8 turns into a named property load.
  const k = rec.ResponseCode !== undefined ? PASCAL : SNAKE;
  // timestamp is taken when Tyk finishes the request (handler_success.go / handler_error.go
  // RecordHit), so the start is timestamp minus the total latency.
  const end = isoToMs(strValue(rec[k.timestamp], k.timestamp) ?? missing(k.timestamp));
  const latency = rec[k.latency];
  const total =
    (isObject(latency) ? numValue(latency[k.latencyTotal], k.latencyTotal) : null) ??
    numValue(rec[k.requestTime], k.requestTime) ??
    numValue(rec[KAFKA_REQUEST_TIME], KAFKA_REQUEST_TIME);
  const draft = emptyDraft('tyk', requestStart(end, total, k.latency), statusField(rec, k.status));
  draft.latencyMs = total;
  draft.method = strValue(rec[k.method], k.method);
  // original_path is the client's path before listen-path stripping; path may be a tracked-endpoint pattern.
  let url = strValue(rec[k.originalPath], k.originalPath) ?? strValue(rec[k.rawPath], k.rawPath) ?? strValue(rec[k.path], k.path);
  // ip_address is request.RealIP: X-Real-IP, else the first X-Forwarded-For entry, else the peer.
  draft.clientIp = strValue(rec[k.ip], k.ip);
  draft.userAgent = strValue(rec[k.userAgent], k.userAgent);
  // host is r.URL.Host or the API's target host: the upstream Tyk proxied to.
  draft.upstream = strValue(rec[k.host], k.host);
  draft.route = strValue(rec[k.apiId], k.apiId);
  draft.service = strValue(rec[k.apiName], k.apiName);
  draft.consumerId = strValue(rec[k.alias], k.alias) ?? strValue(rec[k.oauthId], k.oauthId);
  draft.tokenId = keyId(strValue(rec[k.apiKey], k.apiKey));

  // raw_request / raw_response exist only with detailed recording (enable_detailed_recording).
  const rawRequest = strValue(rec[k.rawRequest], k.rawRequest);
  // user_agent is the logged field; Go's Request.Write adds "Go-http-client/1.1" when the client sent none.
  const request = rawRequest === null ? null : readRawHttp(rawRequest, REQUEST_LINE, 'user-agent');
  if (request) {
    draft.requestHeaders = request.headers;
    // The whole request is recorded: no Authorization header means none was sent.
    draft.tokenPresented = request.headers.authorization !== undefined;
    draft.requestId = request.headers['x-request-id'] ?? null;
    // Request line `METHOD target HTTP/1.1`: the target's query string, if any.
    const line = request.startLine;
    const query = url === null ? -1 : line.indexOf('?');
    if (query >= 0) {
      const version = line.lastIndexOf(' ');
      if (query < version) url += line.slice(query, version);
    }
  }
  draft.url = url;
  draft.host = request?.headers.host ?? draft.upstream;

  const rawResponse = strValue(rec[k.rawResponse], k.rawResponse);
  const response = rawResponse === null ? null : readRawHttp(rawResponse, STATUS_LINE, null);
  if (response) {
    draft.responseHeaders = response.headers;
    if (draft.status >= 400) draft.gatewayError = ERROR_BODY.exec(response.body)?.[1] ?? null;
  }
  return { ok: true, event: draft };
}

/** reqStr()'s rejection, for a field the parser loaded itself. */
function missing(field: string): never {
  throw new FieldError('missing_field', `${field}: missing`);
}

function parseAccessLog(f: JsonObject): ParseResult<AccessDraft> {
  const time = reqStr(f, 'time');
  if (LEGACY_TIME.test(time)) {
    throw new FieldError('invalid_timestamp', 'time: Tyk legacy timestamp has no year or zone; set TYK_LOGFORMAT=json or use the RFC 3339 text format (Tyk 5.14+)');
  }
  // logrus stamps the entry when RecordAccessLog runs, after the response (gateway/middleware.go).
  const end = isoToMs(time);
  const total = numValue(f.latency_total, 'latency_total');
  const draft = emptyDraft('tyk', requestStart(end, total, 'latency_total'), statusField(f, 'status'));
  draft.latencyMs = total;
  draft.method = strValue(f.method, 'method');
  draft.url = strValue(f.original_path, 'original_path') ?? strValue(f.path, 'path');
  draft.host = strValue(f.host, 'host');
  // client_ip is request.RealIP (X-Real-IP / X-Forwarded-For / peer); remote_addr is the TCP peer.
  draft.clientIp = strValue(f.client_ip, 'client_ip') ?? strValue(f.remote_addr, 'remote_addr');
  draft.userAgent = strValue(f.user_agent, 'user_agent');
  draft.route = strValue(f.api_id, 'api_id');
  draft.service = strValue(f.api_name, 'api_name');
  // error_target names the upstream on proxy errors, where upstream_addr may be absent.
  draft.upstream = strValue(f.upstream_addr, 'upstream_addr') ?? strValue(f.error_target, 'error_target');
  draft.requestId = strValue(f.trace_id, 'trace_id');
  draft.tokenId = keyId(strValue(f.api_key, 'api_key'));
  // Error classification (internal/errors/classification.go): e.g. TKE jwt_token_expired, AMF auth_field_missing.
  const flag = strValue(f.response_flag, 'response_flag');
  const details = strValue(f.response_code_details, 'response_code_details');
  if (flag !== null || details !== null) draft.gatewayError = [flag, details].filter((x) => x !== null).join(' ');
  return { ok: true, event: draft };
}

/** Calls `visit` for each pair of a logrus text entry (`key=value key="quoted \"value\""`); false when malformed or truncated. */
export function scanLogfmt(line: string, visit: (key: string, value: string) => void): boolean {
  const n = line.length;
  let i = 0;
  while (i < n) {
    if (line.charCodeAt(i) === 32) {
      i++;
      continue;
    }
    const keyStart = i;
    // logrus always writes key=value: a bare word means a cut or foreign line. Two searches cost
    // less than a loop over the key's chars.
    i = line.indexOf('=', keyStart);
    const space = line.indexOf(' ', keyStart);
    if (i <= keyStart || (space >= 0 && space < i)) return false;
    const key = line.slice(keyStart, i);
    i++;
    if (line.charCodeAt(i) === 34) {
      const quoted = readQuoted(line, i);
      if (quoted === null) return false;
      visit(key, quoted.value);
      i = quoted.next;
      if (i < n && line.charCodeAt(i) !== 32) return false;
    } else {
      let end = line.indexOf(' ', i);
      if (end < 0) end = n;
      visit(key, line.slice(i, end));
      i = end;
    }
  }
  return true;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' };
const HEX_ESCAPE_DIGITS: Record<string, number> = { x: 2, u: 4, U: 8 };

// logrus quotes with Go's %q (strconv.Quote): \" \\ \n \t ..., \xHH for invalid bytes, \uHHHH, \UHHHHHHHH.
function readQuoted(line: string, open: number): { value: string; next: number } | null {
  const close = line.indexOf('"', open + 1);
  if (close < 0) return null;
  const plain = line.slice(open + 1, close);
  if (!plain.includes('\\')) return { value: plain, next: close + 1 };
  const n = line.length;
  let value = '';
  let segment = open + 1;
  let j = segment;
  while (j < n) {
    const c = line.charCodeAt(j);
    if (c === 34) return { value: value + line.slice(segment, j), next: j + 1 };
    if (c !== 92) {
      j++;
      continue;
    }
    value += line.slice(segment, j);
    const e = line[j + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      value += simple;
      j += 2;
    } else {
      const digits = HEX_ESCAPE_DIGITS[e];
      const hex = digits === undefined ? '' : line.slice(j + 2, j + 2 + digits);
      if (digits === undefined || hex.length !== digits || !HEX.test(hex)) return null;
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) return null;
      value += String.fromCodePoint(code);
      j += 2 + digits;
    }
    segment = j;
  }
  return null;
}

/** Parser of Tyk analytics records (tyk-pump JSON) and Tyk Gateway access logs (logfmt or JSON). */
export const tykParser: GatewayParser = {
  format: 'tyk',

  detect(record: RawRecord): boolean {
    if (record.kind === 'text') return ACCESS_LOG_LINE.test(record.line);
    const v = record.value;
    if (v.prefix === 'access-log') return v.time !== undefined && v.level !== undefined;
    return (
      isObject(v[STDOUT_FIELD]) ||
      (v.response_code !== undefined && v.api_id !== undefined) ||
      (v.ResponseCode !== undefined && v.APIID !== undefined)
    );
  },

  parse(record: RawRecord): ParseResult<AccessDraft> {
    if (record.kind === 'json') {
      const v = record.value;
      try {
        return v.prefix === 'access-log' ? parseAccessLog(v) : parseAnalytics(v);
      } catch (err) {
        return rejected(err);
      }
    }
    // Keys sliced from a line are not interned: collect the known ones by slot rather than
    // keying an object by them, which costs a string-table lookup per field.
    const values: Array<string | undefined> = new Array<string | undefined>(ACCESS_KEYS.length);
    const wellFormed = scanLogfmt(record.line, (key, value) => {
      const slot = accessSlot(key);
      if (slot !== undefined) values[slot] = value;
    });
    if (!wellFormed) return fail('format_mismatch', 'not a logfmt line: unterminated quote, bad escape or bare word');
    if (values[PREFIX_SLOT] !== 'access-log') return fail('format_mismatch', 'logfmt line without prefix=access-log is not a Tyk access log entry');
    const fields: JsonObject = {};
    for (let i = 0; i < ACCESS_KEYS.length; i++) if (values[i] !== undefined) fields[ACCESS_KEYS[i]!] = values[i];
    return guard(() => parseAccessLog(fields));
  },
};
