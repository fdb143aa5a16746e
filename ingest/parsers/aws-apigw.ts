// Consumes AWS API Gateway (REST, HTTP and WebSocket API) access-log records in JSON, as users
// write them from `$context` variables, bare or inside a CloudWatch Logs log event / subscription
// message. Emits an AccessDraft per record. Guarantees: pure, never throws, and a record's keys are
// matched by the `$context` variable names AWS documents, so no fixed key set is assumed.
//
// Sources: REST variables https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html
// and example formats https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html;
// HTTP API variables https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html.
//
// Accepted keys (first present wins). A key is found flat (`"requestId"`), flat with its dotted
// variable name (`"identity.sourceIp"`, as in the console's "all variables" formats), nested
// (`{"identity":{"sourceIp":…}}`), or, for single names, one level down in a group the user made up
// (`{"request":{"requestId":…},"http":{"httpMethod":…}}`):
//   requestId | extendedRequestId              -> requestId
//   requestTimeEpoch (epoch, ms on REST) | requestTime (CLF) | the log event's timestamp -> ts
//   httpMethod, else the method of routeKey ("GET /pets") -> method
//   path ($context.path), else resourcePath, else routeKey's path -> url
//   resourcePath | routeKey                    -> route
//   status | httpStatusCode | statusCode       -> status
//   responseLatency                            -> latencyMs (integration latency is only a part)
//   ip | identity.sourceIp | sourceIp | identity.ip -> clientIp (the TCP peer, AWS docs)
//   userAgent | identity.userAgent             -> userAgent
//   domainName -> host; apiId -> service; authorizer.principalId | principalId | user -> consumerId
//   error.responseType | errorResponseType | responseType, error.message | errorMessage |
//   error.messageString, authorizer.error | authorizerError, authorize.error -> gatewayError
//   identity.apiKeyId | apiKeyId -> tokenId (api_key); identity.apiKey | apiKey -> the x-api-key
//   request header, so the normaliser fingerprints the key itself
//   authorizer.claims.<c> | authorizerClaims<C> | jwt<C> | claims.<c> for c in jti, sub, sid,
//   client_id, azp, cid, iss, aud, exp, iat (Cognito writes exp/iat as "Thu May 04 03:50:06 UTC
//   2023", HTTP API JWT authorizers as seconds) -> loggedClaims
//   deploymentId -> version; isCanaryRequest "true" / "false", a log group ending in "/Canary"
//   (canary requests' access logs, REST canary-release docs) or a stage named after a track
//   (blue, green, canary, prod-canary…) -> track
// Access logs can log only `$context` variables (set-up-logging docs), never request headers, so
// a bearer token itself never reaches this parser: tokens are known by API key id or claims.
import type { Claims, Track } from '../model.js';
import { TRACKS } from '../model.js';
import { FieldError, fail, rejected, skip, type ParseResult } from '../parse-result.js';
import { isObject, type JsonObject } from '../fields.js';
import { clfToMs, epochToMs, javaUtcDateToMs } from '../time.js';
import { emptyDraft, type AccessDraft, type GatewayParser, type RawRecord } from './types.js';

// `$context` namespaces: their members never stand for a top-level variable (authorizer.status is
// not the response status), so user-made groups are searched but these are not.
const AWS_NAMESPACES: ReadonlySet<string> = new Set([
  'identity', 'authorizer', 'authorize', 'authenticate', 'error', 'integration', 'waf', 'customDomain',
  'requestOverride', 'responseOverride',
]);

// The claims read, by their JWT names; azp, client_id and cid all give clientId (claimsOf).
const CLAIM_NAME_LIST = ['jti', 'sub', 'sid', 'azp', 'client_id', 'cid', 'iss', 'aud', 'exp', 'iat'] as const;
// Each claim's index in RawClaims, spelled out so that claimsOf reads constant indexes.
const JTI = 0, SUB = 1, SID = 2, AZP = 3, CLIENT_ID = 4, CID = 5, ISS = 6, AUD = 7, EXP = 8, IAT = 9;
const camel = (c: string): string => c.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
// Every flat key a claim is logged under, to the claim's index.
const CLAIM_KEYS: ReadonlyMap<string, number> = new Map(
  CLAIM_NAME_LIST.flatMap((name, i) =>
    [`authorizer.claims.${name}`, `authorizerClaims${camel(name)}`, `jwt${camel(name)}`, `claims.${name}`].map((k) => [k, i] as const),
  ),
);
const CLAIM_INDEX: ReadonlyMap<string, number> = new Map(CLAIM_NAME_LIST.map((name, i) => [name, i]));
/**
 * Logged claim values by claim index (CLAIM_NAME_LIST), the first logged of each; undefined when
 * not logged. An array indexed by constants: a store by claim name into an object is a keyed store
 * that V8 cannot resolve at the store site.
 */
