// The detector contract: pure and deterministic over stream time. `onEvent` sees each
// event BEFORE the lifecycle store folds it in (so it compares the event with what was
// known before it); `onTick` runs when stream time crosses a minute. A detector keeps
// its own bounded aggregates where it needs them, driven by event time only.
import type { LifecycleStore } from '../lifecycle/store.js';
import type { StreamEvent } from '../lifecycle/stream-event.js';
import type { Finding } from './finding.js';

export interface Detector {
  readonly kind: Finding['kind'];
  /** Findings raised (or updated, same id) by one event. */
  onEvent(event: StreamEvent, store: LifecycleStore): Finding[];
  /** Findings raised when stream time reaches `now` (a minute boundary). */
  onTick?(now: number, store: LifecycleStore): Finding[];
}
