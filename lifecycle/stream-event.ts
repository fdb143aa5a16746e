// The one stream the lifecycle store and the detectors consume: gateway AccessEvents and
// IdP TokenEvents merged in event-time order.
import type { AccessEvent, TokenEvent } from '../ingest/model.js';

export type StreamEvent = { source: 'access'; event: AccessEvent } | { source: 'token'; event: TokenEvent };

/** The event time of a stream event, epoch ms. */
export const eventTime = (e: StreamEvent): number => e.event.ts;
