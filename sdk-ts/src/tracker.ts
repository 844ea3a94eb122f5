/**
 * The tracker: queues events, sends them in JSON batches to the gateway's `POST /v1/events`,
 * retries what may succeed later and reports every event the gateway refused.
 *
 * Retries resend the same events with the same event ids, so the gateway's deduplication keeps
 * each event once even when an answer was lost. In a browser, whatever is queued when the page
 * is hidden or unloaded is sent at once with a request that outlives the page.
 */

import { onPageHide } from "./pagehide.js";
import { backoffDelay, isRetryable, retryAfterMs } from "./retry.js";
import { type AccordEvent, rfc3339 } from "./values.js";

/** Content-Type of a JSON batch. */
export const JSON_MEDIA_TYPE = "application/json";
/** Content-Type of a beacon body: the one a beacon may send without a CORS preflight. */
export const BEACON_MEDIA_TYPE = "text/plain";
/** The SDK's own code for events dropped because the queue was full. */
export const QUEUE_FULL = "queue_full";
/** The SDK's own code for a batch given up after its retries. */
export const GAVE_UP = "gave_up";

/** An event the gateway refused, with the gateway's error code and the field at fault. */
export interface Rejection {
  event: AccordEvent;
  /** `envelope.event_id` as the gateway read it, when it could. */
  eventId: string | null;
  /** The gateway's error code, e.g. `missing_identity`, `decimal_out_of_range`. */
  code: string;
  /** The path of the field at fault, e.g. `envelope.user_id`, when the code names one. */
  field: string | null;
  message: string;
}

/** A batch that was not delivered: a request-level refusal (4xx), or retries that ran out. */
export class DeliveryError extends Error {
  /** The gateway's error code (`invalid_write_key`, `body_too_large`, ...), or `gave_up` / `queue_full`. */
  readonly code: string;
  /** The HTTP status of the last answer, null when none came. */
  readonly status: number | null;
  /** The events that were not delivered. */
  readonly events: AccordEvent[];

  constructor(code: string, message: string, status: number | null, events: AccordEvent[]) {
    super(message);
    this.name = "DeliveryError";
    this.code = code;
    this.status = status;
    this.events = events;
  }
}

/** How the queue is sent when the page is hidden. */
export type PageHideTransport = "keepalive" | "beacon" | "off";

/** What a tracker is configured with; only `endpoint` and `writeKey` are required. */
export interface TrackerOptions {
  /** Base URL of the gateway, e.g. `https://events.example.com`. */
  endpoint: string;
  /** The write key, sent as `Authorization: Bearer <key>`. */
  writeKey: string;
  /** Events per request (at most the gateway's batch limit). Default 20. */
  batchSize?: number;
  /** How long an event may wait for its batch to fill before it is sent. Default 2000 ms. */
  flushIntervalMs?: number;
  /** Events held at most while the gateway is unreachable; the oldest are dropped beyond. Default 10000. */
  maxQueue?: number;
  /** Retries of a batch after the first attempt before it is given up. Default 5. */
  maxRetries?: number;
  /** First backoff delay. Default 500 ms. */
  backoffBaseMs?: number;
  /** Longest backoff delay (a `Retry-After` may ask for longer). Default 30000 ms. */
  backoffMaxMs?: number;
  /**
   * On page hide: `keepalive` (default) sends the queue with `fetch(..., {keepalive: true})`,
   * which carries the write key in its header; `beacon` uses `navigator.sendBeacon` with a
   * `text/plain` body holding `writeKey` (the field the gateway reads on such bodies); `off` does nothing.
   */
  pageHide?: PageHideTransport;
  /** Called once for every event the gateway refused (HTTP 207 or 422). */
  onRejected?: (rejection: Rejection) => void;
  /** Called once for every batch that was not delivered. */
  onError?: (error: DeliveryError) => void;
  /** The fetch to send with; the global one by default. */
  fetch?: typeof fetch;
  /** The clock, in epoch milliseconds; `Date.now` by default. */
  now?: () => number;
  /** How to wait between retries; a timer by default. */
  sleep?: (ms: number) => Promise<void>;
}

