// Shared timing for benchmarks: best of several rounds after a warm-up, since on a
// shared 2-core machine the minimum is the figure least disturbed by other work.

export interface BenchRow {
  name: string;
  records: number;
  perSecond: number;
  floorName: string;
  floorPerSecond: number;
}

/** Seconds of the fastest of `rounds` runs of `fn`, after one warm-up run. */
export function timeBest(fn: () => unknown, rounds = 5): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

/** A markdown table of rows with the ratio to their floor. */
export function table(rows: BenchRow[]): string {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const out = ['| benchmark | records | records/s | floor | floor records/s | ratio |', '|---|---:|---:|---|---:|---:|'];
  for (const r of rows) {
    out.push(`| ${r.name} | ${fmt(r.records)} | ${fmt(r.perSecond)} | ${r.floorName} | ${fmt(r.floorPerSecond)} | ${(r.perSecond / r.floorPerSecond).toFixed(2)} |`);
  }
  return out.join('\n');
}
