/**
 * Accord's TypeScript SDK: the typed events of the contracts (`events`) and the `Tracker` that
 * sends them to the gateway.
 *
 * ```ts
 * import { Tracker, events } from "@accord/sdk";
 * const tracker = new Tracker({ endpoint: "https://events.example.com", writeKey });
 * tracker.track(events.pageView({ envelope: { anonymous_id: visitor }, url: location.href }));
 * ```
 */

export * as events from "./events.js";
export type { EventPayloads, Subject } from "./events.js";
export { backoffDelay, isRetryable, retryAfterMs } from "./retry.js";
export {
  DeliveryError,
  Tracker,
  type FlushResult,
  type PageHideTransport,
  type Rejection,
  type TrackerOptions,
} from "./tracker.js";
export { type AccordEvent, isCanonicalUuid, newEventId, rfc3339, toMillis, UUID_PATTERN } from "./values.js";
