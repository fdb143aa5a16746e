// Ingest throughput per gateway format and variant: generated traffic rendered in the
// format, then LineIngest (line checks, JSON.parse, detection, parsing, fingerprinting,
// claims, normalisation) against the floor (bench/floors.ts) over the same lines in the same run.
import { LineIngest } from '../ingest/line-ingest.js';
import { JsonShapes } from '../ingest/json-shapes.js';
import { AccessRecordParser } from '../ingest/parsers/registry.js';
import { Normalizer, ingestConfigSchema } from '../ingest/normalize.js';
import { Metrics } from '../common/metrics.js';
import { generateTraffic } from '../ingest/generator/traffic.js';
import { GATEWAY_RENDERERS } from '../ingest/generator/formats/index.js';
import { MemoryDlq } from '../ingest/dlq.js';
import { timePaired, type BenchRow } from './timing.js';
import { floorName, floorPass } from './floors.js';

const MAX_LINE = 1024 * 1024;

/** One row per format variant: records/s of ingest and of the floor, and their ratio. */
export function ingestBench(records: number): BenchRow[] {
  const traffic = generateTraffic({ users: 400, durationMs: Math.ceil(records / 400) * 2000 + 60_000, meanGapMs: 2000 });
  const requests = traffic.requests.slice(0, records);
  const rows: BenchRow[] = [];
  for (const renderer of GATEWAY_RENDERERS) {
    for (const variant of renderer.variants) {
      const lines = requests.map((r) => Buffer.from(renderer.render(r, variant)));
      const ingest = (): number => {
        const parser = new AccessRecordParser(new Normalizer(ingestConfigSchema.parse({}), 'bench-fingerprint-key-0123456789'), 'auto');
        const li = new LineIngest('access', parser, new MemoryDlq(), new Metrics(), MAX_LINE, new JsonShapes());
        let n = 0;
        for (let i = 0; i < lines.length; i++) n += li.line(lines[i]!, false, lines[i]!.length, { source: 'bench', line: i + 1 }).length;
        if (n !== lines.length) throw new Error(`${renderer.format}/${variant}: ${lines.length - n} records rejected`);
        return n;
      };
      const t = timePaired(ingest, () => floorPass(lines));
      rows.push({
        name: `ingest ${renderer.format}/${variant}`,
        records: lines.length,
        perSecond: lines.length / t.seconds,
        floorName: floorName(lines),
        floorPerSecond: lines.length / t.floorSeconds,
        ratio: t.ratio,
      });
    }
  }
  return rows;
}
