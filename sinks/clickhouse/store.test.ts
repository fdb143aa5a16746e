// Migrations, idempotent writes and reads against a real engine: chdb in a temp directory
// (one per test file: the engine binds one directory per process and each vitest fork is
// a process), and the same suite against a ClickHouse server in a throw-away database:
// CLICKHOUSE_URL, or a testcontainers container where Docker runs (skipped otherwise: no
// server can run on the project's machines, ARCHITECTURE.md). Each test writes its own
// service, sources and time range.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createLogger } from '../../common/logger.js';
import { Metrics } from '../../common/metrics.js';
import { systemClock } from '../../common/clock.js';
import type { ComponentContext } from '../../common/component.js';
import type { AccessEvent, TokenEvent } from '../../ingest/model.js';
import { findingId, type Finding } from '../../detectors/finding.js';
import { access, idp, T0 } from '../../test/helpers/events.js';
import { clickhouseServer, serverAvailable } from '../../test/helpers/clickhouse-server.js';
import { connectionConfigSchema, openStore, type ClickHouseStore } from './connection.js';
import { loadMigrations, migrate, migrateConfigSchema, sqlDirectory, type MigrateResult } from './migrate.js';
import { clickhouseInsert, createClickHouseWriter, type BatchReport, type InsertFn } from './writer.js';
import { EVENTS, FINDINGS, TOKEN_EVENTS, TOKEN_LIFECYCLES, eventRow, findingRow, isFalseExpiry, lifecycleRow, tokenEventRow, type TableSpec, type TokenLifecycle } from './rows.js';

/** The default retention settings. */
const RETAIN = migrateConfigSchema.parse({});

const ctx = (): ComponentContext => ({ logger: createLogger({ level: 'silent' }), metrics: new Metrics(), clock: systemClock });

async function select<T = Record<string, unknown>>(client: ClickHouseClient, sql: string): Promise<T[]> {
  // 64-bit integers come back as JSON numbers from chdb and as strings from a server by
  // default: the setting in the SQL text makes both strings, and callers use Number().
  const rs = await client.query({ query: `${sql} SETTINGS output_format_json_quote_64bit_integers = 1`, format: 'JSONEachRow' });
  return rs.json<T>();
}

async function writeAll<Row extends object>(client: ClickHouseClient, spec: TableSpec<Row>, rows: Row[], options: { insert?: InsertFn; maxBatchRows?: number } = {}): Promise<BatchReport[]> {
  const reports: BatchReport[] = [];
  const w = createClickHouseWriter({ maxBatchRows: options.maxBatchRows ?? 100, maxBatchDelayMs: 0, retryBaseMs: 1, retryMaxMs: 5 }, ctx(), {
    spec,
    insert: options.insert ?? clickhouseInsert(client),
    onBatch: (b) => reports.push(b),
  });
  await w.start();
  await w.write(rows);
  await w.stop();
  return reports;
}

/** 300 requests of one canary over 5 minutes: successes, invalid tokens, false and real expiries. */
function canaryTraffic(service: string, atSec: number): AccessEvent[] {
  const events: AccessEvent[] = [];
  for (let i = 0; i < 300; i++) {
    const jti = `${service}-tok-${i % 30}`;
    const at = atSec + i;
    let o: Partial<AccessEvent> = {};
    let exp = T0 + (atSec + 3600) * 1000;
    if (i % 10 === 3) o = { status: 401, authError: 'invalid' };
    else if (i % 15 === 4) o = { status: 401, authError: 'expired' };
    else if (i % 20 === 5) {
      o = { status: 401, authError: 'expired' };
      exp = T0 + (at - 120) * 1000;
    } else if (i % 50 === 6) o = { latencyMs: null };
    const base = access(at, jti, { ...o, deployment: { service, version: 'v2', track: 'canary' }, latencyMs: o.latencyMs === null ? null : 5 + (i % 40) }, { exp });
    events.push(base.event as AccessEvent);
  }
  return events;
}