/** What one flush did with the events it sent. */
export interface FlushResult {
  /** Events the gateway accepted, duplicates included. */
  accepted: number;
  /** Of those, events it had already accepted before (same event id). */
  duplicates: number;
  /** Events it refused. */
  rejected: Rejection[];
  /** Events not delivered (see `onError`). */
  failed: number;
}

/** One entry of the answer's `rejected` list. */
interface RejectedEntry {
  index: number;
  event_id?: string | null;
  code: string;
  field?: string | null;
  message: string;
}

/** The gateway's answer: per-event results (200/207/422) or a request-level `error`. */
interface GatewayAnswer {
  accepted?: number;
  duplicates?: number;
  rejected?: RejectedEntry[];
  error?: { code: string; message: string };
}

const NO_RESULT: FlushResult = { accepted: 0, duplicates: 0, rejected: [], failed: 0 };

/** Sends events to an Accord gateway; see the module documentation. */
export class Tracker {
  private readonly options: Required<Omit<TrackerOptions, "onRejected" | "onError">> &
    Pick<TrackerOptions, "onRejected" | "onError">;
  private readonly url: string;
  private queue: AccordEvent[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly removePageHide: () => void;

  constructor(options: TrackerOptions) {
    const fetcher = options.fetch ?? globalThis.fetch;
    if (typeof fetcher !== "function") {
      throw new TypeError("no fetch here: pass `fetch` in the tracker options");
    }
    this.options = {
      batchSize: 20,
      flushIntervalMs: 2000,
      maxQueue: 10000,
      maxRetries: 5,
      backoffBaseMs: 500,
      backoffMaxMs: 30000,
      pageHide: "keepalive",
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
      fetch: fetcher.bind(globalThis),
    };
    this.url = `${options.endpoint.replace(/\/+$/, "")}/v1/events`;
    this.removePageHide =
      this.options.pageHide === "off" ? () => {} : onPageHide(() => this.sendBeforeHide());
  }

  /** Events queued and not yet sent. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queue `event` (built with the generated builders, e.g. `pageView({...})`) for sending. */
  track(event: AccordEvent): void {
    this.queue.push(event);
    if (this.queue.length > this.options.maxQueue) {
      const dropped = this.queue.splice(0, this.queue.length - this.options.maxQueue);
      const message = `the queue is full: ${dropped.length} oldest event(s) dropped`;
      this.fail(new DeliveryError(QUEUE_FULL, message, null, dropped));
    }
    if (this.queue.length >= this.options.batchSize) {
      void this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
      unrefTimer(this.timer);
    }
  }

  /**
   * Send everything queued now; resolves when the gateway answered for all of it (or it was
   * given up). The result counts the events this call sent: those a full batch or the timer
   * had sent already are reported through `onRejected` / `onError` only.
   */
  flush(): Promise<FlushResult> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const run = this.chain.then(() => this.drain());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stop listening for page hide and send what is queued. */
  async close(): Promise<FlushResult> {
    this.removePageHide();
    return this.flush();
  }

  private async drain(): Promise<FlushResult> {
    const total: FlushResult = { ...NO_RESULT, rejected: [] };
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      const result = await this.send(batch, false);
      total.accepted += result.accepted;
      total.duplicates += result.duplicates;
      total.rejected.push(...result.rejected);
      total.failed += result.failed;
    }
    return total;
  }

