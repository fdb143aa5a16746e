// Analyze throughput end to end on one core: generated scenario traffic (anomalies and
// look-alikes included) rendered in a gateway format, plus its IdP events, through line
// checks, parsing, normalising, event-time ordering, the lifecycle store and every
// detector; beside the floor (bench/floors.ts) over the same lines in the same run.
import { LineIngest } from '../ingest/line-ingest.js';
import { JsonShapes } from '../ingest/json-shapes.js';
import { AccessRecordParser, TokenEventRecordParser } from '../ingest/parsers/registry.js';
import { Normalizer, ingestConfigSchema } from '../ingest/normalize.js';
import { Metrics } from '../common/metrics.js';
import { generateScenario } from '../ingest/generator/scenarios.js';
import { GATEWAY_RENDERERS } from '../ingest/generator/formats/index.js';
import { MemoryDlq } from '../ingest/dlq.js';
import { Analyzer, analyzerConfigSchema } from '../detectors/analyzer.js';
import type { AccessEvent, TokenEvent } from '../ingest/model.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { timePaired, type BenchRow } from './timing.js';
import { floorName, floorPass } from './floors.js';

const MAX_LINE = 1024 * 1024;

/** One row per gateway format: events/s through analyze against JSON.parse alone. */
export function analyzeBench(minutes: number, formats: Array<[string, string]>): BenchRow[] {
  const scenario = generateScenario({ traffic: { durationMs: minutes * 60_000, users: 400 } });
  const idpLines = scenario.tokenEvents.map((e) => Buffer.from(JSON.stringify(e)));
  const rows: BenchRow[] = [];
  for (const [format, variant] of formats) {
    const renderer = GATEWAY_RENDERERS.find((r) => r.format === format)!;
    const lines = scenario.requests.map((r) => Buffer.from(renderer.render(r, variant)));
    const all = [...lines, ...idpLines];
    const run = (): number => {
      const metrics = new Metrics();
      const access = new LineIngest<AccessEvent>('access', new AccessRecordParser(new Normalizer(ingestConfigSchema.parse({}), 'bench-fingerprint-key-0123456789'), 'auto'), new MemoryDlq(), metrics, MAX_LINE, new JsonShapes());
      const idp = new LineIngest<TokenEvent>('token_events', new TokenEventRecordParser('auto'), new MemoryDlq(), metrics, MAX_LINE);
      const analyzer = new Analyzer(analyzerConfigSchema.parse(process.env.BENCH_LATENESS ? { allowedLatenessMs: Number(process.env.BENCH_LATENESS) } : {}), metrics);
      // Merge by time as analyze does: both inputs are in time order.
      const tokenEvents = idpLines.flatMap((l, i) => idp.line(l, false, l.length, { source: 'idp', line: i + 1 }));
      let t = 0;
      let n = 0;
      for (let i = 0; i < lines.length; i++) {
        for (const event of access.line(lines[i]!, false, lines[i]!.length, { source: 'bench', line: i + 1 })) {
          while (t < tokenEvents.length && tokenEvents[t]!.ts <= event.ts) analyzer.push({ source: 'token', event: tokenEvents[t++]! });
          analyzer.push({ source: 'access', event });
          n++;
        }
      }
      while (t < tokenEvents.length) analyzer.push({ source: 'token', event: tokenEvents[t++]! });
      analyzer.finish();
      if (analyzer.findings().length === 0) throw new Error('analyze bench: no findings, the scenario did not run');
      return n + t;
    };
    const t = timePaired(run, () => floorPass(all), 5);
    rows.push({ name: `analyze ${format}/${variant}`, records: all.length, perSecond: all.length / t.seconds, floorName: floorName(lines), floorPerSecond: all.length / t.floorSeconds, ratio: t.ratio });
  }
  return rows;
}

/**
 * analyzeBench with each format in a node process of its own (same flags), as a user's analyze
 * runs over one format: after other formats, the shared call sites (parser, normaliser, shape
 * decoder) would be polymorphic, which no single-format run is.
 */
export function analyzeBenchIsolated(minutes: number, formats: Array<[string, string]>): BenchRow[] {
  const self = fileURLToPath(import.meta.url);
  // The heap flags `npm run bench` starts node with, and nothing else (an --eval would run again).
  const flags = process.execArgv.filter((a) => a.startsWith('--max-semi-space-size'));
  return formats.map(([format, variant]) => {
    const out = execFileSync(process.execPath, [...flags, self, format, variant, String(minutes)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out) as BenchRow;
  });
}

// One row, printed as JSON: `node dist/bench/analyze.bench.js <format> <variant> <minutes>`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [format, variant, minutes] = process.argv.slice(2);
  process.stdout.write(JSON.stringify(analyzeBench(Number(minutes), [[format!, variant!]])[0]));
}
