import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { backoffDelay, isRetryable, retryAfterMs } from "../src/index.js";

const NOW = Date.UTC(2026, 0, 31, 12, 0, 0);

describe("retry policy", () => {
  it("retries rate limits and server errors, never a refused request", () => {
    assert.deepEqual(
      [429, 500, 502, 503, 504].map(isRetryable),
      [true, true, true, true, true],
    );
    assert.deepEqual(
      [400, 401, 404, 413, 415, 422].map(isRetryable),
      [false, false, false, false, false, false],
    );
  });

  it("reads Retry-After as seconds or as an HTTP date, and ignores what does not parse", () => {
    assert.equal(retryAfterMs("3", NOW), 3000);
    assert.equal(retryAfterMs(new Date(NOW + 5000).toUTCString(), NOW), 5000);
    assert.equal(retryAfterMs(new Date(NOW - 5000).toUTCString(), NOW), 0, "a date in the past: now");
    assert.equal(retryAfterMs(null, NOW), null);
    assert.equal(retryAfterMs("soon", NOW), null);
    assert.equal(retryAfterMs("", NOW), null);
  });

  it("doubles the ceiling per attempt up to the cap, and never waits less than Retry-After", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 100, 500, null, () => 1)),
      [100, 200, 400, 500, 500],
    );
    assert.equal(backoffDelay(1, 100, 500, null, () => 0), 50, "jitter over the upper half");
    assert.equal(backoffDelay(1, 100, 500, 60_000, () => 1), 60_000);
  });
});
