// The detection engine: StreamEvents in (any order within the allowed lateness), findings
// out. Orders events by event time, runs every detector on each event before the
// lifecycle store folds it in, ticks the detectors at each minute of stream time, applies
// the guardrails, and keeps the latest version of each finding by id.
import { z } from 'zod';
import type { Metrics } from '../common/metrics.js';
import { LifecycleStore, lifecycleConfigSchema } from '../lifecycle/store.js';
import type { StoreState } from '../lifecycle/store.js';
import { ReorderBuffer } from '../lifecycle/reorder.js';
import type { StreamEvent } from '../lifecycle/stream-event.js';
import type { Detector } from './detector.js';
import { Guardrails } from './guardrails.js';
import { createDetectors, detectorsConfigSchema } from './registry.js';
import type { Finding } from './finding.js';

export const analyzerConfigSchema = z
  .object({
    /** How far behind the newest event an event may arrive and still be ordered, ms. Default 30 s. */
    allowedLatenessMs: z.number().int().nonnegative().default(30_000),
    lifecycle: lifecycleConfigSchema.default(lifecycleConfigSchema.parse({})),
    detectors: detectorsConfigSchema.default(detectorsConfigSchema.parse({})),
  })
  .strict();
export type AnalyzerConfig = z.output<typeof analyzerConfigSchema>;

const MINUTE = 60_000;
// After a gap in the stream, tick at most this many empty minutes (a day), then jump.
const MAX_TICKS_PER_GAP = 1440;

/** Orders events, runs detectors and the store, collects findings. */
export class Analyzer {
  readonly store: LifecycleStore;
  private readonly detectors: Detector[];
  private readonly guardrails: Guardrails;
  private readonly reorder: ReorderBuffer;
  private readonly byId = new Map<string, Finding>();
  private lastTick = -Infinity;
  private readonly lateCounter: { value: number };
  /** Called with each finding when it is raised or updated (same id). */
  onFinding: ((f: Finding) => void) | null = null;
  /** Called with each event once the store has folded it in, before any eviction it allows. */
  onApplied: ((e: StreamEvent) => void) | null = null;
  /** Called at each minute boundary of stream time, after the detectors' ticks. */
  onTick: ((now: number) => void) | null = null;

  constructor(config: AnalyzerConfig, metrics: Metrics, restored?: StoreState) {
    this.store = new LifecycleStore(config.lifecycle, metrics, restored);
    this.detectors = createDetectors(config.detectors);
    this.guardrails = new Guardrails(config.detectors.guardrails);
    this.reorder = new ReorderBuffer(config.allowedLatenessMs);
    this.lateCounter = metrics.counter('tokenwatch_lifecycle_late_events_total');
  }

  /** Feeds one event. */
  push(e: StreamEvent): void {
    const lateBefore = this.reorder.late;
    this.reorder.add(e);
    this.lateCounter.value += this.reorder.late - lateBefore;
    for (let r = this.reorder.take(); r !== null; r = this.reorder.take()) this.process(r);
  }

  /** End of input: releases held events and ticks the final minute. */
  finish(): void {
    for (let r = this.reorder.take(Infinity); r !== null; r = this.reorder.take(Infinity)) this.process(r);
    if (Number.isFinite(this.lastTick)) this.tick(this.lastTick + MINUTE);
  }

  /** Every finding, latest version per id, by detection time then id. */
  findings(): Finding[] {
    return [...this.byId.values()].sort((a, b) => (a.detectedAt < b.detectedAt ? -1 : a.detectedAt > b.detectedAt ? 1 : a.id < b.id ? -1 : 1));
  }

  private process(e: StreamEvent): void {
    const ts = e.event.ts;
    const minute = Math.floor(ts / MINUTE) * MINUTE;
    if (!Number.isFinite(this.lastTick)) this.lastTick = minute;
    else if (minute > this.lastTick) {
      const from = Math.max(this.lastTick + MINUTE, minute - (MAX_TICKS_PER_GAP - 1) * MINUTE);
      for (let m = from; m <= minute; m += MINUTE) this.tick(m);
    }
    // Indexed loops: an iterator over each detector's answer was allocated per event (the call
    // site sees five detectors, too many for V8 to elide it), most of the analyzer's garbage.
    const detectors = this.detectors;
    for (let i = 0; i < detectors.length; i++) {
      const found = detectors[i]!.onEvent(e, this.store);
      for (let j = 0; j < found.length; j++) this.emit(found[j]!, ts);
    }
    this.store.apply(e);
    this.onApplied?.(e);
    this.store.advance(ts);
  }

  private tick(now: number): void {
    this.lastTick = now;
    for (const d of this.detectors) if (d.onTick) for (const f of d.onTick(now, this.store)) this.emit(f, now);
    this.onTick?.(now);
  }

  private emit(f: Finding, now: number): void {
    this.guardrails.apply(f, now);
    this.byId.set(f.id, f);
    this.onFinding?.(f);
  }
}
