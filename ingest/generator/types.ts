// The synthetic request and the renderer contract: the generator builds format-neutral
// requests (with the raw token, which exists only in memory) and each renderer writes
// them as one record of its gateway's real format, so tests can round-trip every format.
import type { GatewayFormat, IdpFormat, TokenEvent, Track } from '../model.js';

/** One synthetic gateway request, before any format is applied. */
export interface SyntheticRequest {
  /** Request start, epoch ms. */
  ts: number;
  requestId: string;
  method: string;
  path: string;
  /** Query string without `?`, may carry `access_token=`. */
  query: string | null;
  host: string;
  status: number;
  latencyMs: number;
  clientIp: string;
  userAgent: string;
  /** The raw token; null for an anonymous request. */
  rawToken: string | null;
  /** Where the token travels: the Authorization header (Bearer), the query string, or an API key header. */
  tokenIn: 'authorization' | 'query' | 'api_key_header';
  /** RFC 6750 challenge on failures, e.g. `Bearer error="invalid_token", error_description="The access token expired"`. */
  wwwAuthenticate: string | null;
  service: string;
  route: string;
  version: string;
  track: Track;
  /** Upstream cluster / host name carrying the track suffix, e.g. `orders-canary`. */
  upstream: string;
  consumerId: string | null;
  /**
   * Who answered a 401 / 403: the gateway's auth plugin (default; no upstream headers logged) or
   * the upstream service itself (a release that rejects tokens; its deployment headers are logged).
   */
  rejectedBy?: 'gateway' | 'upstream';
}

/** Whether the gateway answered the request itself (an auth rejection it made), not the upstream. */
export const answeredByGateway = (r: SyntheticRequest): boolean => (r.status === 401 || r.status === 403) && r.rejectedBy !== 'upstream';

/** Writes synthetic requests in one gateway format; `variant` picks JSON vs text flavours. */
export interface GatewayRenderer {
  readonly format: Exclude<GatewayFormat, 'canonical'>;
  /** Variant names, e.g. ['json', 'text', 'istio'] for Envoy. */
  readonly variants: readonly string[];
  /** One record as one line (no trailing newline). */
  render(request: SyntheticRequest, variant: string): string;
  /** Whether `variant` logs the Authorization header, so a round trip can expect a fingerprint. */
  carriesAuthorization(variant: string): boolean;
}

/** Writes token events in one IdP format. */
export interface IdpRenderer {
  readonly format: Exclude<IdpFormat, 'canonical'>;
  /** One record as one line (no trailing newline). */
  render(event: TokenEvent): string;
}
