// `tokenwatch report`: what a SOC and a release manager ask a store first. Findings by
// kind and severity, the most severe ones, auth-failure and false-expiry rates per service
// version as terminal charts, tokens issued / refreshed / expired / revoked per minute, and
// with --token the lifecycle and timeline of a jti, token fingerprint or session. The
// window is in stream time: --since 1h means the hour before the last stored event, so a
// report on last week's logs reads like one on a live store. --json for machines.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import type { ComponentContext } from '../common/component.js';
import { TokenwatchError } from '../common/errors.js';
import { openStore, storeConnectionConfig, type ClickHouseStore } from '../sinks/clickhouse/connection.js';
import { ReportQueries, fromChTime, type AuthRate, type LifecycleState, type TimelineEntry, type TokenMinute, type Window } from '../sinks/clickhouse/queries.js';
import { bucket, sparkline } from './sparkline.js';
import { truncate } from './summary.js';

export const REPORT_USAGE = `usage: tokenwatch report [--store <dir>] [--since <1h|30m|7d|ISO time>] [--until <ISO time>]
                         [--token <jti|tokenFp|session>] [--limit N] [--width N] [--json]
  Reads the store analyze wrote (--store, TOKENWATCH_STORE, default .tokenwatch/store; or the server
  CLICKHOUSE_URL names). --since counts back from the last stored event (default 24h); --until defaults
  to that event. --token adds the token's lifecycle and timeline. Same questions as sql/queries/.`;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Everything a report holds; what --json prints. */
export interface Report {
  store: string;
  window: { since: string; until: string } | null;
  events: number;
  findingsByKind: Awaited<ReturnType<ReportQueries['findingsByKind']>>;
  topFindings: Awaited<ReturnType<ReportQueries['recentFindings']>>;
  authRates: AuthRate[];
  tokensPerMinute: TokenMinute[];
  token: { query: string; lifecycle: LifecycleState[]; timeline: TimelineEntry[] } | null;
}

