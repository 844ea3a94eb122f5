/**
 * What the generated event builders (`events.ts`) rely on: the event shape the tracker sends,
 * event ids and time values as the gateway's JSON API takes them.
 */

import { v7 as uuidv7 } from "uuid";

/** One event as `POST /v1/events` takes it in a JSON batch: its subject and its payload. */
export interface AccordEvent<S extends string = string, P extends object = object> {
  /** The registry subject (`events-accord.events.PageView`) or the record's full name. */
  schema: S;
  /** The registered version to validate against; the latest when left out. */
  version?: number;
  /** The event's fields as JSON: decimals as text, timestamps as epoch milliseconds. */
  payload: P;
}

/** Canonical UUID text, the only form the gateway takes as `envelope.event_id` (rule `invalid_uuid`). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `value` is a lower-case, hyphenated UUID. */
export function isCanonicalUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * A new event id: a UUID version 7 (RFC 9562), 48 bits of Unix milliseconds then random bits,
 * so ids made later sort after earlier ones within one client.
 */
export function newEventId(): string {
  return uuidv7();
}

/** Epoch milliseconds of a time given as a `Date` or already as epoch milliseconds. */
export function toMillis(value: Date | number): number {
  return value instanceof Date ? value.getTime() : value;
}

/** The same object with `convert` applied to every value (an Avro map's values). */
export function mapValues<T, U>(values: Record<string, T>, convert: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, convert(value)]));
}

/** A time as the gateway's `sent_at` takes it: RFC 3339 in UTC with milliseconds. */
export function rfc3339(millis: number): string {
  return new Date(millis).toISOString();
}
