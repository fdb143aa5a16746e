// Event-time ordering across sources: the IdP and the gateways deliver slightly out of
// order. Events are held up to `allowedLatenessMs` behind the newest event time seen and
// released in time order. An event older than what was already released (later than the
// lateness allows) is released at once rather than dropped, and counted as late: a late
// revocation still revokes, it just cannot change findings already emitted.
import type { StreamEvent } from './stream-event.js';

const INITIAL = 1024;

/**
 * Holds events and releases them in (event time, arrival) order. Nearly every event arrives no
 * earlier than the one before it, so those queue in arrival order in a ring (append and release
 * O(1), no sifting); only the ones that arrive out of order go through a binary heap, and
 * release takes the smaller head of the two. Times and arrival numbers sit in typed arrays
 * beside the events, so comparing never reaches into the event objects.
 */
export class ReorderBuffer {
  // The in-order run: a ring sorted by (ts, seq), since each append is at least the last ts.
  private ring: Array<StreamEvent | undefined> = new Array<StreamEvent | undefined>(INITIAL);
  private ringTs = new Float64Array(INITIAL);
  private ringSeq = new Float64Array(INITIAL);
  private ringHead = 0;
  private ringSize = 0;
  // The out-of-order arrivals: a min-heap by (ts, seq).
  private heap: StreamEvent[] = [];
  private heapTs = new Float64Array(INITIAL);
  private heapSeq = new Float64Array(INITIAL);
  // Events later than the lateness allows, released at once (see add).
  private readonly lateEvents: StreamEvent[] = [];
  private counter = 0;
  private maxSeen = -Infinity;
  /** Event time of the last released event. */
  watermark = -Infinity;
  late = 0;

  constructor(private readonly allowedLatenessMs: number) {}

  /** Adds an event without releasing any: take() then returns those now safe to release, one at a time. */
  add(e: StreamEvent): void {
    const ts = e.event.ts;
    if (ts < this.watermark) {
      this.late++;
      // Nothing new is due behind a late event (the watermark has not moved): it is taken next.
      this.lateEvents.push(e);
      return;
    }
    const seq = this.counter++;
    const mask = this.ringTs.length - 1;
    if (this.ringSize === 0 || ts >= this.ringTs[(this.ringHead + this.ringSize - 1) & mask]!) this.append(e, ts, seq);
    else this.insert(e, ts, seq);
    if (ts > this.maxSeen) this.maxSeen = ts;
  }

  /**
   * The next event safe to release (event time at most `until`, by default the lateness behind
   * the newest; Infinity releases everything held at the end of input), or null.
   */
  take(until = this.maxSeen - this.allowedLatenessMs): StreamEvent | null {
    if (this.lateEvents.length > 0) return this.lateEvents.shift()!;
    const fromRing = this.ringSize > 0;
    const fromHeap = this.heap.length > 0;
    if (!fromRing && !fromHeap) return null;
    let ring = fromRing;
    if (fromRing && fromHeap) {
      const rt = this.ringTs[this.ringHead]!;
      const ht = this.heapTs[0]!;
      ring = rt < ht || (rt === ht && this.ringSeq[this.ringHead]! < this.heapSeq[0]!);
    }
    const ts = ring ? this.ringTs[this.ringHead]! : this.heapTs[0]!;
    if (ts > until) return null;
    if (ts > this.watermark) this.watermark = ts;
    return ring ? this.shift() : this.pop();
  }

  get held(): number {
    return this.ringSize + this.heap.length + this.lateEvents.length;
  }

  private append(e: StreamEvent, ts: number, seq: number): void {
    if (this.ringSize === this.ring.length) this.growRing();
    const i = (this.ringHead + this.ringSize) & (this.ring.length - 1);
    this.ring[i] = e;
    this.ringTs[i] = ts;
    this.ringSeq[i] = seq;
    this.ringSize++;
  }

  private shift(): StreamEvent {
    const e = this.ring[this.ringHead]!;
    // Drop the reference: a released event must not outlive its processing here.
    this.ring[this.ringHead] = undefined;
    this.ringHead = (this.ringHead + 1) & (this.ring.length - 1);
    this.ringSize--;
    return e;
  }

  private growRing(): void {
    const n = this.ring.length;
    const ring = new Array<StreamEvent | undefined>(n * 2);
    const ts = new Float64Array(n * 2);
    const seq = new Float64Array(n * 2);
    for (let k = 0; k < this.ringSize; k++) {
      const i = (this.ringHead + k) & (n - 1);
      ring[k] = this.ring[i];
      ts[k] = this.ringTs[i]!;
      seq[k] = this.ringSeq[i]!;
    }
    this.ring = ring;
    this.ringTs = ts;
    this.ringSeq = seq;
    this.ringHead = 0;
  }

  // Ties keep arrival order (the sequence number), so a replay is deterministic.
  private less(a: number, b: number): boolean {
    const ta = this.heapTs[a]!;
    const tb = this.heapTs[b]!;
    return ta < tb || (ta === tb && this.heapSeq[a]! < this.heapSeq[b]!);
  }

  private swap(a: number, b: number): void {
    const e = this.heap[a]!;
    this.heap[a] = this.heap[b]!;
    this.heap[b] = e;
    const t = this.heapTs[a]!;
    this.heapTs[a] = this.heapTs[b]!;
    this.heapTs[b] = t;
    const s = this.heapSeq[a]!;
    this.heapSeq[a] = this.heapSeq[b]!;
    this.heapSeq[b] = s;
  }

  private insert(e: StreamEvent, ts: number, seq: number): void {
    let i = this.heap.length;
    if (i === this.heapTs.length) {
      const t = new Float64Array(i * 2);
      t.set(this.heapTs);
      this.heapTs = t;
      const s = new Float64Array(i * 2);
      s.set(this.heapSeq);
      this.heapSeq = s;
    }
    this.heap.push(e);
    this.heapTs[i] = ts;
    this.heapSeq[i] = seq;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private pop(): StreamEvent {
    const top = this.heap[0]!;
    const last = this.heap.length - 1;
    this.swap(0, last);
    this.heap.pop();
    const size = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && this.less(l, m)) m = l;
      if (r < size && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
