import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from './reorder.js';
import { access } from '../test/helpers/events.js';
import type { StreamEvent } from './stream-event.js';

// Adds one event and collects what it releases, or (drain) everything held at the end.
function releasedBy(r: ReorderBuffer, e: StreamEvent): StreamEvent[] {
  r.add(e);
  const out: StreamEvent[] = [];
  for (let x = r.take(); x !== null; x = r.take()) out.push(x);
  return out;
}

function drain(r: ReorderBuffer): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let x = r.take(Infinity); x !== null; x = r.take(Infinity)) out.push(x);
  return out;
}

describe('ReorderBuffer', () => {
  it('releases events in event-time order once they are older than the lateness', () => {
    const r = new ReorderBuffer(30_000);
    const out = [40, 10, 20, 15, 80, 75].flatMap((s) => releasedBy(r, access(s, `t${s}`)));
    expect(out.map((e) => (e.event.ts - access(0, null).event.ts) / 1000)).toEqual([10, 15, 20, 40]);
    expect(drain(r).map((e) => (e.event.ts - access(0, null).event.ts) / 1000)).toEqual([75, 80]);
  });

  it('releases an event later than the lateness at once and counts it late', () => {
    const r = new ReorderBuffer(10_000);
    releasedBy(r, access(0, 'a'));
    releasedBy(r, access(60, 'b'));
    releasedBy(r, access(75, 'c'));
    expect(r.watermark).toBe(access(60, null).event.ts);
    expect(releasedBy(r, access(5, 'late')).map((e) => (e.source === 'access' ? e.event.requestId : null))).toEqual(['r-5-late']);
    expect(r.late).toBe(1);
  });

  it('keeps arrival order for equal times', () => {
    const r = new ReorderBuffer(0);
    const out = [releasedBy(r, access(1, 'x')), releasedBy(r, access(1, 'y')), drain(r)].flat();
    expect(out.map((e) => (e.source === 'access' ? e.event.requestId : null))).toEqual(['r-1-x', 'r-1-y']);
  });
});

describe('ReorderBuffer against a stable sort', () => {
  // The ring (in-order arrivals) and the heap (the rest) must release exactly what one sorted
  // queue would: by event time, ties in arrival order, whatever mix of in-order and late input.
  it('releases in (time, arrival) order for every mix of in-order and out-of-order arrivals', () => {
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 30; round++) {
      const lateness = [0, 5_000, 30_000][round % 3]!;
      const r = new ReorderBuffer(lateness);
      const pushed: Array<{ ts: number; id: string }> = [];
      const out: string[] = [];
      let clock = 0;
      for (let i = 0; i < 3000; i++) {
        clock += Math.floor(random() * 3);
        // Mostly in order, some a little behind, a few far behind (late).
        const behind = random() < 0.8 ? 0 : random() < 0.9 ? Math.floor(random() * 40) : Math.floor(random() * 200);
        const at = Math.max(0, clock - behind) / 10;
        const e = access(at, `e${i}`);
        for (const x of releasedBy(r, e)) out.push((x.event as { requestId: string }).requestId);
        pushed.push({ ts: e.event.ts, id: (e.event as { requestId: string }).requestId });
      }
      for (const x of drain(r)) out.push((x.event as { requestId: string }).requestId);
      expect(out).toHaveLength(pushed.length);
      const reference = replay(pushed, lateness);
      expect(out).toEqual(reference);
    }
  });
});

// The buffer's contract with a plain array kept sorted by (time, arrival).
function replay(events: Array<{ ts: number; id: string }>, lateness: number): string[] {
  const held: Array<{ ts: number; id: string; seq: number }> = [];
  const out: string[] = [];
  let watermark = -Infinity;
  let maxSeen = -Infinity;
  events.forEach((e, seq) => {
    if (e.ts < watermark) {
      out.push(e.id);
      return;
    }
    let at = held.length;
    while (at > 0 && held[at - 1]!.ts > e.ts) at--;
    held.splice(at, 0, { ...e, seq });
    maxSeen = Math.max(maxSeen, e.ts);
    while (held.length > 0 && held[0]!.ts <= maxSeen - lateness) {
      const x = held.shift()!;
      watermark = Math.max(watermark, x.ts);
      out.push(x.id);
    }
  });
  for (const x of held) out.push(x.id);
  return out;
}
