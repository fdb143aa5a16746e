// Kong Gateway's log serializer JSON (kong.log.serialize(), Kong 2.x-3.x), as the file-log,
// http-log, tcp-log, udp-log and kafka-log plugins write it: one object per request (an
// http-log batch is an array of them, split by the registry). Emits an AccessDraft; pure,
// never throws. Format: https://developer.konghq.com/plugins/file-log/ ("Log format") and
// kong/pdk/log.lua serialize() in github.com/Kong/kong.
import { FieldError, fail, guard, type ParseResult } from '../parse-result.js';
import { isObject, num, reqNum, status as statusField, str, type JsonObject } from '../fields.js';
import { epochToMs } from '../time.js';
import { emptyDraft, type AccessDraft, type GatewayParser, type RawRecord } from './types.js';

// serialize() replaces Authorization and Proxy-Authorization with this literal since Kong
// 2.1.0 (commit 9b1b0e5, "strip Authorization from logged headers"); there is no option to
// turn it off, only custom_fields_by_lua can log the real value.
const REDACTED = 'REDACTED';

// request.url is `scheme://host[:port]/uri`, built from $scheme, $host and the server port.
const URL_HOST = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]*\]|[^/:?#]+)/i;
const UPPER = /[A-Z]/;

/** The object at `o[key]`, required; `path` names it in a rejection. */
function section(o: JsonObject, key: string, path: string): JsonObject {
  const v = o[key];
  if (v === undefined || v === null) throw new FieldError('missing_field', `${path}: missing`);
  if (!isObject(v)) throw new FieldError('invalid_field', `${path}: expected an object`);
  return v;
}

/** The object at `o[key]` or null. */
function optional(o: JsonObject, key: string, path: string): JsonObject | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new FieldError('invalid_field', `${path}: expected an object`);
  return v;
}

/**
 * The logged headers as lower-case name -> string. ngx.req.get_headers() / ngx.resp.get_headers()
 * already lower-case names and give a repeated header as an array, so the logged object is
 * reused as is unless a name, an array value or the REDACTED placeholder needs rewriting.
 */
function headerMap(h: JsonObject | null): Record<string, string> {
  if (h === null) return {};
  let clean = h.authorization !== REDACTED;
  if (clean) {
    for (const name in h) {
      if (typeof h[name] !== 'string' || UPPER.test(name)) {
        clean = false;
        break;
      }
    }
  }
  if (clean) return h as Record<string, string>;
  const out: Record<string, string> = {};
  for (const name in h) {
    const v = h[name];
    const key = name.toLowerCase();
    if (typeof v === 'string') out[key] = v;
    else if (Array.isArray(v)) out[key] = v.filter((x) => typeof x === 'string').join(', ');
    else if (typeof v === 'number') out[key] = String(v);
  }
  if (out.authorization === REDACTED) delete out.authorization;
  return out;
}

function parseKong(v: JsonObject): ParseResult<AccessDraft> {
  const request = section(v, 'request', 'request');
  const response = section(v, 'response', 'response');
  if (response.status === undefined || response.status === null) throw new FieldError('missing_field', 'response.status: missing');
  // started_at is ngx.req.start_time() in ms: the moment Kong read the request.
  const draft = emptyDraft('kong', epochToMs(reqNum(v, 'started_at')), statusField(response, 'status'));
  draft.ownHeaderValues = true;

  const loggedHeaders = optional(request, 'headers', 'request.headers');
  const requestHeaders = headerMap(loggedHeaders);
  draft.requestHeaders = requestHeaders;
  // Kong logs every request header, authorization as REDACTED when the client sent one.
  if (loggedHeaders !== null) draft.tokenPresented = loggedHeaders.authorization !== undefined;
  draft.responseHeaders = headerMap(optional(response, 'headers', 'response.headers'));

  draft.method = str(request, 'method');
  // request.uri is $request_uri: the client's path with its query string.
  draft.url = str(request, 'uri');
  const url = str(request, 'url');
  draft.host = (url !== null ? URL_HOST.exec(url)?.[1] : undefined) ?? requestHeaders.host ?? null;
  draft.requestId = str(request, 'id') ?? draft.responseHeaders['x-kong-request-id'] ?? null;
  // latencies.request is tonumber($request_time) * 1000: seconds with ms resolution, scaled in floating point.
  const latencies = optional(v, 'latencies', 'latencies');
  const latency = latencies === null ? null : num(latencies, 'request');
  draft.latencyMs = latency === null ? null : Math.round(latency * 1000) / 1000;
  // client_ip is $remote_addr: the TCP peer, or the real client when Kong's trusted_ips / real_ip_header apply.
  draft.clientIp = str(v, 'client_ip');
  const route = optional(v, 'route', 'route');
  draft.route = route === null ? null : (str(route, 'name') ?? str(route, 'id'));
  const service = optional(v, 'service', 'service');
  draft.service = service === null ? null : str(service, 'name');
  // service.host names the upstream (a Kong Upstream entity or a DNS name), where release tracks show.
  draft.upstream = service === null ? null : str(service, 'host');
  const consumer = optional(v, 'consumer', 'consumer');
  const entity = optional(v, 'authenticated_entity', 'authenticated_entity');
  draft.consumerId =
    (consumer === null ? null : (str(consumer, 'username') ?? str(consumer, 'custom_id') ?? str(consumer, 'id'))) ??
    (entity === null ? null : str(entity, 'consumer_id'));

  // Without the Authorization value, the credential Kong's auth plugin (key-auth, jwt, oauth2,
  // basic-auth, hmac-auth) matched is the finest identity logged: authenticated_entity.id.
  if (requestHeaders.authorization === undefined && entity !== null) {
    const credential = str(entity, 'id');
    if (credential !== null) draft.tokenId = { value: credential, kind: 'api_key' };
  }
  return { ok: true, event: draft };
}

/** Parser of Kong's log serializer JSON (file-log, http-log, tcp-log, udp-log, kafka-log). */
export const kongParser: GatewayParser = {
  format: 'kong',

  detect(record: RawRecord): boolean {
    if (record.kind !== 'json') return false;
    const v = record.value;
    return v.started_at !== undefined && isObject(v.request) && isObject(v.response) && isObject(v.latencies);
  },

  parse(record: RawRecord): ParseResult<AccessDraft> {
    if (record.kind !== 'json') return fail('format_mismatch', 'Kong log serializer records are JSON objects');
    return guard(() => parseKong(record.value));
  },
};
