// `tokenwatch analyze --store` over `tokenwatch gen` output, through the real CLI into the
// embedded engine, then the store is read back and checked against counts made here, from
// the generator's own requests (ground truth) and from `tokenwatch parse` of the same files
// (the canonical events, counted in the test, not by ClickHouse): the auth_minutely
// aggregates, each event stored once, one current lifecycle row per token, one row per
// finding id. Then the same analyze runs again into the same store (a replay after a crash)
// and nothing may be counted twice, in the tables or in the materialized views. Finally
// `tokenwatch report` reads the store, as text and as JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { runCli } from '../helpers/cli.js';
import { TEST_FP_KEY } from '../helpers/ingest.js';
import { createLogger } from '../../common/logger.js';
import { accessEventSchema, tokenEventSchema, type AccessEvent, type TokenEvent } from '../../ingest/model.js';
import { findingSchema, type Finding } from '../../detectors/finding.js';
import { generateScenario } from '../../ingest/generator/scenarios.js';
import { connectionConfigSchema, openStore, type ClickHouseStore } from '../../sinks/clickhouse/connection.js';

const env = { TOKENWATCH_FP_KEY: TEST_FP_KEY };
const MINUTES = 12;
const SEED = 11;
const USERS = 60;
const SKEW_MS = 60_000;

const minuteOf = (ts: number): string => new Date(Math.floor(ts / 60_000) * 60_000).toISOString().slice(0, 16);
const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

function jsonLines<T>(text: string, parse: (v: unknown) => T): T[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => parse(JSON.parse(l)));
}

async function select<T>(client: ClickHouseClient, sql: string): Promise<T[]> {
  const rs = await client.query({ query: `${sql} SETTINGS output_format_json_quote_64bit_integers = 0`, format: 'JSONEachRow' });
  return rs.json<T>();
}

function countBy<T>(items: readonly T[], key: (x: T) => string, weight: (x: T) => number = () => 1): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) {
    const w = weight(x);
    if (w !== 0) m.set(key(x), (m.get(key(x)) ?? 0) + w);
  }
  return m;
}

const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

