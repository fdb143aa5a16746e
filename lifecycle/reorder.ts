// Event-time ordering across sources: the IdP and the gateways deliver slightly out of
// order. Events are held up to `allowedLatenessMs` behind the newest event time seen and
// released in time order. An event older than what was already released (later than the
// lateness allows) is released at once rather than dropped, and counted as late: a late
// revocation still revokes, it just cannot change findings already emitted.
import type { StreamEvent } from './stream-event.js';
import type { AccessEvent, TokenEvent } from '../ingest/model.js';

const INITIAL = 1024;

/**
 * Holds events and releases them in (event time, arrival) order. Nearly every event arrives no
 * earlier than the one before it, so those queue in arrival order in a ring (append and release
 * O(1), no sifting); only the ones that arrive out of order go through a binary heap, and
 * release takes the smaller head of the two. Times, arrival numbers and sources sit in typed
 * arrays beside the events, so comparing never reaches into the event objects; and the buffer
 * holds the events alone, not the StreamEvents they came in: release wraps each in a new one,
 * so the held event is the only object of it the release has to fetch from memory.
 */
export class ReorderBuffer {
  // The in-order run: a ring sorted by (ts, seq), since each append is at least the last ts.
  private ring: Array<Held | undefined> = new Array<Held | undefined>(INITIAL);
  private ringTs = new Float64Array(INITIAL);
  private ringSeq = new Float64Array(INITIAL);
  private ringSource = new Uint8Array(INITIAL);
  private ringHead = 0;
  private ringSize = 0;
  // The out-of-order arrivals: a min-heap by (ts, seq).
  private heap: Held[] = [];
  private heapTs = new Float64Array(INITIAL);
  private heapSeq = new Float64Array(INITIAL);
  private heapSource = new Uint8Array(INITIAL);
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
    const source = e.source === 'access' ? ACCESS : TOKEN;
    if (this.ringSize === 0 || ts >= this.ringTs[(this.ringHead + this.ringSize - 1) & mask]!) this.append(e.event, source, ts, seq);
    else this.insert(e.event, source, ts, seq);
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

  private append(e: Held, source: number, ts: number, seq: number): void {
    if (this.ringSize === this.ring.length) this.growRing();
    const i = (this.ringHead + this.ringSize) & (this.ring.length - 1);
    this.ring[i] = e;
    this.ringTs[i] = ts;
    this.ringSeq[i] = seq;
    this.ringSource[i] = source;
    this.ringSize++;
  }

  private shift(): StreamEvent {
    const i = this.ringHead;
    const e = this.ring[i]!;
    // Drop the reference: a released event must not outlive its processing here.
    this.ring[i] = undefined;
    this.ringHead = (i + 1) & (this.ring.length - 1);
    this.ringSize--;
    return wrap(e, this.ringSource[i]!);
  }

  private growRing(): void {
    const n = this.ring.length;
    const ring = new Array<Held | undefined>(n * 2);
    const ts = new Float64Array(n * 2);
    const seq = new Float64Array(n * 2);
    const source = new Uint8Array(n * 2);
    for (let k = 0; k < this.ringSize; k++) {
      const i = (this.ringHead + k) & (n - 1);
      ring[k] = this.ring[i];
      ts[k] = this.ringTs[i]!;
      seq[k] = this.ringSeq[i]!;
      source[k] = this.ringSource[i]!;
    }
    this.ring = ring;
    this.ringTs = ts;
    this.ringSeq = seq;
    this.ringSource = source;
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
    const o = this.heapSource[a]!;
    this.heapSource[a] = this.heapSource[b]!;
    this.heapSource[b] = o;
  }

  private insert(e: Held, source: number, ts: number, seq: number): void {
    let i = this.heap.length;
    if (i === this.heapTs.length) {
      const t = new Float64Array(i * 2);
      t.set(this.heapTs);
      this.heapTs = t;
      const s = new Float64Array(i * 2);
      s.set(this.heapSeq);
      this.heapSeq = s;
      const o = new Uint8Array(i * 2);
      o.set(this.heapSource);
      this.heapSource = o;
    }
    this.heap.push(e);
    this.heapTs[i] = ts;
    this.heapSeq[i] = seq;
    this.heapSource[i] = source;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private pop(): StreamEvent {
    const top = wrap(this.heap[0]!, this.heapSource[0]!);
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

type Held = AccessEvent | TokenEvent;
const ACCESS = 0;
const TOKEN = 1;

const wrap = (event: Held, source: number): StreamEvent =>
  source === ACCESS ? { source: 'access', event: event as AccessEvent } : { source: 'token', event: event as TokenEvent };