type RawClaims = unknown[];
const NO_RAW_CLAIMS: readonly unknown[] = CLAIM_NAME_LIST.map(() => undefined);
const noRawClaims = (): RawClaims => NO_RAW_CLAIMS.slice();

const TRACK_SET: ReadonlySet<string> = new Set(TRACKS);
const STAGE_TRACK = /[-_.](stable|canary|blue|green)$/i;
const ROUTE_KEY = /^([A-Z]+) (\/\S*)$/;
// AWS access logs carry no response headers, so the deployment this parser reads is handed to the
// normaliser under the default deployment header names.

/** The AWS API Gateway access-log parser (REST, HTTP and WebSocket APIs, JSON formats). */
export const awsApigwParser: GatewayParser = {
  format: 'aws-apigw',

  detect(record: RawRecord): boolean {
    if (record.kind !== 'json') return false;
    const o = record.value;
    if (looksLikeAccessLog(o, null)) return true;
    if (typeof o.message === 'string' && typeof o.timestamp === 'number') return messageLooksLikeAccessLog(o.message);
    if (o.messageType === 'DATA_MESSAGE' && Array.isArray(o.logEvents)) {
      const first: unknown = o.logEvents[0];
      return isObject(first) && typeof first.message === 'string' && messageLooksLikeAccessLog(first.message);
    }
    return o.gateway === undefined && looksLikeAccessLog(o, groupsOf(o));
  },

  parse(record: RawRecord): ParseResult<AccessDraft> {
    if (record.kind !== 'json') return fail('format_mismatch', 'aws-apigw access logs are JSON objects, got a text line');
    try {
      const o = record.value;
      if (o.messageType === 'CONTROL_MESSAGE') return skip('control_message', 'CloudWatch Logs control message');
      if (o.messageType === 'DATA_MESSAGE' && Array.isArray(o.logEvents)) {
        // A subscription message batches log events; one record must carry one request.
        if (o.logEvents.length !== 1) {
          return fail('invalid_field', `logEvents: a CloudWatch Logs message with ${o.logEvents.length} events must be split into one record per event`);
        }
        const event: unknown = o.logEvents[0];
        if (!isObject(event)) throw new FieldError('invalid_field', 'logEvents[0]: expected an object');
        return fromLogEvent(event, typeof o.logGroup === 'string' ? o.logGroup : null);
      }
      if (typeof o.message === 'string' && o.requestId === undefined) {
        return fromLogEvent(o, typeof o.logGroup === 'string' ? o.logGroup : null);
      }
      return { ok: true, event: draftOf(o, null, null) };
    } catch (err) {
      return rejected(err);
    }
  },
};

// One CloudWatch Logs event: `{ id, timestamp, message }`, the message being the access-log line.
function fromLogEvent(event: JsonObject, logGroup: string | null): ParseResult<AccessDraft> {
  const message = event.message;
  if (typeof message !== 'string') throw new FieldError('missing_field', 'message: missing');
  let inner: unknown;
  try {
    inner = JSON.parse(message);
  } catch {
    return fail('invalid_json', 'message: the CloudWatch log event does not hold a JSON access-log line');
  }
  if (!isObject(inner)) throw new FieldError('invalid_field', 'message: expected a JSON object');
  const eventTs = typeof event.timestamp === 'number' ? event.timestamp : null;
  return { ok: true, event: draftOf(inner, eventTs, logGroup) };
}

