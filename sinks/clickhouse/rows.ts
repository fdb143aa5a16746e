// Maps tokenwatch's models to the rows of the ClickHouse tables (sql/): AccessEvent ->
// events, TokenEvent -> token_events, a token's lifecycle -> token_lifecycles, Finding ->
// findings, and says how each table's batches are identified for insert deduplication.
// Rows carry token fingerprints only, never a raw token. Absent text is '', absent times
// and numbers are null, times are UTC 'YYYY-MM-DD hh:mm:ss.sss' clamped to DateTime64's range.
import type { AccessEvent, TokenEvent } from '../../ingest/model.js';
import type { Finding } from '../../detectors/finding.js';
import { authFailureSpikeDefaults } from '../../detectors/auth-failure-spike.js';

/** Where a row came from: a file and line, or a topic partition and offset. Offsets grow within a source. */
export interface Origin {
  /** File path, or `topic/partition`. */
  source: string;
  /** Line number or message offset. */
  offset: number;
}

export interface EventRow {
  ts: string;
  gateway: string;
  request_id: string;
  method: string;
  path: string;
  route: string;
  host: string;
  status: number;
  latency_ms: number | null;
  client_ip: string;
  user_agent: string;
  token_fp: string;
  token_kind: string;
  jti: string;
  subject: string;
  session_id: string;
  client_id: string;
  iat: string | null;
  exp: string | null;
  iss: string;
  aud: string[];
  alg: string;
  verified: boolean | null;
  auth_error: string;
  false_expiry: boolean;
  service: string;
  version: string;
  track: string;
  consumer_id: string;
  source: string;
  source_offset: number;
}

export interface TokenEventRow {
  ts: string;
  idp: string;
  type: string;
  idp_event_type: string;
  token_id: string;
  refresh_token_id: string;
  parent_refresh_token_id: string;
  session_id: string;
  subject: string;
  client_id: string;
  ip: string;
  exp: string | null;
  reason: string;
  source: string;
  source_offset: number;
}

/** A token's lifecycle as the store knows it at one moment; times are epoch ms, null when unknown. */
export interface TokenLifecycle {
  /** The store's key: jti, else tokenFp. */
  key: string;
  tokenFp: string | null;
  jti: string | null;
  sessionId: string | null;
  /** Root refresh token id of its refresh family. */
  family: string | null;
  subject: string | null;
  clientId: string | null;
  state: 'issued' | 'active' | 'refreshed' | 'expired' | 'revoked';
  issuedAt: number | null;
  firstUseAt: number | null;
  lastUseAt: number | null;
  exp: number | null;
  revokedAt: number | null;
  revokedBy: 'token' | 'session' | 'family' | 'subject' | null;
  uses: number;
  failures: number;
  distinctClients: number;
  /** Stream time of the change this snapshot reflects; the latest wins in the table. */
  updatedAt: number;
}

export interface LifecycleRow {
  token_key: string;
  token_fp: string;
  jti: string;
  session_id: string;
  family: string;
  subject: string;
  client_id: string;
  state: string;
  issued_at: string | null;
  first_use_at: string | null;
  last_use_at: string | null;
  exp: string | null;
  revoked_at: string | null;
  revoked_by: string;
  uses: number;
  failures: number;
  distinct_clients: number;
  updated_at: string;
}

export interface FindingRow {
  id: string;
  kind: string;
  severity: string;
  action: string;
  detected_at: string;
  first_event_at: string;
  token_fp: string;
  jti: string;
  session_id: string;
  subject: string;
  service: string;
  version: string;
  track: string;
  summary: string;
  evidence: string;
}

/** How the writer names a table and identifies its rows for the batch's deduplication token. */
export interface TableSpec<Row> {
  table: string;
  /** A row's identity: its origin for event tables, its key and version for replacing tables. */
  identity(row: Row): string;
  /** The row's origin, for tables fed from a source whose offsets the caller commits. */
  origin?(row: Row): Origin;
}

export const EVENTS: TableSpec<EventRow> = {
  table: 'events',
  identity: (r) => `${r.source}\u0000${r.source_offset}`,
  origin: (r) => ({ source: r.source, offset: r.source_offset }),
};

export const TOKEN_EVENTS: TableSpec<TokenEventRow> = {
  table: 'token_events',
  identity: (r) => `${r.source}\u0000${r.source_offset}`,
  origin: (r) => ({ source: r.source, offset: r.source_offset }),
};

export const TOKEN_LIFECYCLES: TableSpec<LifecycleRow> = {
  table: 'token_lifecycles',
  identity: (r) => `${r.token_key}\u0000${r.updated_at}`,
};

export const FINDINGS: TableSpec<FindingRow> = {
  table: 'findings',
  // Same id and detectedAt is the same version of a finding; a later detectedAt is new evidence.
  identity: (r) => `${r.id}\u0000${r.detected_at}`,
};

// DateTime64(3) holds 1900-01-01 to 2299-12-31; an exp claim beyond it (garbage or a
// "never expires" token) must not make the whole batch fail to parse.
const MAX_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

// Times of one stream fall in few minutes (a row's ts, iat and exp in three of them): each
// minute's 'YYYY-MM-DD hh:mm:' prefix is remembered, and only seconds and milliseconds are
// written per value (Date formatting costs about 1 µs).
const PREFIXES = new Map<number, string>();
const MAX_PREFIXES = 4096;

