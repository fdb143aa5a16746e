// `tokenwatch analyze`: the main job on the embedded default. Reads gateway logs and IdP
// events from files (plain, gzip or stdin), merges them in event-time order, rebuilds every
// token's lifecycle, runs the detectors, writes one Finding JSON per line to --out and a
// summary for humans to stderr (with a progress line on a terminal). Unless --no-store, it
// also keeps the events, per-minute aggregates, lifecycles and findings in ClickHouse: the
// embedded engine under --store (TOKENWATCH_STORE, default .tokenwatch/store), or the
// server CLICKHOUSE_URL names; the schema is migrated first.
import { parseArgs } from 'node:util';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ComponentContext } from '../common/component.js';
import { TokenwatchError } from '../common/errors.js';
import { openInput, readLines } from '../ingest/sources/file.js';
import { FileDlq, type DlqSink } from '../ingest/dlq.js';
import { JsonShapes } from '../ingest/json-shapes.js';
import { LineIngest, type RecordParser } from '../ingest/line-ingest.js';
import type { AccessEvent, TokenEvent } from '../ingest/model.js';
import type { StreamEvent } from '../lifecycle/stream-event.js';
import { Analyzer } from '../detectors/analyzer.js';
import { saveCheckpoint, loadCheckpoint } from '../lifecycle/checkpoint.js';
import { ingestSetup } from './ingest-setup.js';
import { Progress } from './progress.js';
import { summaryTable } from './summary.js';
import { openStore, storeConnectionConfig, type ClickHouseStore } from '../sinks/clickhouse/connection.js';
import { migrate } from '../sinks/clickhouse/migrate.js';
import { AnalysisSink } from '../sinks/clickhouse/analysis-sink.js';
import type { FileConfig } from './ingest-setup.js';

export const ANALYZE_USAGE = `usage: tokenwatch analyze --logs <file> [--logs <file> ...] [--token-events <file> ...]
                          [--format auto|<gateway>] [--idp-format auto|<idp>] [--out <file>|-] [--dlq <file>]
                          [--store <dir> | --no-store] [--config <file.json>] [--jwks <file>] [--dry-run] [--checkpoint <file>] [--restore <file>] [--dev]`;

interface Source {
  events: AsyncIterator<StreamEvent>;
  head: StreamEvent | null;
}