function draftOf(o: JsonObject, eventTs: number | null, logGroup: string | null): AccessDraft {
  const { groups, claims } = scan(o);
  const f = read(o, groups);
  if (unset(f.status)) throw new FieldError('missing_field', 'status: missing');
  const status = num(f.status, 'status')!;
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new FieldError('invalid_field', 'status: not an HTTP status');

  const draft = emptyDraft('aws-apigw', timeOf(f.requestTimeEpoch, f.requestTime, eventTs), status);
  draft.requestId = text(f.requestId, 'requestId') ?? text(f.extendedRequestId, 'extendedRequestId');

  const routeKey = text(f.routeKey, 'routeKey');
  const resourcePath = text(f.resourcePath, 'resourcePath');
  const method = text(f.httpMethod, 'httpMethod');
  const path = text(f.path, 'path');
  // The route key ("GET /pets") is read only for what the record does not log otherwise.
  const routed = routeKey !== null && (method === null || (path === null && resourcePath === null)) ? ROUTE_KEY.exec(routeKey) : null;
  draft.method = method ?? routed?.[1] ?? null;
  // $context.path is the path as requested; the resource path / route key is its template, the
  // closest thing logged when a format leaves the path out (the AWS docs' example formats do).
  draft.url = path ?? resourcePath ?? routed?.[2] ?? null;
  draft.route = resourcePath ?? routeKey;
  draft.latencyMs = num(f.responseLatency, 'responseLatency');
  draft.clientIp = text(f.ip, 'ip');
  draft.userAgent = text(f.userAgent, 'userAgent');
  draft.host = text(f.domainName, 'domainName');
  draft.service = text(f.apiId, 'apiId');
  draft.consumerId = text(f.principalId, 'authorizer.principalId') ?? text(f.user, 'user');
  draft.gatewayError = joinErrors(
    joinErrors(text(f.errorResponseType, 'error.responseType'), text(f.errorMessage, 'error.message')),
    text(f.authorizerError, 'authorizer.error'),
  );

  const apiKeyId = text(f.apiKeyId, 'identity.apiKeyId');
  if (apiKeyId) draft.tokenId = { value: apiKeyId, kind: 'api_key' };
  const apiKey = text(f.apiKey, 'identity.apiKey');
  if (apiKey) draft.requestHeaders['x-api-key'] = apiKey;
  if (claims) draft.loggedClaims = claimsOf(claims);

  const version = text(f.deploymentId, 'deploymentId');
  const track = trackOf(text(f.isCanaryRequest, 'isCanaryRequest'), logGroup, text(f.stage, 'stage'));
  draft.version = version;
  draft.track = track;
  return draft;
}

// The `$context` values a record holds, under the key spellings listed in the header, first
// present wins. Spelled out key by key so that each read is a cheap named property load.
function read(o: JsonObject, groups: readonly JsonObject[] | null) {
  const grouped = groups === null ? null : groupedValues(groups);
  const L = (slot: number): unknown => (grouped === null ? undefined : grouped[slot]);
  const { identity, authorizer, authorize, error } = o;
  return {
    requestId: o.requestId ?? L(SLOT.requestId),
    extendedRequestId: o.extendedRequestId ?? L(SLOT.extendedRequestId),
    requestTimeEpoch: o.requestTimeEpoch ?? L(SLOT.requestTimeEpoch),
    requestTime: o.requestTime ?? L(SLOT.requestTime),
    httpMethod: o.httpMethod ?? L(SLOT.httpMethod),
    path: o.path ?? L(SLOT.path),
    resourcePath: o.resourcePath ?? L(SLOT.resourcePath),
    routeKey: o.routeKey ?? L(SLOT.routeKey),
    status: o.status ?? o.httpStatusCode ?? o.statusCode ?? L(SLOT.status) ?? L(SLOT.httpStatusCode) ?? L(SLOT.statusCode),
    responseLatency: o.responseLatency ?? L(SLOT.responseLatency),
    ip: o.ip ?? o['identity.sourceIp'] ?? member(identity, 'sourceIp') ?? o.sourceIp ?? o['identity.ip'] ?? member(identity, 'ip') ?? L(SLOT.ip) ?? L(SLOT.sourceIp),
    userAgent: o.userAgent ?? o['identity.userAgent'] ?? member(identity, 'userAgent') ?? L(SLOT.userAgent),
    domainName: o.domainName ?? L(SLOT.domainName),
    apiId: o.apiId ?? L(SLOT.apiId),
    stage: o.stage ?? L(SLOT.stage),
    deploymentId: o.deploymentId ?? L(SLOT.deploymentId),
    isCanaryRequest: o.isCanaryRequest ?? L(SLOT.isCanaryRequest),
    errorResponseType:
      o['error.responseType'] ?? member(error, 'responseType') ?? o.errorResponseType ?? o.responseType ??
      member(error, 'errorResponseType') ?? L(SLOT.errorResponseType) ?? L(SLOT.responseType),
    errorMessage:
      o['error.message'] ?? member(error, 'message') ?? o.errorMessage ?? member(error, 'errorMessage') ??
      o['error.messageString'] ?? member(error, 'messageString') ?? L(SLOT.errorMessage),
    authorizerError:
      o['authorizer.error'] ?? member(authorizer, 'error') ?? o.authorizerError ?? o['authorize.error'] ??
      member(authorize, 'error') ?? o.authorizeError ?? L(SLOT.authorizerError),
    apiKeyId: o['identity.apiKeyId'] ?? member(identity, 'apiKeyId') ?? o.apiKeyId ?? L(SLOT.apiKeyId),
    apiKey: o['identity.apiKey'] ?? member(identity, 'apiKey') ?? o.apiKey ?? L(SLOT.apiKey),
    principalId: o['authorizer.principalId'] ?? member(authorizer, 'principalId') ?? o.principalId ?? L(SLOT.principalId),
    user: o.user ?? o['identity.user'] ?? member(identity, 'user') ?? L(SLOT.user),
  };
}

