import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import { events, DeliveryError, Tracker, type Rejection, type TrackerOptions } from "../src/index.js";
import { BEACON_MEDIA_TYPE, GAVE_UP, JSON_MEDIA_TYPE, QUEUE_FULL } from "../src/tracker.js";
import { acceptAll, answer, fakeFetch, type FakeFetch } from "./fake-fetch.js";

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

function view(i: number) {
  return events.pageView({ envelope: { anonymous_id: "visitor-1" }, url: `https://shop.example/p/${i}` });
}

function tracker(fake: FakeFetch, options: Partial<TrackerOptions> = {}) {
  const sleeps: number[] = [];
  const errors: DeliveryError[] = [];
  const rejections: Rejection[] = [];
  const instance = new Tracker({
    endpoint: "http://gateway.test/",
    writeKey: "key-1",
    fetch: fake.fetch,
    now: () => T0,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onError: (error) => errors.push(error),
    onRejected: (rejection) => rejections.push(rejection),
    pageHide: "off",
    ...options,
  });
  return { tracker: instance, sleeps, errors, rejections };
}

function ids(fake: FakeFetch, request: number): string[] {
  return fake.sent[request].body.events.map((event) => event.payload.envelope.event_id);
}

describe("batching", () => {
  it("sends the queue in batches of batchSize, authorised, as a JSON batch", async () => {
    const fake = fakeFetch(acceptAll);
    const { tracker: t } = tracker(fake, { batchSize: 3, flushIntervalMs: 60_000 });
    const tracked = Array.from({ length: 7 }, (_, i) => view(i));
    tracked.forEach((event) => t.track(event));
    await t.flush();
    assert.deepEqual(
      fake.sent.map((request) => request.body.events.length),
      [3, 3, 1],
    );
    assert.equal(fake.sent[0].url, "http://gateway.test/v1/events");
    assert.equal(fake.sent[0].init.method, "POST");
    assert.equal(fake.sent[0].headers.Authorization, "Bearer key-1");
    assert.equal(fake.sent[0].headers["Content-Type"], JSON_MEDIA_TYPE);
    assert.equal(fake.sent[0].body.sent_at, "2026-03-02T09:00:00.000Z");
    assert.deepEqual(fake.sent[0].body.events[0], { schema: tracked[0].schema, payload: tracked[0].payload });
    assert.deepEqual([0, 1, 2].flatMap((r) => ids(fake, r)), tracked.map((e) => e.payload.envelope.event_id));
    assert.equal(t.pending, 0);
  });

  it("sends a full batch without waiting for flush", async () => {
    const fake = fakeFetch(acceptAll);
    const { tracker: t } = tracker(fake, { batchSize: 2, flushIntervalMs: 60_000 });
    t.track(view(1));
    assert.equal(fake.sent.length, 0);
    t.track(view(2));
    await t.flush();
    assert.equal(fake.sent.length, 1);
    assert.equal(fake.sent[0].body.events.length, 2);
  });

  it("sends a batch that does not fill once flushIntervalMs has passed", async () => {
    const fake = fakeFetch(acceptAll);
    const { tracker: t } = tracker(fake, { batchSize: 50, flushIntervalMs: 5 });
    t.track(view(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fake.sent.length, 1);
  });

  it("drops the oldest events beyond maxQueue and says so", async () => {
    const fake = fakeFetch(acceptAll);
    const { tracker: t, errors } = tracker(fake, { batchSize: 100, maxQueue: 3, flushIntervalMs: 60_000 });
    const tracked = Array.from({ length: 5 }, (_, i) => view(i));
    tracked.forEach((event) => t.track(event));
    assert.deepEqual(
      errors.map((error) => [error.code, error.events.length]),
      [
        [QUEUE_FULL, 1],
        [QUEUE_FULL, 1],
      ],
    );
    await t.flush();
    assert.deepEqual(ids(fake, 0), tracked.slice(2).map((e) => e.payload.envelope.event_id));
  });
});

describe("retries", () => {
  it("waits at least what Retry-After asks on 503, then resends the same events", async () => {
    const fake = fakeFetch(answer(503, { error: { code: "kafka_unavailable", message: "retry" } }, { "Retry-After": "7" }), acceptAll);
    const { tracker: t, sleeps, errors } = tracker(fake);
    t.track(view(1));
    t.track(view(2));
    const result = await t.flush();
    assert.equal(fake.sent.length, 2);
    assert.ok(sleeps[0] >= 7000, `slept ${sleeps[0]} ms`);
    assert.deepEqual(ids(fake, 1), ids(fake, 0));
    assert.equal(result.accepted, 2);
    assert.deepEqual(errors, []);
  });

  it("reads an HTTP-date Retry-After on 429", async () => {
    const later = new Date(T0 + 12_000).toUTCString();
    const fake = fakeFetch(answer(429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": later }), acceptAll);
    const { tracker: t, sleeps } = tracker(fake);
    t.track(view(1));
    await t.flush();
    assert.equal(sleeps.length, 1);
    assert.ok(sleeps[0] >= 12_000 && sleeps[0] < 13_000, `slept ${sleeps[0]} ms`);
  });

  it("backs off exponentially when the gateway cannot be reached, then gives up", async () => {
    const fake = fakeFetch(new TypeError("fetch failed"));
    const { tracker: t, sleeps, errors } = tracker(fake, { maxRetries: 4, backoffBaseMs: 100, backoffMaxMs: 500 });
    const event = view(1);
    t.track(event);
    const result = await t.flush();
    assert.equal(fake.sent.length, 5);
    const ceilings = [100, 200, 400, 500];
    sleeps.forEach((delay, i) => assert.ok(delay >= ceilings[i] / 2 && delay <= ceilings[i], `retry ${i + 1}: ${delay}`));
    assert.equal(result.failed, 1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, GAVE_UP);
    assert.match(errors[0].message, /gave up after 5 attempts: the gateway cannot be reached/);
    assert.deepEqual(errors[0].events, [event]);
  });

  it("does not retry a request-level refusal and reports its code", async () => {
    const fake = fakeFetch(answer(401, { error: { code: "invalid_write_key", message: "unknown key" } }));
    const { tracker: t, sleeps, errors } = tracker(fake);
    t.track(view(1));
    const result = await t.flush();
    assert.equal(fake.sent.length, 1);
    assert.deepEqual(sleeps, []);
    assert.equal(result.failed, 1);
    assert.deepEqual([errors[0].code, errors[0].status, errors[0].message], ["invalid_write_key", 401, "unknown key"]);
  });
});

describe("per-event results", () => {
  it("hands every event refused in a 207 to onRejected with the gateway's code and field", async () => {
    const fake = fakeFetch((sent) =>
      answer(207, {
        accepted: 2,
        duplicates: 1,
        rejected: [
          {
            index: 1,
            event_id: sent.body.events[1].payload.envelope.event_id,
            code: "missing_identity",
            field: "envelope.user_id",
            message: "neither user_id nor anonymous_id is set",
          },
        ],
      }),
    );
    const { tracker: t, rejections } = tracker(fake);
    const anonymous = events.pageView({ url: "https://shop.example/" });
    [view(1), anonymous, view(2)].forEach((event) => t.track(event));
    const result = await t.flush();
    assert.equal(rejections.length, 1);
    assert.equal(rejections[0].event, anonymous);
    assert.equal(rejections[0].eventId, anonymous.payload.envelope.event_id);
    assert.equal(rejections[0].code, "missing_identity");
    assert.equal(rejections[0].field, "envelope.user_id");
    assert.deepEqual([result.accepted, result.duplicates, result.rejected.length, result.failed], [2, 1, 1, 0]);
  });

  it("reports each event of a 422 and retries none", async () => {
    const fake = fakeFetch(
      answer(422, {
        accepted: 0,
        duplicates: 0,
        rejected: [
          { index: 0, event_id: null, code: "decimal_out_of_range", field: "amount", message: "too many places" },
        ],
      }),
    );
    const { tracker: t, rejections, sleeps } = tracker(fake);
    t.track(events.purchase({ envelope: { user_id: "u-1" }, order_id: "o-1", amount: "1.005", currency: "EUR" }));
    await t.flush();
    assert.equal(fake.sent.length, 1);
    assert.deepEqual(sleeps, []);
    assert.deepEqual(
      rejections.map((r) => [r.code, r.field, r.eventId]),
      [["decimal_out_of_range", "amount", null]],
    );
  });
});

describe("page hide", () => {
  const globals = globalThis as Record<string, unknown>;
  afterEach(() => {
    delete globals.window;
    delete globals.document;
    Object.defineProperty(globalThis, "navigator", { value: undefined, configurable: true });
  });

  function browser(sendBeacon?: (url: string, body: Blob) => boolean) {
    const document = Object.assign(new EventTarget(), { visibilityState: "visible" });
    globals.window = new EventTarget();
    globals.document = document;
    Object.defineProperty(globalThis, "navigator", { value: { sendBeacon }, configurable: true });
    return () => {
      document.visibilityState = "hidden";
      document.dispatchEvent(new Event("visibilitychange"));
    };
  }

  it("sends the queue with a keepalive fetch when the page is hidden", async () => {
    const hide = browser();
    const fake = fakeFetch(acceptAll);
    const { tracker: t } = tracker(fake, { pageHide: "keepalive", flushIntervalMs: 60_000 });
    t.track(view(1));
    t.track(view(2));
    hide();
    assert.equal(fake.sent.length, 1);
    assert.equal(fake.sent[0].init.keepalive, true);
    assert.equal(fake.sent[0].headers.Authorization, "Bearer key-1");
    assert.equal(t.pending, 0);
    await t.close();
  });

  it("sends the queue as a text/plain beacon on pagehide in beacon mode", async () => {
    const beacons: { url: string; body: Blob }[] = [];
    browser((url, body) => beacons.push({ url, body }) > 0);
    const fake = fakeFetch(acceptAll);
    const { tracker: t } = tracker(fake, { pageHide: "beacon", flushIntervalMs: 60_000 });
    const event = view(1);
    t.track(event);
    (globals.window as EventTarget).dispatchEvent(new Event("pagehide"));
    assert.equal(fake.sent.length, 0);
    assert.equal(beacons.length, 1);
    assert.equal(beacons[0].url, "http://gateway.test/v1/events");
    assert.equal(beacons[0].body.type, BEACON_MEDIA_TYPE);
    const body = JSON.parse(await beacons[0].body.text());
    assert.equal(body.writeKey, "key-1");
    assert.deepEqual(body.events, [{ schema: event.schema, payload: event.payload }]);
    await t.close();
  });

  it("falls back to a keepalive fetch when the browser refuses the beacon", async () => {
    const hide = browser(() => false);
    const fake = fakeFetch(acceptAll);
    const { tracker: t } = tracker(fake, { pageHide: "beacon", flushIntervalMs: 60_000 });
    t.track(view(1));
    hide();
    assert.equal(fake.sent.length, 1);
    assert.equal(fake.sent[0].init.keepalive, true);
    await t.close();
  });

  it("stops listening once closed", async () => {
    const hide = browser();
    const fake = fakeFetch(acceptAll);
    const { tracker: t } = tracker(fake, { pageHide: "keepalive", flushIntervalMs: 60_000 });
    await t.close();
    t.track(view(1));
    hide();
    assert.equal(fake.sent.length, 0);
    await t.flush();
  });
});
