// Ingest throughput per gateway format and variant: generated traffic rendered in the
// format, then LineIngest (line checks, JSON.parse, detection, parsing, fingerprinting,
// claims, normalisation) against the floor over the same lines in the same run:
// JSON.parse alone for JSON formats; for text formats, the least any text parser must do:
// split the line into its fields (whitespace, "quoted" and [bracketed] runs) with one regex.
import { LineIngest } from '../ingest/line-ingest.js';
import { AccessRecordParser } from '../ingest/parsers/registry.js';
import { Normalizer, ingestConfigSchema } from '../ingest/normalize.js';
import { Metrics } from '../common/metrics.js';
import { generateTraffic } from '../ingest/generator/traffic.js';
import { GATEWAY_RENDERERS } from '../ingest/generator/formats/index.js';
import { MemoryDlq } from '../ingest/dlq.js';
import { timeBest, type BenchRow } from './timing.js';

const MAX_LINE = 1024 * 1024;

/** One row per format variant: records/s of ingest and of the floor, and their ratio. */
export function ingestBench(records: number): BenchRow[] {
  const traffic = generateTraffic({ users: 400, durationMs: Math.ceil(records / 400) * 2000 + 60_000, meanGapMs: 2000 });
  const requests = traffic.requests.slice(0, records);
  const rows: BenchRow[] = [];
  for (const renderer of GATEWAY_RENDERERS) {
    for (const variant of renderer.variants) {
      const lines = requests.map((r) => Buffer.from(renderer.render(r, variant)));
      const json = lines[0]![0] === 0x7b;
      const floor = json ? () => floorJson(lines) : () => floorText(lines);
      const ingest = (): number => {
        const parser = new AccessRecordParser(new Normalizer(ingestConfigSchema.parse({}), 'bench-fingerprint-key-0123456789'), 'auto');
        const li = new LineIngest('access', parser, new MemoryDlq(), new Metrics(), MAX_LINE);
        let n = 0;
        for (let i = 0; i < lines.length; i++) n += li.line(lines[i]!, false, lines[i]!.length, { source: 'bench', line: i + 1 }).length;
        if (n !== lines.length) throw new Error(`${renderer.format}/${variant}: ${lines.length - n} records rejected`);
        return n;
      };
      const a = timeBest(ingest);
      const b = timeBest(floor);
      rows.push({
        name: `ingest ${renderer.format}/${variant}`,
        records: lines.length,
        perSecond: lines.length / a,
        floorName: json ? 'JSON.parse only' : 'field split only',
        floorPerSecond: lines.length / b,
      });
    }
  }
  return rows;
}

function floorJson(lines: Buffer[]): number {
  let n = 0;
  for (const l of lines) if (JSON.parse(l.toString('utf8')) !== null) n++;
  return n;
}

const FIELD = /"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S+/g;

function floorText(lines: Buffer[]): number {
  let n = 0;
  for (const l of lines) n += (l.toString('utf8').match(FIELD)?.length ?? 0) > 0 ? 1 : 0;
  return n;
}
