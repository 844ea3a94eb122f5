/** The TypeScript SDK against the wire contract's shared test vectors, where they apply to it. */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { events, isCanonicalUuid, newEventId, rfc3339, toMillis } from "../src/index.js";
import { SUBJECTS } from "../src/events.js";
import { JSON_MEDIA_TYPE } from "../src/tracker.js";

// compiled to .test-build/tests/: the package folder is two levels up, the repository three
const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../wire/src/accord/wire/vectors.json");
const vectors = JSON.parse(readFileSync(VECTORS, "utf-8"));

describe("wire vectors", () => {
  it("judge event ids as the gateway's invalid_uuid rule does", () => {
    for (const { value, verdict } of vectors.rules.uuid) {
      assert.equal(isCanonicalUuid(value), verdict === null, value);
    }
  });

  it("make event ids the gateway accepts: canonical UUIDv7, ordered by millisecond", () => {
    const made = Array.from({ length: 200 }, () => newEventId());
    assert.equal(new Set(made).size, 200);
    for (const id of made) {
      assert.ok(isCanonicalUuid(id), id);
      assert.equal(id[14], "7");
      assert.ok("89ab".includes(id[19]), `RFC 9562 variant: ${id}`);
    }
    const millis = made.map((id) => parseInt(id.replaceAll("-", "").slice(0, 12), 16));
    assert.deepEqual(millis, [...millis].sort((a, b) => a - b));
  });

  it("name events by their subject", () => {
    const subjects = vectors.subjects.filter((v: { topic: string }) => v.topic === "events");
    const pageView = subjects.find((v: { full_name: string }) => v.full_name === "accord.events.PageView");
    assert.equal(events.pageView({ url: "https://shop.example/" }).schema, pageView.subject);
    for (const subject of SUBJECTS) {
      assert.ok(subject.startsWith("events-accord.events."), subject);
    }
  });

  it("send JSON batches with the JSON media type", () => {
    assert.equal(JSON_MEDIA_TYPE, vectors.media_types.json);
  });

  it("write sent_at as RFC 3339 that reads back as the same millisecond", () => {
    for (const { sent_at: millis, verdict } of vectors.rules.sent_at) {
      if (verdict === null) {
        assert.equal(Date.parse(rfc3339(millis)), millis);
        assert.match(rfc3339(millis), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    }
  });

  it("write event times as the epoch milliseconds the rules judge", () => {
    for (const { event_time: millis } of vectors.rules.event_time) {
      if (Math.abs(millis) <= 8.64e15) {
        assert.equal(toMillis(new Date(millis)), millis);
      }
    }
  });
});
