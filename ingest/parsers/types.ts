// Interfaces between the per-format parsers and the shared normaliser.
// A gateway parser only maps its format's fields into an AccessDraft; token
// fingerprinting, claims, auth outcome, deployment and client IP are decided once,
// in ingest/normalize.ts, so every format behaves the same.
import type { JsonObject } from '../fields.js';
import { FieldError, type ParseResult } from '../parse-result.js';
import type { Claims, GatewayFormat, IdpFormat, TokenEvent, TokenKind, Track } from '../model.js';

/**
 * One input record: a JSON object, or a text line for the text formats. `keys` is the object's key
 * list when its decoder knows it: one array per list, the same for every record that has it, so a
 * parser can prepare its work per list.
 */
export type RawRecord = { kind: 'json'; value: JsonObject; keys?: readonly string[] } | { kind: 'text'; line: string };

/** What a gateway parser read from one record; may hold raw token material, never leaves ingest. */
export interface AccessDraft {
  /** Request start, epoch ms. */
  ts: number;
  gateway: GatewayFormat;
  requestId: string | null;
  method: string | null;
  /** Path as logged, query string included when logged (the normaliser strips and scrubs it). */
  url: string | null;
  route: string | null;
  host: string | null;
  status: number;
  latencyMs: number | null;
  /** The address the gateway saw the request from (its TCP peer or its own client-IP field). */
  clientIp: string | null;
  userAgent: string | null;
  /** Request headers the record logged, lower-case names (authorization, x-forwarded-for, x-api-key...). */
  requestHeaders: Record<string, string>;
  /** Response headers the record logged, lower-case names (www-authenticate, x-deployment-version...). */
  responseHeaders: Record<string, string>;
  /**
   * Whether every header value is a string of its own, as a JSON record's values are, not a cut of
   * a larger string (a field of a text line, a header of a decoded message): a cache may then keep
   * the value itself, which keeps nothing else alive.
   */
  ownHeaderValues: boolean;
  /**
   * Whether the request presented a credential, as far as the record shows when the token itself is
   * not readable: true when the record says one was sent but hides it (Kong's `REDACTED`), false when
   * the record logs the Authorization field and it is empty, null when the record cannot tell.
   */
  tokenPresented: boolean | null;
  /** A token identifier the gateway logs instead of the token (API key id, credential id). */
  tokenId: { value: string; kind: TokenKind } | null;
  /** Claims the gateway decoded itself and logged (AWS authorizer claims, Tyk JWT fields). */
  loggedClaims: Partial<Claims> | null;
  /** The gateway's own error text or code (Envoy response flags + details, Kong message, AWS error.responseType). */
  gatewayError: string | null;
  /** The gateway's name for the backend service (Kong service, Traefik service, Tyk API name). */
  service: string | null;
  /** Upstream cluster / host / URL (Envoy cluster, NGINX proxy_upstream_name, Istio subset). */
  upstream: string | null;
  /** Version the record names itself (AWS `$context.deploymentId`); response headers still win. */
  version: string | null;
  /** Track the record names itself (AWS `isCanaryRequest`, ingress-nginx canary backend); headers still win. */
  track: Track | null;
  consumerId: string | null;
}

/** A parser of one gateway's access-log format (all of its variants). Pure; never throws. */
export interface GatewayParser {
  readonly format: Exclude<GatewayFormat, 'canonical'>;
  /** Cheap structural test used by `--format auto`, per record. */
  detect(record: RawRecord): boolean;
  parse(record: RawRecord): ParseResult<AccessDraft>;
}

/** A parser of one IdP's event format. Pure; never throws. Valid records without a token event are skipped. */
export interface IdpParser {
  readonly format: IdpFormat;
  detect(record: JsonObject): boolean;
  parse(record: JsonObject): ParseResult<TokenEvent>;
}

/** A draft with every optional field empty, for parsers to spread their fields over. */
export function emptyDraft(gateway: GatewayFormat, ts: number, status: number): AccessDraft {
  return {
    ts,
    gateway,
    requestId: null,
    method: null,
    url: null,
    route: null,
    host: null,
    status,
    latencyMs: null,
    clientIp: null,
    userAgent: null,
    requestHeaders: {},
    responseHeaders: {},
    ownHeaderValues: false,
    tokenPresented: null,
    tokenId: null,
    loggedClaims: null,
    gatewayError: null,
    service: null,
    upstream: null,
    version: null,
    track: null,
    consumerId: null,
  };
}

/**
 * The request start of a format that logs the end and the duration: `end` minus `latencyMs`, in whole
 * ms. A latency that is negative or reaches back before 1970 is corrupt, not a duration: `invalid_field`.
 */
export function requestStart(end: number, latencyMs: number | null, field: string): number {
  if (latencyMs === null) return end;
  if (!(latencyMs >= 0 && latencyMs <= end)) throw new FieldError('invalid_field', `${field}: ${latencyMs} ms is not a request duration`);
  return Math.round(end - latencyMs);
}