// The single names read from user-made groups, each with a slot in groupedValues().
const GROUPED_NAMES = [
  'requestId', 'extendedRequestId', 'requestTimeEpoch', 'requestTime', 'httpMethod', 'path', 'resourcePath', 'routeKey',
  'status', 'httpStatusCode', 'statusCode', 'responseLatency', 'ip', 'sourceIp', 'userAgent', 'domainName', 'apiId', 'stage',
  'deploymentId', 'isCanaryRequest', 'errorResponseType', 'responseType', 'errorMessage', 'authorizerError', 'apiKeyId',
  'apiKey', 'principalId', 'user',
] as const;
type GroupedName = (typeof GROUPED_NAMES)[number];
const GROUPED_SLOT: ReadonlyMap<string, number> = new Map(GROUPED_NAMES.map((name, i) => [name, i]));
// Each name's slot as a constant property, read per record where a map lookup would cost more.
const SLOT = Object.fromEntries(GROUPED_NAMES.map((name, i) => [name, i])) as Readonly<Record<GroupedName, number>>;

// Copied per record: a copy of a packed array costs less than allocating one and filling it.
const NO_GROUPED_VALUES: readonly unknown[] = GROUPED_NAMES.map(() => undefined);

// The grouped key at each position of the last record and its slot.
const MAX_POSITIONS = 256;
const KEY_AT = new Array<string | undefined>(MAX_POSITIONS);
const SLOT_AT = new Array<number | undefined>(MAX_POSITIONS);

/**
 * The grouped values by slot, each from the first group that has it. One pass over the
 * groups' own keys costs a map lookup per key; searching every group for every name read would cost
 * a property lookup by key string per group and name.
 */
function groupedValues(groups: readonly JsonObject[]): unknown[] {
  const values = NO_GROUPED_VALUES.slice();
  let position = -1;
  for (const group of groups) {
    for (const key in group) {
      position++;
      // A log format writes its keys in one order: a key where the last record had it (JSON keys are
      // interned, so === compares references) reuses that record's lookup.
      let slot: number | undefined;
      if (position < MAX_POSITIONS && KEY_AT[position] === key) slot = SLOT_AT[position];
      else {
        slot = GROUPED_SLOT.get(key);
        if (position < MAX_POSITIONS) {
          KEY_AT[position] = key;
          SLOT_AT[position] = slot;
        }
      }
      if (slot !== undefined && values[slot] === undefined) values[slot] = group[key];
    }
  }
  return values;
}

/** A member of a nested `$context` namespace (`{"identity":{"sourceIp":…}}`). */
const member = (v: unknown, name: string): unknown => (isObject(v) ? v[name] : undefined);

// REST $context.requestTimeEpoch is epoch ms; the HTTP API docs do not name the unit, so the
// magnitude decides. requestTime is the CLF start time with second resolution.
function timeOf(epoch: unknown, clf: unknown, eventTs: number | null): number {
  const e = num(epoch, 'requestTimeEpoch');
  // The raw text only feeds the error detail; passing it spares a number-to-string conversion.
  if (e !== null) return epochToMs(e, typeof epoch === 'string' ? epoch : 'requestTimeEpoch');
  const c = text(clf, 'requestTime');
  if (c !== null) return clfToMs(c);
  if (eventTs !== null) return epochToMs(eventTs, 'timestamp');
  throw new FieldError('missing_field', 'requestTime: missing (nor requestTimeEpoch)');
}

