// Event-time ordering across sources: the IdP and the gateways deliver slightly out of
// order. Events are held up to `allowedLatenessMs` behind the newest event time seen and
// released in time order. An event older than what was already released (later than the
// lateness allows) is released at once rather than dropped, and counted as late: a late
// revocation still revokes, it just cannot change findings already emitted.
import type { StreamEvent } from './stream-event.js';

export class ReorderBuffer {
  private heap: StreamEvent[] = [];
  private seq: number[] = [];
  private counter = 0;
  private maxSeen = -Infinity;
  /** Event time of the last released event. */
  watermark = -Infinity;
  late = 0;

  constructor(private readonly allowedLatenessMs: number) {}

  /** Adds an event; returns the events now safe to release, in event-time order. */
  push(e: StreamEvent, out: StreamEvent[] = []): StreamEvent[] {
    if (e.event.ts < this.watermark) {
      this.late++;
      out.push(e);
      return out;
    }
    this.insert(e);
    if (e.event.ts > this.maxSeen) this.maxSeen = e.event.ts;
    const until = this.maxSeen - this.allowedLatenessMs;
    while (this.heap.length > 0 && this.heap[0]!.event.ts <= until) out.push(this.take());
    return out;
  }

  /** Releases everything held, in order (end of input). */
  drain(out: StreamEvent[] = []): StreamEvent[] {
    while (this.heap.length > 0) out.push(this.take());
    return out;
  }

  get held(): number {
    return this.heap.length;
  }

  // Ties keep arrival order (the sequence number), so a replay is deterministic.
  private less(a: number, b: number): boolean {
    const ta = this.heap[a]!.event.ts;
    const tb = this.heap[b]!.event.ts;
    return ta < tb || (ta === tb && this.seq[a]! < this.seq[b]!);
  }

  private swap(a: number, b: number): void {
    [this.heap[a], this.heap[b]] = [this.heap[b]!, this.heap[a]!];
    [this.seq[a], this.seq[b]] = [this.seq[b]!, this.seq[a]!];
  }

  private insert(e: StreamEvent): void {
    this.heap.push(e);
    this.seq.push(this.counter++);
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private take(): StreamEvent {
    const top = this.heap[0]!;
    const last = this.heap.length - 1;
    this.swap(0, last);
    this.heap.pop();
    this.seq.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && this.less(l, m)) m = l;
      if (r < this.heap.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    this.watermark = Math.max(this.watermark, top.event.ts);
    return top;
  }
}
