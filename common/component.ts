// Shapes shared by every pipeline component: the injected context and the lifecycle.
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Clock } from './clock.js';

/** What every component's `create(config, ctx)` receives; never imported globally. */
export interface ComponentContext {
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
}

/** Explicit lifecycle: `stop()` is safe before `start()`, safe twice, flushes and honours a deadline. */
export interface Lifecycle {
  start(): Promise<void>;
  stop(deadlineMs?: number): Promise<void>;
}