function trackOf(isCanary: string | null, logGroup: string | null, stage: string | null): Track | null {
  if (isCanary === 'true' || logGroup?.endsWith('/Canary')) return 'canary';
  // false is logged only on a stage with canary settings: the request went to the base release.
  if (isCanary === 'false') return 'stable';
  if (!stage) return null;
  const s = stage.toLowerCase();
  if (TRACK_SET.has(s)) return s as Track;
  // stable and blue end in e, canary in y, green in n: the last char spares most stages the regex.
  const last = s.charCodeAt(s.length - 1);
  if (last !== 0x65 && last !== 0x79 && last !== 0x6e) return null;
  return (STAGE_TRACK.exec(s)?.[1] as Track | undefined) ?? null;
}

/** The parts that are present, space-separated; null when none is. */
const joinErrors = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : `${a} ${b}`);

// Every field is set, null when not logged: one object literal keeps one shape per record, where
// adding only the logged claims one by one costs a shape change each.
function claimsOf(raw: RawClaims): Partial<Claims> | null {
  const jti = claimText(raw[JTI]);
  const sub = claimText(raw[SUB]);
  const sid = claimText(raw[SID]);
  // azp before client_id, as jwt-claims does.
  const clientId = claimText(raw[AZP]) ?? claimText(raw[CLIENT_ID]) ?? claimText(raw[CID]);
  const iss = claimText(raw[ISS]);
  const audText = claimText(raw[AUD]);
  const aud = audText === null ? null : claimList(audText);
  const exp = claimTimeOf(raw[EXP]);
  const iat = claimTimeOf(raw[IAT]);
  if (jti === null && sub === null && sid === null && clientId === null && iss === null && aud === null && exp === null && iat === null) return null;
  return { jti, sub, sid, clientId, iss, aud, exp, iat };
}

const claimInput = (v: unknown): string | number | null => (unset(v) || (typeof v !== 'string' && typeof v !== 'number') ? null : v);

function claimText(v: unknown): string | null {
  const input = claimInput(v);
  return input === null ? null : String(input).slice(0, 512);
}

function claimTimeOf(v: unknown): number | null {
  const input = claimInput(v);
  return input === null ? null : claimTime(input);
}

// HTTP API JWT authorizers print list claims as "[a b]".
function claimList(s: string): string[] | null {
  const list = s.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter((x) => x.length > 0);
  return list.length > 0 ? list : null;
}

const NUMERIC_DATE = /^\d+(\.\d+)?$/;

// NumericDate seconds (RFC 7519 section 2) or Cognito's "Thu May 04 03:50:06 UTC 2023"; an
// unreadable claim is dropped rather than failing the request it rides on.
function claimTime(v: string | number): number | null {
  const n = typeof v === 'number' ? v : NUMERIC_DATE.test(v) ? Number(v) : dateToMs(v) / 1000;
  return Number.isFinite(n) && n > 0 && n < 7e9 ? Math.round(n * 1000) : null;
}

const dateToMs = (v: string): number => {
  const ms = javaUtcDateToMs(v);
  return Number.isNaN(ms) ? Date.parse(v) : ms;
};

interface Scan {
  /** User-made groups (`{"request":{…}}`), searched in order for single-name keys. */
  groups: readonly JsonObject[] | null;
  /** Logged authorizer claims. */
  claims: RawClaims | null;
}

// What scan() makes of a top-level key, whatever its value: a flat claim key's claim index + 1 in
// the low bits, and flags for the namespaces and for the keys whose object holds claims.
const CLAIM_BITS = 15;
const NAMESPACE = 16;
const AUTHORIZER = 32;
const CLAIMS = 64;

function keyClass(k: string): number {
  let c = (CLAIM_KEYS.get(k) ?? -1) + 1;
  if (AWS_NAMESPACES.has(k)) c |= NAMESPACE;
  if (k === 'authorizer') c |= AUTHORIZER;
  else if (k === 'claims') c |= CLAIMS;
  return c;
}

// The top-level key at each position of the last record and its class.
const SCAN_KEY_AT = new Array<string | undefined>(MAX_POSITIONS);
const CLASS_AT = new Array<number>(MAX_POSITIONS).fill(0);