/** Runs `tokenwatch report`; resolves to the exit code. */
export async function reportCommand(argv: string[], ctx: ComponentContext, stdout: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      since: { type: 'string', default: '24h' },
      until: { type: 'string' },
      token: { type: 'string' },
      limit: { type: 'string', default: '10' },
      width: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const limit = positive(values.limit!, '--limit');
  const width = positive(values.width!, '--width');
  const store = await openExisting(values.store, ctx);
  try {
    const report = await buildReport(new ReportQueries(store.client), store.target, { since: values.since!, until: values.until, token: values.token, limit });
    stdout.write(values.json ? JSON.stringify(report) + '\n' : renderReport(report, width) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}

/** Options of {@link buildReport}: --since / --until as given. */
export interface ReportOptions {
  since: string;
  until: string | undefined;
  token: string | undefined;
  limit: number;
}

/** Runs the report queries over the window the options name. */
export async function buildReport(q: ReportQueries, target: string, options: ReportOptions): Promise<Report> {
  if (!(await q.migrated())) {
    throw new TokenwatchError('TW_ERR_REPORT_EMPTY_STORE', `${target} holds no tokenwatch data: run \`tokenwatch analyze --logs <file> --store <dir>\` (or \`tokenwatch migrate\`) first`);
  }
  const time = await q.streamTime();
  const token = options.token === undefined ? null : { query: options.token, lifecycle: await q.lifecycle(options.token), timeline: await q.timeline(options.token) };
  const empty = { findingsByKind: [], topFindings: [], authRates: [], tokensPerMinute: [] };
  if (time.lastEvent === null) return { store: target, window: null, events: 0, ...empty, token };
  const until = options.until === undefined ? time.lastEvent : timeArg(options.until, '--until', time.lastEvent);
  // Clamped to the first stored event, so the charts spend their columns on stored time.
  const since = Math.max(timeArg(options.since, '--since', until), Math.min(time.firstEvent!, until));
  if (since > until) throw new TokenwatchError('TW_ERR_CLI_USAGE', `--since (${iso(since)}) is after --until (${iso(until)})`);
  const w: Window = { since, until };
  return {
    store: target,
    window: { since: iso(since), until: iso(until) },
    events: time.events,
    findingsByKind: await q.findingsByKind(w),
    topFindings: await q.recentFindings(w, options.limit),
    authRates: await q.authRates(w),
    tokensPerMinute: await q.tokenMinutely(w),
    token,
  };
}

/** The report as text for a terminal, charts `width` columns wide. */
export function renderReport(r: Report, width: number): string {
  const out: string[] = [];
  if (r.window === null) {
    out.push(`tokenwatch report: ${r.store} holds no events yet.`);
  } else {
    out.push(`tokenwatch report: ${r.store}, ${r.events.toLocaleString('en-US')} events stored; window ${r.window.since} .. ${r.window.until} (stream time)`);
    out.push('', 'Findings by kind and severity');
    if (r.findingsByKind.length === 0) out.push('  none in this window');
    else out.push(...table(['kind', 'severity', 'action', 'findings', 'first', 'last'], r.findingsByKind.map((f) => [f.kind, f.severity, f.action, String(f.findings), f.first_detected.slice(0, 19), f.last_detected.slice(0, 19)])));
    if (r.topFindings.length > 0) {
      out.push('', `Most severe findings (top ${r.topFindings.length})`);
      out.push(...table(['severity', 'action', 'detected', 'summary'], r.topFindings.map((f) => [f.severity, f.action, f.detected_at.slice(0, 19), truncate(f.summary, 100)])));
    }
    out.push('', ...authChart(r.authRates, Date.parse(r.window.since), Date.parse(r.window.until), width));
    out.push('', ...tokenChart(r.tokensPerMinute, Date.parse(r.window.since), Date.parse(r.window.until), width));
  }
  if (r.token !== null) out.push('', ...tokenSection(r.token));
  return out.join('\n');
}

/** Per chart column: the share of its requests that `pick` counts. */
const rate =
  (pick: (r: AuthRate) => number) =>
  (g: AuthRate[]): number =>
    sum(g, pick) / Math.max(1, sum(g, (r) => r.requests));

function authChart(rates: AuthRate[], since: number, until: number, width: number): string[] {
  const out = ['Auth failures and false expiries per service version (rate per column; _ none, · no requests)'];
  if (rates.length === 0) return [...out, '  no requests in this window'];
  const series = new Map<string, AuthRate[]>();
  for (const r of rates) {
    const key = `${r.service || '(none)'} ${r.version || '-'} ${r.track || '-'}`;
    const list = series.get(key) ?? [];
    list.push(r);
    series.set(key, list);
  }
  const from = Math.floor(since / 60_000) * 60_000;
  const rows: Array<{ name: string; requests: number; failures: number; falseExp: number; fail: Array<number | null>; fx: Array<number | null> }> = [];
  for (const [name, list] of series) {
    const points = list.map((r) => ({ at: fromChTime(r.minute), value: r }));
    rows.push({
      name,
      requests: sum(list, (r) => r.requests),
      failures: sum(list, (r) => r.failures),
      falseExp: sum(list, (r) => r.false_expiries),
      fail: bucket(points, from, until + 1, width, rate((r) => r.failures)),
      fx: bucket(points, from, until + 1, width, rate((r) => r.false_expiries)),
    });
  }
  // One scale per chart kind, so versions compare by eye.
  const maxFail = Math.max(0, ...rows.flatMap((r) => r.fail.filter((v): v is number => v !== null)));
  const maxFx = Math.max(0, ...rows.flatMap((r) => r.fx.filter((v): v is number => v !== null)));
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  out.push(`  ${pad('service version track', nameWidth)}  ${pad('requests', 9)} ${pad('fail%', 6)} ${pad('fexp%', 6)} failure rate (0-${pct(maxFail)})`);
  for (const r of rows) {
    out.push(`  ${pad(r.name, nameWidth)}  ${pad(String(r.requests), 9)} ${pad(pct(r.failures / r.requests), 6)} ${pad(pct(r.falseExp / r.requests), 6)} ${sparkline(r.fail, maxFail)}`);
  }
  if (maxFx > 0) {
    out.push(`  ${' '.repeat(nameWidth + 27)}false expiry rate (0-${pct(maxFx)})`);
    for (const r of rows) if (r.falseExp > 0) out.push(`  ${pad(r.name, nameWidth)}  ${' '.repeat(25)}${sparkline(r.fx, maxFx)}`);
  }
  return out;
}

function tokenChart(minutes: TokenMinute[], since: number, until: number, width: number): string[] {
  const out = ['Tokens per minute (distinct tokens; per column the busiest minute)'];
  if (minutes.length === 0) return [...out, '  none in this window'];
  const from = Math.floor(since / 60_000) * 60_000;
  const kinds = ['issued', 'refreshed', 'expired', 'revoked'] as const;
  const lines = kinds.map((k) => {
    const points = minutes.map((m) => ({ at: fromChTime(m.minute), value: m[k] }));
    return { k, total: sum(minutes, (m) => m[k]), peak: Math.max(0, ...minutes.map((m) => m[k])), chart: bucket(points, from, until + 1, width, (g) => Math.max(...g)) };
  });
  const max = Math.max(...lines.map((l) => l.peak));
  out.push(`  ${pad('', 10)} ${pad('total', 8)} ${pad('peak/min', 9)} (0-${max})`);
  for (const l of lines) out.push(`  ${pad(l.k, 10)} ${pad(String(l.total), 8)} ${pad(String(l.peak), 9)} ${sparkline(l.chart, max)}`);
  return out;
}

function tokenSection(t: NonNullable<Report['token']>): string[] {
  const out = [`Token ${t.query}`];
  if (t.lifecycle.length === 0 && t.timeline.length === 0) return [...out, '  nothing stored under this jti, fingerprint or session'];
  for (const l of t.lifecycle) {
    out.push(
      `  ${l.token_key}: ${l.state}${l.revoked_at ? ` (revoked by ${l.revoked_by} at ${l.revoked_at})` : ''}; issued ${l.issued_at ?? '?'}, exp ${l.exp ?? '?'}, ` +
        `used ${l.uses}x from ${l.first_use_at ?? '-'} to ${l.last_use_at ?? '-'}, ${l.failures} refused, ${l.distinct_clients} distinct clients` +
        (l.session_id ? `, session ${l.session_id}` : '') +
        (l.family ? `, family ${l.family}` : '') +
        (l.subject ? `, subject ${l.subject}` : ''),
    );
  }
  if (t.timeline.length > 0) {
    out.push('  timeline:');
    for (const e of t.timeline) out.push(`    ${e.at.slice(0, 23)}  ${pad(e.source, 8)} ${pad(e.what, 23)} ${truncate(e.detail, 140)}`);
  }
  return out;
}

// Embedded stores must exist already: opening would create an empty one and report nothing.
async function openExisting(dir: string | undefined, ctx: ComponentContext): Promise<ClickHouseStore> {
  const config = storeConnectionConfig(process.env, dir);
  if (config.url === undefined && !existsSync(resolve(config.store))) {
    throw new TokenwatchError('TW_ERR_REPORT_NO_STORE', `no store at ${resolve(config.store)}: run \`tokenwatch analyze --logs <file> --store ${config.store}\` first, or set CLICKHOUSE_URL for a server`);
  }
  return openStore(config, ctx);
}

/** --since / --until: a duration back from `anchor` (30m, 2h, 7d) or an ISO-8601 time (UTC unless it says). */
function timeArg(text: string, flag: string, anchor: number): number {
  const d = DURATION.exec(text);
  if (d !== null) return anchor - Number(d[1]) * UNIT_MS[d[2]!]!;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) || !/T|\d \d/.test(text) ? text : `${text}Z`);
  if (Number.isNaN(ms)) throw new TokenwatchError('TW_ERR_CLI_USAGE', `${flag} ${text}: give a duration such as 30m, 2h, 7d, or an ISO-8601 time such as 2026-11-25T10:00:00Z`);
  return ms;
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new TokenwatchError('TW_ERR_CLI_USAGE', `${flag} ${text}: give a positive whole number`);
  return n;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const sum = <T>(list: T[], pick: (x: T) => number): number => list.reduce((a, x) => a + pick(x), 0);
const pct = (v: number): string => `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%`;
const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}
