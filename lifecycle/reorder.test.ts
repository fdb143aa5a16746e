import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from './reorder.js';
import { access } from '../test/helpers/events.js';

describe('ReorderBuffer', () => {
  it('releases events in event-time order once they are older than the lateness', () => {
    const r = new ReorderBuffer(30_000);
    const out = [40, 10, 20, 15, 80, 75].flatMap((s) => r.push(access(s, `t${s}`)));
    expect(out.map((e) => (e.event.ts - access(0, null).event.ts) / 1000)).toEqual([10, 15, 20, 40]);
    expect(r.drain().map((e) => (e.event.ts - access(0, null).event.ts) / 1000)).toEqual([75, 80]);
  });

  it('releases an event later than the lateness at once and counts it late', () => {
    const r = new ReorderBuffer(10_000);
    r.push(access(0, 'a'));
    r.push(access(60, 'b'));
    r.push(access(75, 'c'));
    expect(r.watermark).toBe(access(60, null).event.ts);
    expect(r.push(access(5, 'late')).map((e) => (e.source === 'access' ? e.event.requestId : null))).toEqual(['r-5-late']);
    expect(r.late).toBe(1);
  });

  it('keeps arrival order for equal times', () => {
    const r = new ReorderBuffer(0);
    const out = [r.push(access(1, 'x')), r.push(access(1, 'y')), r.drain()].flat();
    expect(out.map((e) => (e.source === 'access' ? e.event.requestId : null))).toEqual(['r-1-x', 'r-1-y']);
  });
});