/**
 * keyClass(k) for the key at `position`. As in groupedValues, a key where the last record had it
 * reuses that record's class, which spares a map and a set lookup per key.
 */
function classAt(position: number, k: string): number {
  if (position >= MAX_POSITIONS) return keyClass(k);
  if (SCAN_KEY_AT[position] === k) return CLASS_AT[position]!;
  const cls = keyClass(k);
  SCAN_KEY_AT[position] = k;
  CLASS_AT[position] = cls;
  return cls;
}

// One pass over the top-level keys: user-made groups to search, and the claims logged flat
// (`authorizer.claims.sub`, `jwtSub`…) or nested (`{"authorizer":{"claims":{…}}}`, `{"claims":{…}}`).
function scan(o: JsonObject): Scan {
  let groups: JsonObject[] | null = null;
  let claims: RawClaims | null = null;
  let position = -1;
  for (const k in o) {
    position++;
    const cls = classAt(position, k);
    const v = o[k];
    if (isObject(v)) {
      if ((cls & (AUTHORIZER | CLAIMS)) !== 0) {
        const nested = (cls & CLAIMS) !== 0 ? v : v.claims;
        if (isObject(nested)) {
          for (const name in nested) {
            const i = CLAIM_INDEX.get(name);
            if (i === undefined) continue;
            claims ??= noRawClaims();
            if (claims[i] === undefined) claims[i] = nested[name];
          }
        }
      }
      if ((cls & NAMESPACE) === 0) (groups ??= []).push(v);
      continue;
    }
    const i = (cls & CLAIM_BITS) - 1;
    if (i >= 0) {
      claims ??= noRawClaims();
      if (claims[i] === undefined) claims[i] = v;
    }
  }
  return { groups, claims };
}

/** scan()'s groups alone, for detect(). */
function groupsOf(o: JsonObject): JsonObject[] | null {
  let groups: JsonObject[] | null = null;
  let position = -1;
  for (const k in o) {
    position++;
    const v = o[k];
    if (isObject(v) && (classAt(position, k) & NAMESPACE) === 0) (groups ??= []).push(v);
  }
  return groups;
}

function looksLikeAccessLog(o: JsonObject, groups: readonly JsonObject[] | null): boolean {
  if (groups === null) {
    return (
      o.requestId !== undefined &&
      (o.httpMethod !== undefined || o.routeKey !== undefined) &&
      (o.requestTime !== undefined || o.requestTimeEpoch !== undefined || o.extendedRequestId !== undefined || o.apiId !== undefined || o.domainName !== undefined)
    );
  }
  // The groups' values in one pass, as draftOf reads them: asking each group for each name would
  // cost a lookup by key string per group and name.
  const g = groupedValues(groups);
  return (
    (o.requestId !== undefined || g[SLOT.requestId] !== undefined) &&
    (o.httpMethod !== undefined || g[SLOT.httpMethod] !== undefined || o.routeKey !== undefined || g[SLOT.routeKey] !== undefined) &&
    (o.requestTime !== undefined || g[SLOT.requestTime] !== undefined ||
      o.requestTimeEpoch !== undefined || g[SLOT.requestTimeEpoch] !== undefined ||
      o.extendedRequestId !== undefined || g[SLOT.extendedRequestId] !== undefined ||
      o.apiId !== undefined || g[SLOT.apiId] !== undefined ||
      o.domainName !== undefined || g[SLOT.domainName] !== undefined)
  );
}

// A log event's message is the access-log line as text: look for its keys without parsing it.
function messageLooksLikeAccessLog(m: string): boolean {
  return m.charCodeAt(0) === 123 && m.includes('"requestId"') && (m.includes('"httpMethod"') || m.includes('"routeKey"'));
}

// `$context` values arrive as strings ("200", "-") or, when the format leaves them unquoted, numbers.
const unset = (v: unknown): boolean => v === undefined || v === null || v === '' || v === '-';

function text(v: unknown, name: string): string | null {
  if (unset(v)) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new FieldError('invalid_field', `${name}: expected a string, got ${Array.isArray(v) ? 'array' : typeof v}`);
}

function num(v: unknown, name: string): number | null {
  if (unset(v)) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new FieldError('invalid_field', `${name}: expected a number, got ${Array.isArray(v) ? 'array' : typeof v}`);
  return n;
}