  private sendBeforeHide(): void {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      if (this.options.pageHide === "beacon" && this.beacon(batch)) {
        continue;
      }
      void this.send(batch, true);
    }
  }

  private beacon(batch: AccordEvent[]): boolean {
    if (typeof navigator === "undefined" || typeof navigator.sendBeacon !== "function") {
      return false;
    }
    const body = JSON.stringify({
      writeKey: this.options.writeKey,
      ...batchBody(batch, this.options.now()),
    });
    return navigator.sendBeacon(this.url, new Blob([body], { type: BEACON_MEDIA_TYPE }));
  }

  private async send(batch: AccordEvent[], keepalive: boolean): Promise<FlushResult> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.options.fetch(this.url, {
          method: "POST",
          headers: { Authorization: `Bearer ${this.options.writeKey}`, "Content-Type": JSON_MEDIA_TYPE },
          body: JSON.stringify(batchBody(batch, this.options.now())),
          keepalive,
        });
      } catch (error) {
        const delay = this.retryDelay(attempt, null);
        if (delay === null) {
          return this.gaveUp(batch, `the gateway cannot be reached: ${String(error)}`, null);
        }
        await this.options.sleep(delay);
        continue;
      }
      if (response.status === 200 || response.status === 207 || response.status === 422) {
        return this.settle(batch, (await readAnswer(response)) ?? {});
      }
      if (isRetryable(response.status)) {
        const retryAfter = retryAfterMs(response.headers.get("Retry-After"), this.options.now());
        const delay = this.retryDelay(attempt, retryAfter);
        if (delay === null) {
          const answer = await readAnswer(response);
          return this.gaveUp(batch, answer?.error?.message ?? `HTTP ${response.status}`, response.status);
        }
        await response.arrayBuffer().catch(() => undefined);
        await this.options.sleep(delay);
        continue;
      }
      const answer = await readAnswer(response);
      const code = answer?.error?.code ?? `http_${response.status}`;
      const message = answer?.error?.message ?? `HTTP ${response.status}`;
      this.fail(new DeliveryError(code, message, response.status, batch));
      return { ...NO_RESULT, rejected: [], failed: batch.length };
    }
  }

  private retryDelay(attempt: number, retryAfter: number | null): number | null {
    if (attempt > this.options.maxRetries) {
      return null;
    }
    return backoffDelay(attempt, this.options.backoffBaseMs, this.options.backoffMaxMs, retryAfter);
  }

  private gaveUp(batch: AccordEvent[], reason: string, status: number | null): FlushResult {
    const attempts = this.options.maxRetries + 1;
    this.fail(new DeliveryError(GAVE_UP, `gave up after ${attempts} attempts: ${reason}`, status, batch));
    return { ...NO_RESULT, rejected: [], failed: batch.length };
  }

  private settle(batch: AccordEvent[], answer: GatewayAnswer): FlushResult {
    const rejected: Rejection[] = (answer.rejected ?? []).map((entry) => ({
      event: batch[entry.index],
      eventId: entry.event_id ?? null,
      code: entry.code,
      field: entry.field ?? null,
      message: entry.message,
    }));
    for (const rejection of rejected) {
      this.options.onRejected?.(rejection);
    }
    return {
      accepted: answer.accepted ?? batch.length - rejected.length,
      duplicates: answer.duplicates ?? 0,
      rejected,
      failed: 0,
    };
  }

  private fail(error: DeliveryError): void {
    this.options.onError?.(error);
  }
}

function batchBody(batch: AccordEvent[], nowMs: number): { sent_at: string; events: AccordEvent[] } {
  return {
    sent_at: rfc3339(nowMs),
    events: batch.map(({ schema, version, payload }) =>
      version === undefined ? { schema, payload } : { schema, version, payload },
    ),
  };
}

async function readAnswer(response: Response): Promise<GatewayAnswer | null> {
  try {
    return (await response.json()) as GatewayAnswer;
  } catch {
    return null;
  }
}

function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  // a pending batch must not keep a Node process alive; a browser's timer is a plain number
  const handle = timer as unknown as { unref?: () => void };
  if (typeof handle.unref === "function") {
    handle.unref();
  }
}
