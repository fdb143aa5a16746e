// In-process counters with bounded labels, rendered in the Prometheus text format.
// Labels must be bounded enums (formats, reasons): never a fingerprint, subject or IP.

export type Labels = Readonly<Record<string, string>>;

/** A registry of monotonically increasing counters. */
export class Metrics {
  private readonly counters = new Map<string, { name: string; labels: Labels; value: number }>();

  /** Adds `by` (default 1) to the counter `name` with `labels`. */
  inc(name: string, labels: Labels = {}, by = 1): void {
    this.counter(name, labels).value += by;
  }

  /** The counter `name` with `labels`, for hot paths that increment it per event without a lookup. */
  counter(name: string, labels: Labels = {}): { value: number } {
    const key = `${name}|${labelText(labels)}`;
    let counter = this.counters.get(key);
    if (!counter) this.counters.set(key, (counter = { name, labels, value: 0 }));
    return counter;
  }

  /** Current value of one counter; 0 when never incremented. */
  get(name: string, labels: Labels = {}): number {
    return this.counters.get(`${name}|${labelText(labels)}`)?.value ?? 0;
  }

  /** Every counter named `name`, with its labels. */
  series(name: string): Array<{ labels: Labels; value: number }> {
    return [...this.counters.values()].filter((c) => c.name === name).map(({ labels, value }) => ({ labels, value }));
  }

  /** Prometheus text exposition of every counter. */
  render(): string {
    const lines: string[] = [];
    const byName = new Map<string, string[]>();
    for (const c of this.counters.values()) {
      const rows = byName.get(c.name) ?? [];
      const labels = labelText(c.labels);
      rows.push(`${c.name}${labels ? `{${labels}}` : ''} ${c.value}`);
      byName.set(c.name, rows);
    }
    for (const [name, rows] of byName) lines.push(`# TYPE ${name} counter`, ...rows);
    return lines.join('\n') + '\n';
  }
}

function labelText(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, '_')}"`)
    .join(',');
}
