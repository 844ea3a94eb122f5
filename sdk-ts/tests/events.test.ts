import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { events, isCanonicalUuid } from "../src/index.js";

describe("generated builders", () => {
  it("fill the envelope: a new UUIDv7, the current time, the context's defaults", () => {
    const before = Date.now();
    const first = events.pageView({ envelope: { anonymous_id: "visitor-1" }, url: "https://shop.example/" });
    const second = events.pageView({ envelope: { anonymous_id: "visitor-1" }, url: "https://shop.example/" });
    const envelope = first.payload.envelope;
    assert.equal(first.schema, "events-accord.events.PageView");
    assert.ok(isCanonicalUuid(envelope.event_id));
    assert.equal(envelope.event_id[14], "7", "UUID version 7");
    assert.notEqual(envelope.event_id, second.payload.envelope.event_id);
    assert.ok(envelope.event_time >= before && envelope.event_time <= Date.now());
    assert.deepEqual(
      [envelope.user_id, envelope.anonymous_id, envelope.session_id],
      [null, "visitor-1", null],
    );
    assert.equal(envelope.context.platform, "UNKNOWN");
    assert.equal(envelope.context.app_name, null);
    assert.equal(first.payload.title, null);
  });

  it("write times as epoch milliseconds and keep what the caller gave", () => {
    const at = new Date(Date.UTC(2026, 0, 31, 12, 0, 0, 250));
    const event = events.signup({
      envelope: { event_id: "0190d1e0-7c4b-7abc-8def-0123456789ab", event_time: at, user_id: "u-1", context: { platform: "WEB" } },
      method: "GITHUB",
    });
    assert.equal(event.payload.envelope.event_time, 1769860800250);
    assert.equal(event.payload.envelope.event_id, "0190d1e0-7c4b-7abc-8def-0123456789ab");
    assert.equal(event.payload.envelope.context.platform, "WEB");
    assert.equal(events.signup({ method: "EMAIL", envelope: { event_time: 1769860800250 } }).payload.envelope.event_time, 1769860800250);
  });

  it("keep decimals as text and build nested records with their defaults", () => {
    const event = events.purchase({
      envelope: { user_id: "u-1" },
      order_id: "o-1",
      amount: "99.90",
      currency: "EUR",
      items: [{ sku: "sku-1", quantity: 2, unit_price: "49.95" }],
    });
    assert.equal(event.payload.amount, "99.90");
    assert.deepEqual(event.payload.items, [{ sku: "sku-1", quantity: 2, unit_price: "49.95" }]);
    assert.equal(event.payload.coupon, null);
    assert.deepEqual(events.purchase({ order_id: "o-2", amount: "1", currency: "EUR" }).payload.items, []);
  });

  it("produce a payload that survives JSON unchanged (what the tracker sends)", () => {
    const event = events.experimentExposure({
      envelope: { user_id: "u-1" },
      experiment_id: "new_checkout",
      variant: "treatment",
    });
    assert.deepEqual(JSON.parse(JSON.stringify(event)), event);
  });
});
