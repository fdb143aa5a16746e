// What storing costs (issue 5): analyze end to end on one core with the embedded
// ClickHouse store (events, token events, lifecycles, findings, and the materialized views
// behind them) beside the same analyze without a store, over the same scenario lines;
// event rows/s through the writer alone into chdb; and the write amplification, ClickHouse
// rows inserted (tables and view targets, from the engine's InsertedRows counter) per input
// event. Every round writes under its own source name, so insert deduplication of an
// earlier round's identical batches cannot flatter the figure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineIngest } from '../ingest/line-ingest.js';
import { JsonShapes } from '../ingest/json-shapes.js';
import { AccessRecordParser, TokenEventRecordParser } from '../ingest/parsers/registry.js';
import { Normalizer, ingestConfigSchema } from '../ingest/normalize.js';
import { Metrics } from '../common/metrics.js';
import { createLogger } from '../common/logger.js';
import { systemClock } from '../common/clock.js';
import type { ComponentContext } from '../common/component.js';
import { generateScenario } from '../ingest/generator/scenarios.js';
import { GATEWAY_RENDERERS } from '../ingest/generator/formats/index.js';
import { MemoryDlq } from '../ingest/dlq.js';
import { Analyzer, analyzerConfigSchema } from '../detectors/analyzer.js';
import type { AccessEvent, TokenEvent } from '../ingest/model.js';
import { connectionConfigSchema, openStore, type ClickHouseStore } from '../sinks/clickhouse/connection.js';
import { migrate, migrateConfigSchema } from '../sinks/clickhouse/migrate.js';
import { AnalysisSink, analysisSinkConfigSchema } from '../sinks/clickhouse/analysis-sink.js';
import { clickhouseInsert, createClickHouseWriter, writerConfigSchema } from '../sinks/clickhouse/writer.js';
import { EVENTS, eventRow, type EventRow } from '../sinks/clickhouse/rows.js';
import { median } from 'simple-statistics';
import { floorPass } from './floors.js';
import { seconds } from './timing.js';

const MAX_LINE = 1024 * 1024;

export interface StoreBenchResult {
  events: number;
  /** Events/s of analyze without a store and with the embedded store (best round each). */
  withoutStore: number;
  withStore: number;
  /** Records/s of the JSON.parse-only floor over the same lines (best round), and the median per-round ratio of analyze with the store to it. */
  floorPerSecond: number;
  storeToFloor: number;
  /** Event rows/s through the writer alone (rows built beforehand), views included. */
  writerRowsPerSecond: number;
  /** ClickHouse rows inserted per input event, tables and view targets together, and per table kind. */
  amplification: number;
  insertedRows: number;
}

