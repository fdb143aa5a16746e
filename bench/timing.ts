// Shared timing for benchmarks: a figure and its floor timed in turn after a warm-up; rates
// are the best rounds (least disturbed by other work on a shared 2-core machine), the ratio
// the median of the per-round ratios.
import { median } from 'simple-statistics';

export interface BenchRow {
  name: string;
  records: number;
  perSecond: number;
  floorName: string;
  floorPerSecond: number;
  /** Median of the per-round ratios of the figure's rate to its floor's rate. */
  ratio: number;
}

/** Seconds one run of `fn` takes. */
export function seconds(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A figure timed against its floor, in turn round by round. */
export interface Paired {
  /** Seconds of the figure's fastest round. */
  seconds: number;
  /** Seconds of the floor's fastest round. */
  floorSeconds: number;
  /** Median over rounds of floor seconds / figure seconds, i.e. the figure's rate over the floor's. */
  ratio: number;
}

/**
 * Times `fn` and `floor` in turn (fn, floor, fn, floor, ...) after one warm-up run of each. The
 * machine's speed drifts under other work: timing all of one and then all of the other measured
 * the same code of this project between 0.30 and 0.43 of its floor within minutes; a ratio taken
 * within each round sees both under the same load.
 */
export function timePaired(fn: () => unknown, floor: () => unknown, rounds = 5): Paired {
  fn();
  floor();
  const ratios: number[] = [];
  let best = Infinity;
  let bestFloor = Infinity;
  for (let i = 0; i < rounds; i++) {
    const a = seconds(fn);
    const b = seconds(floor);
    best = Math.min(best, a);
    bestFloor = Math.min(bestFloor, b);
    ratios.push(b / a);
  }
  return { seconds: best, floorSeconds: bestFloor, ratio: median(ratios) };
}

/** A markdown table of rows with the ratio to their floor. */
export function table(rows: BenchRow[]): string {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const out = ['| benchmark | records | records/s | floor | floor records/s | ratio |', '|---|---:|---:|---|---:|---:|'];
  for (const r of rows) {
    out.push(`| ${r.name} | ${fmt(r.records)} | ${fmt(r.perSecond)} | ${r.floorName} | ${fmt(r.floorPerSecond)} | ${r.ratio.toFixed(2)} |`);
  }
  return out.join('\n');
}