/** Runs `tokenwatch analyze`; resolves to the exit code. */
export async function analyzeCommand(argv: string[], ctx: ComponentContext, stdout: Writable, stderr: NodeJS.WriteStream): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      logs: { type: 'string', multiple: true, default: [] },
      'token-events': { type: 'string', multiple: true, default: [] },
      format: { type: 'string', default: 'auto' },
      'idp-format': { type: 'string', default: 'auto' },
      out: { type: 'string', default: '-' },
      dlq: { type: 'string' },
      config: { type: 'string' },
      jwks: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      checkpoint: { type: 'string' },
      restore: { type: 'string' },
      store: { type: 'string' },
      'no-store': { type: 'boolean', default: false },
      dev: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const logs = values.logs!;
  const tokenFiles = values['token-events']!;
  if (logs.length === 0 && tokenFiles.length === 0) throw new TokenwatchError('TW_ERR_CLI_USAGE', `give at least one --logs or --token-events file\n${ANALYZE_USAGE}`);
  const setup = ingestSetup(
    { dev: values.dev!, config: values.config, jwks: values.jwks, format: values.format!, idpFormat: values['idp-format']! },
    process.env,
    ctx.logger,
  );
  const base = setup.config.analyzer;
  const config = values['dry-run'] ? { ...base, detectors: { ...base.detectors, guardrails: { ...base.detectors.guardrails, dryRun: true } } } : base;
  const restored = values.restore ? await loadCheckpoint(values.restore) : undefined;
  const analyzer = new Analyzer(config, ctx.metrics, restored);
  if (values.store !== undefined && values['no-store']) throw new TokenwatchError('TW_ERR_CLI_USAGE', `--store and --no-store exclude each other\n${ANALYZE_USAGE}`);
  const store = values['no-store'] ? null : await openAnalysisStore(values.store, setup.config.store, ctx);
  try {
    const sink = store === null ? null : new AnalysisSink(store, analyzer, setup.config.store.sink, ctx);
    const dlq: DlqSink = values.dlq ? new FileDlq(values.dlq) : { write: () => {}, stop: async () => {} };
    const progress = new Progress(stderr, ctx.clock);
    const sources: Source[] = [];
    const read = { dlq, ctx, maxLineBytes: setup.config.maxLineBytes, progress, sink };
    for (const file of logs) sources.push(await source(file, 'access', setup.access, read));
    for (const file of tokenFiles) sources.push(await source(file, 'token', setup.tokenEvents, read));
    ctx.logger.info({ logs, tokenEvents: tokenFiles, dryRun: config.detectors.guardrails.dryRun, store: store?.target ?? null }, 'analyze started');
    await sink?.start();

    // k-way merge by event time: each file is close to time order, the analyzer's reorder
    // buffer absorbs the rest within the allowed lateness.
    for (const s of sources) s.head = await next(s);
    let events = 0;
    for (;;) {
      let best: Source | null = null;
      for (const s of sources) if (s.head && (!best || s.head.event.ts < best.head!.event.ts)) best = s;
      if (!best) break;
      analyzer.push(best.head!);
      events++;
      if (sink?.due) await sink.drain();
      best.head = await next(best);
    }
    analyzer.finish();
    sink?.finish();
    await sink?.stop();
    progress.done();
    await dlq.stop();
    if (values.checkpoint) await saveCheckpoint(values.checkpoint, analyzer.store.state);

    const findings = analyzer.findings();
    const out = values.out === '-' ? stdout : createWriteStream(values.out!);
    for (const f of findings) if (!out.write(JSON.stringify(f) + '\n')) await once(out, 'drain');
    if (out !== stdout) {
      out.end();
      await once(out, 'finish');
    }
    stderr.write(summaryTable(findings, events, ctx.metrics) + '\n');
    if (store !== null) stderr.write(`stored in ${store.target}: see \`tokenwatch report${store.mode === 'embedded' ? ` --store ${store.target}` : ''}\`\n`);
    ctx.logger.info({ events, findings: findings.length, trackedTokens: analyzer.store.size }, 'analyze finished');
    return 0;
  } finally {
    await store?.close();
  }
}

/** Opens the store analyze writes to and brings its schema up to date. */
async function openAnalysisStore(dir: string | undefined, config: FileConfig['store'], ctx: ComponentContext): Promise<ClickHouseStore> {
  const store = await openStore(storeConnectionConfig(process.env, dir), ctx);
  try {
    await migrate(store.client, config, ctx);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

interface ReadContext {
  dlq: DlqSink;
  ctx: ComponentContext;
  maxLineBytes: number;
  progress: Progress;
  sink: AnalysisSink | null;
}

async function next(s: Source): Promise<StreamEvent | null> {
  const r = await s.events.next();
  return r.done ? null : r.value;
}

async function source(file: string, kind: 'access' | 'token', parser: RecordParser<AccessEvent> | RecordParser<TokenEvent>, read: ReadContext): Promise<Source> {
  const { dlq, ctx, maxLineBytes, progress, sink } = read;
  const { stream, size } = await openInput(file);
  // Gateway logs repeat one flat JSON shape per log format; IdP events are fewer and nested.
  const shapes = kind === 'access' ? new JsonShapes() : null;
  const ingest = new LineIngest<AccessEvent | TokenEvent>(kind === 'access' ? 'access' : 'token_events', parser as RecordParser<AccessEvent | TokenEvent>, dlq, ctx.metrics, maxLineBytes, shapes);
  const track = progress.track(file, size);
  async function* events(): AsyncGenerator<StreamEvent> {
    for await (const line of readLines(stream, maxLineBytes)) {
      track(line.offset + line.length + 1);
      for (const event of ingest.line(line.bytes, line.truncated, line.length, { source: file, line: line.line })) {
        sink?.read(event, { source: file, offset: line.line });
        yield kind === 'access' ? { source: 'access', event: event as AccessEvent } : { source: 'token', event: event as TokenEvent };
      }
    }
  }
  return { events: events(), head: null };
}