/** Runs the store benchmark over `minutes` of scenario traffic in `format`/`variant`. */
export async function storeBench(minutes: number, format: string, variant: string, rounds = 3): Promise<StoreBenchResult> {
  const scenario = generateScenario({ traffic: { durationMs: minutes * 60_000, users: 400 } });
  const renderer = GATEWAY_RENDERERS.find((r) => r.format === format)!;
  const lines = scenario.requests.map((r) => Buffer.from(renderer.render(r, variant)));
  const idpLines = scenario.tokenEvents.map((e) => Buffer.from(JSON.stringify(e)));
  const dir = mkdtempSync(join(tmpdir(), 'tw-store-bench-'));
  const ctx: ComponentContext = { logger: createLogger({ level: 'silent' }), metrics: new Metrics(), clock: systemClock };
  const store = await openStore(connectionConfigSchema.parse({ store: dir }), ctx);
  try {
    await migrate(store.client, migrateConfigSchema.parse({}), ctx);
    let round = 0;
    const run = async (withStore: boolean): Promise<number> => {
      round++;
      const t0 = process.hrtime.bigint();
      const n = await analyzeOnce(lines, idpLines, withStore ? store : null, `r${round}`, ctx);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      return n / seconds;
    };
    await run(false);
    const before = await insertedRows(store);
    const events = await analyzeOnce(lines, idpLines, store, 'warm-up', ctx);
    const insertedRowsPerRun = (await insertedRows(store)) - before;
    let withoutStore = 0;
    let withStore = 0;
    let floorPerSecond = 0;
    const toFloor: number[] = [];
    const all = [...lines, ...idpLines];
    // Alternated, so all three see the same machine load.
    for (let i = 0; i < rounds; i++) {
      withoutStore = Math.max(withoutStore, await run(false));
      const stored = await run(true);
      withStore = Math.max(withStore, stored);
      const floor = all.length / seconds(() => floorPass(all));
      floorPerSecond = Math.max(floorPerSecond, floor);
      toFloor.push(stored / floor);
    }
    const writerRowsPerSecond = await writerOnly(lines, store, ctx, rounds);
    return { events, withoutStore, withStore, floorPerSecond, storeToFloor: median(toFloor), writerRowsPerSecond, amplification: insertedRowsPerRun / events, insertedRows: insertedRowsPerRun };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function analyzeOnce(lines: Buffer[], idpLines: Buffer[], store: ClickHouseStore | null, tag: string, ctx: ComponentContext): Promise<number> {
  const metrics = new Metrics();
  const access = new LineIngest<AccessEvent>('access', new AccessRecordParser(new Normalizer(ingestConfigSchema.parse({}), 'bench-fingerprint-key-0123456789'), 'auto'), new MemoryDlq(), metrics, MAX_LINE, new JsonShapes());
  const idp = new LineIngest<TokenEvent>('token_events', new TokenEventRecordParser('auto'), new MemoryDlq(), metrics, MAX_LINE);
  const analyzer = new Analyzer(analyzerConfigSchema.parse({}), metrics);
  const sink = store === null ? null : new AnalysisSink(store, analyzer, analysisSinkConfigSchema.parse({ writer: writerConfigSchema.parse({ maxBatchDelayMs: 0 }) }), { ...ctx, metrics });
  await sink?.start();
  const accessSource = `access-${tag}`;
  const idpSource = `idp-${tag}`;
  const tokenEvents: Array<{ event: TokenEvent; line: number }> = [];
  idpLines.forEach((l, i) => {
    for (const event of idp.line(l, false, l.length, { source: idpSource, line: i + 1 })) tokenEvents.push({ event, line: i + 1 });
  });
  let t = 0;
  let n = 0;
  const pushIdp = (): void => {
    const { event, line } = tokenEvents[t++]!;
    sink?.read(event, { source: idpSource, offset: line });
    analyzer.push({ source: 'token', event });
  };
  for (let i = 0; i < lines.length; i++) {
    for (const event of access.line(lines[i]!, false, lines[i]!.length, { source: accessSource, line: i + 1 })) {
      while (t < tokenEvents.length && tokenEvents[t]!.event.ts <= event.ts) pushIdp();
      sink?.read(event, { source: accessSource, offset: i + 1 });
      analyzer.push({ source: 'access', event });
      n++;
      if (sink?.due) await sink.drain();
    }
  }
  while (t < tokenEvents.length) pushIdp();
  analyzer.finish();
  sink?.finish();
  await sink?.stop();
  if (analyzer.findings().length === 0) throw new Error('store bench: no findings, the scenario did not run');
  return n + t;
}

// The event rows of the lines, built beforehand, through one writer: chdb's share alone.
async function writerOnly(lines: Buffer[], store: ClickHouseStore, ctx: ComponentContext, rounds: number): Promise<number> {
  const access = new LineIngest<AccessEvent>('access', new AccessRecordParser(new Normalizer(ingestConfigSchema.parse({}), 'bench-fingerprint-key-0123456789'), 'auto'), new MemoryDlq(), new Metrics(), MAX_LINE, new JsonShapes());
  const events = lines.flatMap((l, i) => access.line(l, false, l.length, { source: 'w', line: i + 1 }));
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const rows: EventRow[] = events.map((e, i) => eventRow(e, { source: `writer-${r}`, offset: i + 1 }));
    const writer = createClickHouseWriter({ maxBatchDelayMs: 0 }, ctx, { spec: EVENTS, insert: clickhouseInsert(store.client) });
    const t0 = process.hrtime.bigint();
    await writer.start();
    await writer.write(rows);
    await writer.stop();
    best = Math.max(best, rows.length / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return best;
}

async function insertedRows(store: ClickHouseStore): Promise<number> {
  const rs = await store.client.query({ query: "SELECT value FROM system.events WHERE event = 'InsertedRows' SETTINGS output_format_json_quote_64bit_integers = 0", format: 'JSONEachRow' });
  const [row] = await rs.json<{ value: number }>();
  return Number(row?.value ?? 0);
}