function suite(name: string, open: () => Promise<{ store: ClickHouseStore; dispose: () => Promise<void> }>): void {
  describe(name, () => {
    let store: ClickHouseStore;
    let dispose: () => Promise<void>;
    let client: ClickHouseClient;
    let fresh: MigrateResult;

    beforeAll(async () => {
      ({ store, dispose } = await open());
      client = store.client;
      fresh = await migrate(client, RETAIN, ctx());
    });
    afterAll(async () => {
      await store?.close();
      await dispose?.();
    });

    it('applies every migration on a fresh store, records each, and a re-run changes nothing', async () => {
      const names = loadMigrations().map((m) => m.name);
      expect(fresh.applied).toEqual(names);
      const again = await migrate(client, RETAIN, ctx());
      expect(again).toEqual({ applied: [], retentionChanged: [] });
      const recorded = await select<{ name: string }>(client, 'SELECT name FROM schema_migrations FINAL ORDER BY version');
      expect(recorded.map((r) => r.name)).toEqual(names);
      const tables = await select<{ name: string }>(client, 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name');
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['events', 'token_events', 'auth_minutely', 'auth_minutely_mv', 'token_minutely', 'token_lifecycles', 'findings', 'schema_migrations']),
      );
    });

    it('refuses a shipped migration whose text was edited', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tw-sql-'));
      for (const f of readdirSync(sqlDirectory()).filter((n) => n.endsWith('.sql'))) copyFileSync(join(sqlDirectory(), f), join(dir, f));
      writeFileSync(join(dir, '006_findings.sql'), '-- edited\nCREATE TABLE IF NOT EXISTS findings (id String) ENGINE = MergeTree ORDER BY id;\n');
      await expect(migrate(client, RETAIN, ctx(), loadMigrations(dir))).rejects.toMatchObject({
        code: 'TW_ERR_CLICKHOUSE_MIGRATION_CHANGED',
        message: expect.stringContaining('006_findings.sql was applied with a different text'),
      });
      rmSync(dir, { recursive: true, force: true });
    });

    it('sets the raw-event and the aggregate retention to the configured days, once', async () => {
      const engine = async (table: string): Promise<string> =>
        (await select<{ engine_full: string }>(client, `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '${table}'`))[0]!.engine_full;
      expect(await engine('auth_minutely')).toContain('TTL written_at + toIntervalDay(90)');
      expect((await migrate(client, { ...RETAIN, retentionDays: 14 }, ctx())).retentionChanged).toEqual(['events', 'token_events']);
      expect((await migrate(client, { ...RETAIN, retentionDays: 14 }, ctx())).retentionChanged).toEqual([]);
      expect(await engine('events')).toContain('TTL ingested_at + toIntervalDay(14)');
      expect((await migrate(client, { retentionDays: 14, aggregateRetentionDays: 400 }, ctx())).retentionChanged).toEqual(['auth_minutely', 'token_minutely']);
      expect(await engine('auth_minutely')).toContain('TTL written_at + toIntervalDay(400)');
      expect(await engine('token_minutely')).toContain('TTL written_at + toIntervalDay(400)');
      expect((await migrate(client, RETAIN, ctx())).retentionChanged).toEqual(['events', 'token_events', 'auth_minutely', 'token_minutely']);
    });

    it('expires an aggregate minute by when it was last written, not by its event time', async () => {
      // Requests of a year ago, analysed now: their minutes are far older than the retention, and must stay.
      const traffic = canaryTraffic('retention-svc', -365 * 86_400);
      await writeAll(client, EVENTS, traffic.map((e, i) => eventRow(e, { source: 'retention.log', offset: i })), { maxBatchRows: 300 });
      // A minute last written 91 days ago, kept while the retention is longer: a merge may run at
      // any time after the insert and drops what has expired, so the row only expires below.
      await migrate(client, { ...RETAIN, aggregateRetentionDays: 400 }, ctx());
      await client.command({
        query: `INSERT INTO auth_minutely (minute, service, version, track, route, status_class, auth_error, requests, failures, false_expiries, written_at)
                VALUES (toDateTime('2026-01-01 00:00:00', 'UTC'), 'retention-svc', 'v0', 'stable', '', '2xx', '', 7, 0, 0, now() - INTERVAL 91 DAY)`,
      });
      const rows = async (): Promise<Record<string, unknown>[]> =>
        select(client, "SELECT version, sum(requests) AS n, max(written_at) > now() - INTERVAL 1 HOUR AS recent FROM auth_minutely WHERE service = 'retention-svc' GROUP BY version ORDER BY version");
      expect((await rows()).map((r) => r.version)).toEqual(['v0', 'v2']);
      await migrate(client, RETAIN, ctx());
      // The new TTL is materialized by a mutation, and a merge cannot take parts it is rewriting.
      for (let i = 0; i < 200; i++) {
        const [pending] = await select(client, "SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND table = 'auth_minutely' AND NOT is_done");
        if (Number(pending!.n) === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // TTL deletes at merge time; FINAL forces the merge the engine would run in the background.
      await client.command({ query: 'OPTIMIZE TABLE auth_minutely FINAL' });
      expect((await rows()).map((r) => [r.version, Number(r.n), Number(r.recent)])).toEqual([['v2', traffic.length, 1]]);
    });

    it('stores every value of a row in its own column, whatever its text holds', async () => {
      // Rows travel as positional arrays with commas between them: values that look like those
      // delimiters, and null ones, must land in the column they were written for.
      const paths = ['/a],[b', '/c"],\n[', '/é 漢字 😀', '/\\"\u0001', '/plain'];
      const traffic = paths.map((path, i) => access(9000 + i, `text-tok-${i}`, { path, userAgent: i % 2 ? null : `ua "${i}"],[`, deployment: { service: 'text-svc', version: 'v1', track: 'stable' } }).event as AccessEvent);
      await writeAll(client, EVENTS, traffic.map((e, i) => eventRow(e, { source: 'text.log', offset: i })));
      const stored = await select<{ path: string; user_agent: string; jti: string; source_offset: string }>(client, "SELECT path, user_agent, jti, source_offset FROM events WHERE service = 'text-svc' ORDER BY source_offset");
      expect(stored.map((r) => r.path)).toEqual(paths);
      expect(stored.map((r) => r.jti)).toEqual(paths.map((_, i) => `text-tok-${i}`));
      expect(stored.map((r) => r.user_agent)).toEqual(paths.map((_, i) => (i % 2 ? '' : `ua "${i}"],[`)));
    });

    it('counts a replayed batch of requests once, in events and in the auth_minutely aggregates', async () => {
      const traffic = canaryTraffic('dedup-svc', 0);
      const rows = traffic.map((e, i) => eventRow(e, { source: 'dedup.log', offset: i }));
      const first = await writeAll(client, EVENTS, rows);
      const replay = await writeAll(client, EVENTS, rows);
      // A crash after the first batch was committed: the replay resumes at offset 100.
      const resumed = await writeAll(client, EVENTS, rows.slice(100));
      expect(first.map((b) => b.rows)).toEqual([100, 100, 100]);
      expect(replay.map((b) => b.token)).toEqual(first.map((b) => b.token));
      expect(resumed.map((b) => b.token)).toEqual(first.slice(1).map((b) => b.token));

      const [events] = await select(client, "SELECT count() AS n, uniqExact(source_offset) AS offsets FROM events WHERE service = 'dedup-svc'");
      expect(Number(events!.n)).toBe(300);
      expect(Number(events!.offsets)).toBe(300);

      // The expected aggregates, computed from the input without ClickHouse.
      const failures = traffic.filter((e) => e.authError === 'invalid' || isFalseExpiry(e)).length;
      const falseExpiries = traffic.filter((e) => isFalseExpiry(e)).length;
      expect(falseExpiries).toBeGreaterThan(0);
      expect(traffic.filter((e) => e.authError === 'expired').length).toBeGreaterThan(falseExpiries);
      const [agg] = await select(
        client,
        `SELECT sum(requests) AS requests, sum(failures) AS failures, sum(false_expiries) AS false_expiries, uniqMerge(tokens) AS tokens,
                countDistinct(minute) AS minutes
         FROM auth_minutely WHERE service = 'dedup-svc' AND version = 'v2' AND track = 'canary'`,
      );
      expect(Number(agg!.requests)).toBe(300);
      expect(Number(agg!.failures)).toBe(failures);
      expect(Number(agg!.false_expiries)).toBe(falseExpiries);
      expect(Number(agg!.tokens)).toBe(30);
      expect(Number(agg!.minutes)).toBe(5);
      const [byError] = await select(client, "SELECT sum(requests) AS n FROM auth_minutely WHERE service = 'dedup-svc' AND auth_error = 'expired' AND status_class = '4xx'");
      expect(Number(byError!.n)).toBe(traffic.filter((e) => e.authError === 'expired').length);
      const [latency] = await select<{ q: number[] }>(client, "SELECT quantilesTDigestMerge(0.5, 0.9, 0.99)(latency_ms) AS q FROM auth_minutely WHERE service = 'dedup-svc'");
      expect(latency!.q[0]).toBeGreaterThanOrEqual(5);
      expect(latency!.q[2]).toBeLessThanOrEqual(44);
    });

    it('counts a replayed batch of IdP events once, in token_events and in the per-minute token metrics', async () => {
      const base = 86_400; // a day after T0: this test's minutes are its own
      const events: TokenEvent[] = [];
      for (let i = 0; i < 10; i++) events.push(idp(base + i, 'issued', { tokenId: `idp-a${i}`, refreshTokenId: `rt-${i}`, sessionId: `s-${i}`, exp: T0 + (base + 7200) * 1000 }).event as TokenEvent);
      for (let i = 0; i < 4; i++) events.push(idp(base + 20 + i, 'refreshed', { tokenId: `idp-b${i}`, parentRefreshTokenId: `rt-${i}`, refreshTokenId: `rt2-${i}`, exp: T0 + (base + 7200) * 1000 }).event as TokenEvent);
      events.push(idp(base + 30, 'revoked', { tokenId: 'idp-a5' }).event as TokenEvent, idp(base + 31, 'logout', { sessionId: 's-6' }).event as TokenEvent);
      const rows = events.map((e, i) => tokenEventRow(e, { source: 'idp.jsonl', offset: i }));
      await writeAll(client, TOKEN_EVENTS, rows, { maxBatchRows: 7 });
      await writeAll(client, TOKEN_EVENTS, rows, { maxBatchRows: 7 });

      const [stored] = await select(client, "SELECT count() AS n FROM token_events WHERE source = 'idp.jsonl'");
      expect(Number(stored!.n)).toBe(16);
      const from = `toDateTime(${Math.floor(T0 / 1000) + base}, 'UTC')`;
      const [m] = await select(
        client,
        `SELECT uniqMerge(issued) AS issued, uniqMerge(refreshed) AS refreshed, uniqMerge(revoked) AS revoked FROM token_minutely WHERE minute >= ${from} AND minute < ${from} + INTERVAL 1 HOUR`,
      );
      expect({ issued: Number(m!.issued), refreshed: Number(m!.refreshed), revoked: Number(m!.revoked) }).toEqual({ issued: 10, refreshed: 4, revoked: 2 });
      const [expired] = await select(client, `SELECT uniqMerge(expired) AS expired FROM token_minutely WHERE minute = ${from} + INTERVAL 2 HOUR`);
      expect(Number(expired!.expired)).toBe(14);
    });

    it('retries an insert whose acknowledgement was lost without counting its rows twice', async () => {
      const traffic = canaryTraffic('retry-svc', 3600);
      const rows = traffic.map((e, i) => eventRow(e, { source: 'retry.log', offset: i }));
      const real = clickhouseInsert(client);
      let calls = 0;
      // First attempt lands and then "loses" its answer; the second fails before reaching
      // the table; the third is the retry ClickHouse must recognise and drop.
      const flaky: InsertFn = async (table, batch, token) => {
        calls++;
        if (calls === 1) {
          await real(table, batch, token);
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        if (calls === 2) throw Object.assign(new Error('Too many parts (300)'), { code: '252' });
        await real(table, batch, token);
      };
      const reports = await writeAll(client, EVENTS, rows, { insert: flaky, maxBatchRows: 300 });
      expect(reports.map((r) => r.attempts)).toEqual([3]);
      const [events] = await select(client, "SELECT count() AS n FROM events WHERE service = 'retry-svc'");
      const [agg] = await select(client, "SELECT sum(requests) AS n, uniqMerge(tokens) AS tokens FROM auth_minutely WHERE service = 'retry-svc'");
      expect(Number(events!.n)).toBe(300);
      expect(Number(agg!.n)).toBe(300);
      expect(Number(agg!.tokens)).toBe(30);
    });

    it('keeps the latest evidence of a finding, whatever order its versions arrive in', async () => {
      const id = findingId('token_replay', 'store-test');
      const version = (detectedAt: number, requests: number): Finding => ({
        id,
        kind: 'token_replay',
        severity: 'high',
        action: 'revoke',
        detectedAt: new Date(detectedAt).toISOString(),
        firstEventAt: new Date(T0).toISOString(),
        tokenFp: 'f'.repeat(32),
        jti: 'replayed-jti',
        summary: 'One token used from two networks at once.',
        evidence: { requests, networks: ['198.51.100.0/24', '203.0.113.0/24'] },
      });
      await writeAll(client, FINDINGS, [findingRow(version(T0 + 60_000, 10))]);
      await writeAll(client, FINDINGS, [findingRow(version(T0 + 120_000, 50))]);
      await writeAll(client, FINDINGS, [findingRow(version(T0 + 60_000, 10))]); // a late replay of the first version

      const raw = await select(client, `SELECT count() AS n FROM findings WHERE id = '${id}'`);
      expect(Number(raw[0]!.n)).toBe(2); // the replayed batch was dropped by its token
      const final = await select<{ evidence: string; detected_at: string }>(client, `SELECT evidence, detected_at FROM findings FINAL WHERE id = '${id}'`);
      expect(final).toHaveLength(1);
      expect(JSON.parse(final[0]!.evidence)).toMatchObject({ requests: 50 });
      const [latest] = await select<{ evidence: string }>(client, `SELECT argMax(evidence, detected_at) AS evidence FROM findings WHERE id = '${id}' GROUP BY id`);
      expect(JSON.parse(latest!.evidence)).toEqual({ requests: 50, networks: ['198.51.100.0/24', '203.0.113.0/24'] });
    });

    it('keeps one current row per token in token_lifecycles', async () => {
      const snapshot = (key: string, updatedAt: number, state: TokenLifecycle['state'], uses: number): TokenLifecycle => ({
        key,
        tokenFp: null,
        jti: key,
        sessionId: 'lifecycle-session',
        family: null,
        subject: 'user-1',
        clientId: 'web-app',
        state,
        issuedAt: T0,
        firstUseAt: T0 + 1000,
        lastUseAt: updatedAt,
        exp: T0 + 300_000,
        revokedAt: state === 'revoked' ? updatedAt : null,
        revokedBy: state === 'revoked' ? 'session' : null,
        uses,
        failures: 0,
        distinctClients: 1,
        updatedAt,
      });
      await writeAll(client, TOKEN_LIFECYCLES, [snapshot('lc-1', T0 + 1000, 'active', 1), snapshot('lc-2', T0 + 2000, 'active', 1)].map(lifecycleRow));
      await writeAll(client, TOKEN_LIFECYCLES, [lifecycleRow(snapshot('lc-1', T0 + 9000, 'revoked', 12))]);
      await writeAll(client, TOKEN_LIFECYCLES, [lifecycleRow(snapshot('lc-1', T0 + 5000, 'active', 7))]); // an older snapshot arriving late
      const rows = await select<{ token_key: string; state: string; uses: number; revoked_by: string }>(
        client,
        "SELECT token_key, state, uses, revoked_by FROM token_lifecycles FINAL WHERE session_id = 'lifecycle-session' ORDER BY token_key",
      );
      expect(rows.map((r) => ({ ...r, uses: Number(r.uses) }))).toEqual([
        { token_key: 'lc-1', state: 'revoked', uses: 12, revoked_by: 'session' },
        { token_key: 'lc-2', state: 'active', uses: 1, revoked_by: '' },
      ]);
    });
  });
}

suite('clickhouse store on chdb', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-store-'));
  const store = await openStore(connectionConfigSchema.parse({ store: dir }), ctx());
  return { store, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});

// The same suite against a ClickHouse server: CLICKHOUSE_URL, or a testcontainers container
// where Docker runs (test/helpers/clickhouse-server.ts); skipped on machines with neither.
describe.skipIf(!serverAvailable())('on a ClickHouse server', () => {
  suite('clickhouse store on a server', async () => {
    const server = await clickhouseServer();
    const base = connectionConfigSchema.parse({ url: server.url, username: server.username, password: server.password });
    const database = `tokenwatch_test_${process.pid}_${Date.now()}`;
    const admin = await openStore(base, ctx());
    await admin.client.command({ query: `CREATE DATABASE ${database}` });
    const store = await openStore({ ...base, database }, ctx());
    return {
      store,
      dispose: async () => {
        await admin.client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
        await admin.close();
        await server.stop();
      },
    };
  });
});
