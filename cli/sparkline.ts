// Terminal charts for reports: one line of block characters per series, every series of a
// chart on the same scale so a canary's line reads against stable's at a glance.

const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * `values` (one per time bucket) as block characters scaled to `max`: `·` where nothing
 * was measured, `_` for zero, so an idle minute and a clean one read differently.
 */
export function sparkline(values: ReadonlyArray<number | null>, max: number): string {
  let out = '';
  for (const v of values) {
    if (v === null) out += '·';
    else if (v <= 0 || max <= 0) out += '_';
    else out += BLOCKS[Math.max(0, Math.min(7, Math.ceil((v / max) * 8) - 1))];
  }
  return out;
}

/**
 * Buckets per-minute points into at most `width` columns over [from, to) (epoch ms, whole
 * minutes): each column combines its minutes with `combine`; null when none had a point.
 */
export function bucket<T>(points: ReadonlyArray<{ at: number; value: T }>, from: number, to: number, width: number, combine: (values: T[]) => number): Array<number | null> {
  const minutes = Math.max(1, Math.ceil((to - from) / 60_000));
  const columns = Math.min(width, minutes);
  const per = minutes / columns;
  const groups: T[][] = Array.from({ length: columns }, () => []);
  for (const p of points) {
    const i = Math.floor((p.at - from) / 60_000 / per);
    if (i >= 0 && i < columns) groups[i]!.push(p.value);
  }
  return groups.map((g) => (g.length === 0 ? null : combine(g)));
}
