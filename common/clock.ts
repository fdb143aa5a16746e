// Wall-clock access behind an interface, so components that need "now" (progress,
// metrics, sinks) can be driven by a fake clock in tests. Detectors use stream time only.

/** Source of wall time, injected through the component context. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