describe('analyze --store, then the store read back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-store-e2e-'));
  const storeDir = join(dir, 'store');
  const logs = join(dir, 'access.log');
  const idp = join(dir, 'token-events.jsonl');
  let access: AccessEvent[];
  let tokenEvents: TokenEvent[];
  let findings: Finding[];
  let secondFindings: Finding[];
  let first: Record<string, unknown>;
  let store: ClickHouseStore;

  const analyze = (): Finding[] => {
    const a = runCli(['analyze', '--logs', logs, '--token-events', idp, '--store', storeDir], { env });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toContain(`stored in ${storeDir}`);
    return jsonLines(a.stdout, (v) => findingSchema.parse(v));
  };

  // What the store holds, for comparing the first run with the replay.
  const snapshot = async (client: ClickHouseClient): Promise<Record<string, unknown>> => ({
    events: await select(client, 'SELECT count() AS n, sum(status) AS s FROM events'),
    tokenEvents: await select(client, 'SELECT count() AS n FROM token_events'),
    auth: await select(client, 'SELECT sum(requests) AS r, sum(failures) AS f, sum(false_expiries) AS x, uniqMerge(tokens) AS t FROM auth_minutely'),
    tokens: await select(client, 'SELECT uniqMerge(issued) AS i, uniqMerge(refreshed) AS r, uniqMerge(expired) AS e, uniqMerge(revoked) AS v FROM token_minutely'),
    lifecycles: await select(client, 'SELECT count() AS n, sum(uses) AS u FROM token_lifecycles FINAL'),
    findings: await select(client, 'SELECT count() AS n FROM findings FINAL'),
  });

  beforeAll(async () => {
    const gen = runCli(['gen', '--out-dir', dir, '--format', 'kong', '--minutes', String(MINUTES), '--users', String(USERS), '--seed', String(SEED)], { env });
    expect(gen.code, gen.stderr).toBe(0);
    const parsedAccess = runCli(['parse', '--logs', logs], { env });
    expect(parsedAccess.code, parsedAccess.stderr).toBe(0);
    access = jsonLines(parsedAccess.stdout, (v) => accessEventSchema.parse(v));
    const parsedIdp = runCli(['parse', '--token-events', idp], { env });
    expect(parsedIdp.code, parsedIdp.stderr).toBe(0);
    tokenEvents = jsonLines(parsedIdp.stdout, (v) => tokenEventSchema.parse(v));

    findings = analyze();
    store = await openStore(connectionConfigSchema.parse({ store: storeDir }), { logger: createLogger({ level: 'silent' }) });
    first = await snapshot(store.client);
    await store.close();
    secondFindings = analyze();
    store = await openStore(connectionConfigSchema.parse({ store: storeDir }), { logger: createLogger({ level: 'silent' }) });
  }, 240_000);

  afterAll(async () => {
    await store?.close();
  });

  it('read every generated request (the baseline the other checks count from)', () => {
    const scenario = generateScenario({ traffic: { seed: SEED, users: USERS, durationMs: MINUTES * 60_000 } });
    expect(access.length).toBe(scenario.requests.length);
    expect(access.length).toBeGreaterThan(5000);
    expect(findings.length).toBeGreaterThan(0);
  });

  it('auth_minutely holds the generator’s requests per minute, service and status class', async () => {
    const scenario = generateScenario({ traffic: { seed: SEED, users: USERS, durationMs: MINUTES * 60_000 } });
    const expected = countBy(scenario.requests, (r) => `${minuteOf(r.ts)} ${r.service} ${statusClass(r.status)}`);
    const rows = await select<{ minute: string; service: string; status_class: string; n: number }>(
      store.client,
      'SELECT formatDateTime(minute, \'%Y-%m-%dT%H:%i\') AS minute, service, status_class, sum(requests) AS n FROM auth_minutely GROUP BY minute, service, status_class',
    );
    expect(sorted(new Map(rows.map((r) => [`${r.minute} ${r.service} ${r.status_class}`, Number(r.n)])))).toEqual(sorted(expected));
  });

  it('auth_minutely failures, false expiries and tokens equal the counts over the parsed events', async () => {
    // The exp an IdP announced, for tokens whose claims carry none (keyed like the store).
    const announced = new Map<string, number>();
    for (const e of tokenEvents) if (e.tokenId !== null && e.exp !== null) announced.set(e.tokenId, e.exp);
    const falseExpiry = (e: AccessEvent): boolean => {
      if (e.authError !== 'expired') return false;
      const exp = e.claims?.exp ?? announced.get(e.claims?.jti ?? e.tokenFp ?? '') ?? null;
      return exp !== null && exp - e.ts > SKEW_MS;
    };
    const failure = (e: AccessEvent): boolean => e.authError === 'invalid' || e.authError === 'malformed' || e.authError === 'missing' || falseExpiry(e);
    const key = (e: AccessEvent): string => `${minuteOf(e.ts)} ${e.deployment.service ?? ''} ${e.deployment.version ?? ''} ${e.deployment.track ?? ''} ${e.authError ?? ''}`;
    const rows = await select<{ k: string; r: number; f: number; x: number; t: number }>(
      store.client,
      "SELECT concat(formatDateTime(minute, '%Y-%m-%dT%H:%i'), ' ', service, ' ', version, ' ', track, ' ', auth_error) AS k, sum(requests) AS r, sum(failures) AS f, sum(false_expiries) AS x, uniqMerge(tokens) AS t FROM auth_minutely GROUP BY k",
    );
    const got = (pick: (r: (typeof rows)[number]) => number): Array<[string, number]> => sorted(new Map(rows.filter((r) => pick(r) !== 0).map((r) => [r.k, Number(pick(r))])));
    expect(got((r) => r.r)).toEqual(sorted(countBy(access, key)));
    expect(got((r) => r.f)).toEqual(sorted(countBy(access, key, (e) => (failure(e) ? 1 : 0))));
    expect(got((r) => r.x)).toEqual(sorted(countBy(access, key, (e) => (falseExpiry(e) ? 1 : 0))));
    // The canary regression of the scenario rejects valid tokens as expired: false expiries are there to count.
    expect(access.filter(falseExpiry).length).toBeGreaterThan(20);
    expect(access.filter(failure).length).toBeGreaterThan(access.filter(falseExpiry).length);
    // uniq is exact below 65536 distinct values per state.
    const tokens = new Map<string, Set<string>>();
    for (const e of access) if (e.tokenFp !== null) tokens.set(key(e), (tokens.get(key(e)) ?? new Set()).add(e.tokenFp));
    expect(got((r) => r.t)).toEqual(sorted(new Map([...tokens].map(([k, s]) => [k, s.size]))));
  });

  it('events and token_events hold each input event once', async () => {
    const [events] = await select<{ n: number; lines: number; ids: number }>(store.client, 'SELECT count() AS n, uniqExact(source, source_offset) AS lines, uniqExact(request_id) AS ids FROM events');
    expect(Number(events!.n)).toBe(access.length);
    expect(Number(events!.lines)).toBe(access.length);
    expect(Number(events!.ids)).toBe(new Set(access.map((e) => e.requestId)).size);
    const [idpRows] = await select<{ n: number }>(store.client, 'SELECT count() AS n FROM token_events');
    expect(Number(idpRows!.n)).toBe(tokenEvents.length);
    const leaked = await select<{ n: number }>(store.client, "SELECT count() AS n FROM events WHERE position(token_fp, '.') > 0 OR length(token_fp) NOT IN (0, 32)");
    expect(Number(leaked[0]!.n)).toBe(0);
  });

  it('stores no raw token nor any JWT signature, in any table', async () => {
    const scenario = generateScenario({ traffic: { seed: SEED, users: USERS, durationMs: MINUTES * 60_000 } });
    const secrets = new Set<string>();
    for (const r of scenario.requests) {
      if (r.rawToken === null) continue;
      secrets.add(r.rawToken);
      const signature = r.rawToken.split('.')[2];
      if (signature !== undefined && signature.length >= 16) secrets.add(signature);
    }
    expect(secrets.size).toBeGreaterThan(100);
    for (const table of ['events', 'token_events', 'token_lifecycles', 'findings', 'schema_migrations']) {
      const rs = await store.client.query({ query: `SELECT * FROM ${table}`, format: 'JSONEachRow' });
      const dump = await rs.text();
      expect(dump.length, table).toBeGreaterThan(0);
      const leaked = [...secrets].filter((t) => dump.includes(t));
      expect(leaked.length, `${table} holds ${leaked.length} raw tokens or signatures`).toBe(0);
    }
  });

  it('token_lifecycles has exactly one current row per token, the tokens of the input', async () => {
    const keys = new Set<string>();
    for (const e of access) {
      const k = e.claims?.jti ?? e.tokenFp;
      if (k !== null) keys.add(k);
    }
    for (const e of tokenEvents) if (e.tokenId !== null && (e.type === 'issued' || e.type === 'refreshed' || e.type === 'revoked')) keys.add(e.tokenId);
    const rows = await select<{ token_key: string; uses: number; state: string }>(store.client, 'SELECT token_key, uses, state FROM token_lifecycles FINAL');
    expect(rows.length).toBe(new Set(rows.map((r) => r.token_key)).size);
    expect(new Set(rows.map((r) => r.token_key))).toEqual(keys);
    // Uses add up to the requests that carried a token.
    expect(rows.reduce((a, r) => a + Number(r.uses), 0)).toBe(access.filter((e) => (e.claims?.jti ?? e.tokenFp) !== null).length);
    expect(new Set(rows.map((r) => r.state))).toContain('revoked');
  });

  it('findings has one row per finding id, the latest version of each', async () => {
    const rows = await select<{ id: string; detected_at: string; severity: string }>(store.client, 'SELECT id, detected_at, severity FROM findings FINAL');
    expect(rows.length).toBe(findings.length);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(findings.map((f) => f.id)));
    for (const f of findings) {
      const row = rows.find((r) => r.id === f.id)!;
      expect(Date.parse(row.detected_at.replace(' ', 'T') + 'Z')).toBe(Date.parse(f.detectedAt));
      expect(row.severity).toBe(f.severity);
    }
  });

  it('a second run of the same input into the same store counts nothing twice', async () => {
    expect(secondFindings.map((f) => f.id)).toEqual(findings.map((f) => f.id));
    expect(await snapshot(store.client)).toEqual(first);
  });

  it('report reads the store: findings by kind, rates per version, tokens per minute, a token timeline', async () => {
    await store.close();
    const jti = findings.find((f) => f.kind === 'token_replay')!.jti!;
    const text = runCli(['report', '--store', storeDir, '--since', '2h', '--token', jti], { env });
    expect(text.code, text.stderr).toBe(0);
    for (const heading of ['Findings by kind and severity', 'Auth failures and false expiries per service version', 'Tokens per minute', `Token ${jti}`]) expect(text.stdout).toContain(heading);
    expect(text.stdout).toContain('token_replay');
    const json = runCli(['report', '--store', storeDir, '--since', '2h', '--token', jti, '--json'], { env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { findingsByKind: Array<{ findings: number }>; authRates: Array<{ requests: number }>; tokensPerMinute: unknown[]; token: { lifecycle: Array<{ jti: string }>; timeline: Array<{ source: string }> } };
    expect(report.findingsByKind.reduce((a, f) => a + f.findings, 0)).toBe(findings.length);
    expect(report.authRates.reduce((a, r) => a + r.requests, 0)).toBe(access.length);
    expect(report.tokensPerMinute.length).toBeGreaterThan(0);
    expect(report.token.lifecycle.map((l) => l.jti)).toEqual([jti]);
    expect(new Set(report.token.timeline.map((e) => e.source))).toEqual(new Set(['idp', 'gateway', 'finding']));
    store = await openStore(connectionConfigSchema.parse({ store: storeDir }), { logger: createLogger({ level: 'silent' }) });
  });
});
