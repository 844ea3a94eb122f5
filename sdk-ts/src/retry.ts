/** When to try a request again: exponential backoff with jitter, and the gateway's `Retry-After`. */

/**
 * True for an answer that may succeed later: 429 `rate_limited`, 503 `kafka_unavailable` and the
 * other server errors (the gateway sets `Retry-After` on 429 and 503).
 */
export function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Delay before retry `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`, with
 * jitter over its upper half so that many clients do not come back at once. A `Retry-After`
 * from the gateway is a floor, never shortened.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  const delay = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(delay, retryAfterMs ?? 0);
}

/**
 * Milliseconds to wait that a `Retry-After` header asks for (delta-seconds or an HTTP date),
 * or null when there is none or it does not parse.
 */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === "") {
    return null;
  }
  const text = header.trim();
  if (/^\d+$/.test(text)) {
    return Number(text) * 1000;
  }
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
