// The report questions, run from the shipped files of sql/queries/ (the same SQL users run
// from Grafana or clickhouse-client) with query parameters, on chdb or a server alike.
// Numbers arrive as numbers whatever the engine: 64-bit integers are requested unquoted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { TokenwatchError } from '../../common/errors.js';
import { sqlDirectory } from './migrate.js';
import { chTime, type LifecycleRow } from './rows.js';

export interface StreamTime {
  firstEvent: number | null;
  lastEvent: number | null;
  events: number;
}

export interface FindingCount {
  kind: string;
  severity: string;
  action: string;
  findings: number;
  first_detected: string;
  last_detected: string;
}

export interface RecentFinding {
  id: string;
  kind: string;
  severity: string;
  action: string;
  detected_at: string;
  service: string;
  version: string;
  track: string;
  jti: string;
  token_fp: string;
  session_id: string;
  summary: string;
}

export interface AuthRate {
  minute: string;
  service: string;
  version: string;
  track: string;
  requests: number;
  failures: number;
  false_expiries: number;
  failure_rate: number;
  false_expiry_rate: number;
  tokens: number;
}

export interface TokenMinute {
  minute: string;
  issued: number;
  refreshed: number;
  expired: number;
  revoked: number;
}

/** A token_lifecycles row as read back: the columns written (rows.ts). */
export type LifecycleState = LifecycleRow;

export interface TimelineEntry {
  at: string;
  source: 'idp' | 'gateway' | 'finding';
  what: string;
  detail: string;
}

/** A time window in epoch ms. */
export interface Window {
  since: number;
  until: number;
}

/** Runs the shipped report queries against one store. */
export class ReportQueries {
  private readonly dir = join(sqlDirectory(), 'queries');
  private readonly cache = new Map<string, string>();

  constructor(private readonly client: ClickHouseClient) {}

  /** Whether the store holds tokenwatch's schema at all. */
  async migrated(): Promise<boolean> {
    const rows = await this.rows<{ n: number }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'", {});
    return Number(rows[0]?.n ?? 0) > 0;
  }

  async streamTime(): Promise<StreamTime> {
    const [row] = await this.run<{ first_event: string; last_event: string; events: number }>('stream_time', {});
    const events = Number(row?.events ?? 0);
    if (row === undefined || events === 0) return { firstEvent: null, lastEvent: null, events: 0 };
    return { firstEvent: fromChTime(row.first_event), lastEvent: fromChTime(row.last_event), events };
  }

  findingsByKind(w: Window): Promise<FindingCount[]> {
    return this.run('findings_by_kind', windowParams(w));
  }

  recentFindings(w: Window, limit: number): Promise<RecentFinding[]> {
    return this.run('findings_recent', { ...windowParams(w), limit });
  }

  authRates(w: Window): Promise<AuthRate[]> {
    return this.run('auth_rates', windowParams(w));
  }

  tokenMinutely(w: Window): Promise<TokenMinute[]> {
    return this.run('token_minutely', windowParams(w));
  }

  lifecycle(token: string): Promise<LifecycleState[]> {
    return this.run('token_lifecycle', { token });
  }

  timeline(token: string): Promise<TimelineEntry[]> {
    return this.run('token_timeline', { token });
  }

  private run<T>(name: string, params: Record<string, unknown>): Promise<T[]> {
    let sql = this.cache.get(name);
    if (sql === undefined) {
      try {
        sql = readFileSync(join(this.dir, `${name}.sql`), 'utf8');
      } catch (err) {
        throw new TokenwatchError('TW_ERR_REPORT_QUERY_MISSING', `the shipped query ${join(this.dir, `${name}.sql`)} cannot be read; reinstall tokenwatch`, { cause: err });
      }
      this.cache.set(name, sql);
    }
    return this.rows<T>(sql, params);
  }

  private async rows<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    // Settings in the SQL text, not clickhouse_settings (chdb pitfall, ARCHITECTURE.md).
    const rs = await this.client.query({ query: `${sql.trimEnd()}\nSETTINGS output_format_json_quote_64bit_integers = 0`, query_params: params, format: 'JSONEachRow' });
    return rs.json<T>();
  }
}

/** A DateTime64(3, 'UTC') text value as epoch ms. */
export function fromChTime(text: string): number {
  return Date.parse(text.replace(' ', 'T') + 'Z');
}

const windowParams = (w: Window): Record<string, string> => ({ since: chTime(w.since), until: chTime(w.until) });