/** An epoch-ms time as a DateTime64(3, 'UTC') text value. */
export function chTime(ms: number): string {
  const t = Math.floor(Math.min(Math.max(ms, 0), MAX_MS));
  const minute = t - (t % 60_000);
  // Keyed by the minute's number, a small integer, which a Map hashes without boxing.
  const key = minute / 60_000;
  let prefix = PREFIXES.get(key);
  if (prefix === undefined) {
    prefix = new Date(minute).toISOString().slice(0, 17).replace('T', ' ');
    if (PREFIXES.size >= MAX_PREFIXES) PREFIXES.clear();
    PREFIXES.set(key, prefix);
  }
  const rest = t - minute;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return prefix + (seconds < 10 ? '0' : '') + seconds + (millis < 10 ? '.00' : millis < 100 ? '.0' : '.') + millis;
}

const chTimeOrNull = (ms: number | null): string | null => (ms === null ? null : chTime(ms));

/** Options of {@link eventRow}. */
export interface EventRowOptions {
  /** Tolerated clock difference for a false expiry, ms. Default: auth_failure_spike's clockSkewMs (60000). */
  clockSkewMs?: number;
  /** The token's exp from the lifecycle store (IdP event), epoch ms, when the request's claims lack one. */
  exp?: number | null;
}

/**
 * Whether a request was refused as `expired` while its token's exp was still more than the
 * clock skew ahead: the release-regression signal auth_failure_spike counts. An unknown
 * exp is not proof the token was valid, so it is a real expiry.
 */
export function isFalseExpiry(e: AccessEvent, options: EventRowOptions = {}): boolean {
  if (e.authError !== 'expired') return false;
  const exp = e.claims?.exp ?? options.exp ?? null;
  return exp !== null && exp - e.ts > (options.clockSkewMs ?? authFailureSpikeDefaults.clockSkewMs);
}

/** The `events` row of a gateway request read at `origin`. */
export function eventRow(e: AccessEvent, origin: Origin, options: EventRowOptions = {}): EventRow {
  const c = e.claims;
  return {
    ts: chTime(e.ts),
    gateway: e.gateway,
    request_id: e.requestId ?? '',
    method: e.method ?? '',
    path: e.path ?? '',
    route: e.route ?? '',
    host: e.host ?? '',
    status: e.status,
    latency_ms: e.latencyMs,
    client_ip: e.clientIp ?? '',
    user_agent: e.userAgent ?? '',
    token_fp: e.tokenFp ?? '',
    token_kind: e.tokenKind ?? '',
    jti: c?.jti ?? '',
    subject: c?.sub ?? '',
    session_id: c?.sid ?? '',
    client_id: c?.clientId ?? '',
    iat: chTimeOrNull(c?.iat ?? null),
    exp: chTimeOrNull(c?.exp ?? options.exp ?? null),
    iss: c?.iss ?? '',
    aud: c?.aud ?? [],
    alg: c?.alg ?? '',
    verified: c?.verified ?? null,
    auth_error: e.authError ?? '',
    false_expiry: isFalseExpiry(e, options),
    service: e.deployment.service ?? '',
    version: e.deployment.version ?? '',
    track: e.deployment.track ?? '',
    consumer_id: e.consumerId ?? '',
    source: origin.source,
    source_offset: origin.offset,
  };
}

/** The `token_events` row of an IdP event read at `origin`. */
export function tokenEventRow(e: TokenEvent, origin: Origin): TokenEventRow {
  return {
    ts: chTime(e.ts),
    idp: e.idp,
    type: e.type,
    idp_event_type: e.idpEventType ?? '',
    token_id: e.tokenId ?? '',
    refresh_token_id: e.refreshTokenId ?? '',
    parent_refresh_token_id: e.parentRefreshTokenId ?? '',
    session_id: e.sessionId ?? '',
    subject: e.subject ?? '',
    client_id: e.clientId ?? '',
    ip: e.ip ?? '',
    exp: chTimeOrNull(e.exp),
    reason: e.reason ?? '',
    source: origin.source,
    source_offset: origin.offset,
  };
}

/** The `token_lifecycles` row of a lifecycle snapshot. */
export function lifecycleRow(l: TokenLifecycle): LifecycleRow {
  return {
    token_key: l.key,
    token_fp: l.tokenFp ?? '',
    jti: l.jti ?? '',
    session_id: l.sessionId ?? '',
    family: l.family ?? '',
    subject: l.subject ?? '',
    client_id: l.clientId ?? '',
    state: l.state,
    issued_at: chTimeOrNull(l.issuedAt),
    first_use_at: chTimeOrNull(l.firstUseAt),
    last_use_at: chTimeOrNull(l.lastUseAt),
    exp: chTimeOrNull(l.exp),
    revoked_at: chTimeOrNull(l.revokedAt),
    revoked_by: l.revokedBy ?? '',
    uses: l.uses,
    failures: l.failures,
    distinct_clients: Math.min(l.distinctClients, 65_535),
    updated_at: chTime(l.updatedAt),
  };
}

/** The `findings` row of a finding; evidence is kept as its JSON text. */
export function findingRow(f: Finding): FindingRow {
  return {
    id: f.id,
    kind: f.kind,
    severity: f.severity,
    action: f.action,
    detected_at: chTime(Date.parse(f.detectedAt)),
    first_event_at: chTime(Date.parse(f.firstEventAt)),
    token_fp: f.tokenFp ?? '',
    jti: f.jti ?? '',
    session_id: f.sessionId ?? '',
    subject: f.subject ?? '',
    service: f.service ?? '',
    version: f.version ?? '',
    track: f.track ?? '',
    summary: f.summary,
    evidence: JSON.stringify(f.evidence),
  };
}
