"""The event rules the gateway and Silver share, so an event the gateway accepts is one Silver keeps.

Pure functions on Python values; each returns None when the rule holds and a `Violation`
naming the rule and the field otherwise. The bounds are constants too, for Spark expressions.

- Time: `event_time` and `sent_at` lie in [`EARLIEST_TIME_MS`, `LATEST_TIME_MS`]; the event time
  moved onto the platform's clock, `received_at - (sent_at - event_time)`, lies within
  `horizon` before and `skew` after `received_at`. Checking the bounds first keeps every sum in
  a few centuries of milliseconds, far from the 64-bit limits Spark computes in.
- Identity: `user_id` or `anonymous_id` is set (not blank).
- UUID: `event_id` is in canonical form, lower-case hexadecimal with hyphens (8-4-4-4-12).
- Decimal: at most `precision - scale` integer digits and `scale` decimal places, judged from
  the digits and exponent alone, before any arithmetic on the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from accord.wire.error_codes import ErrorCode

EARLIEST_TIME_MS = 946_684_800_000
"""2000-01-01T00:00:00Z: no product event happened before it."""
LATEST_TIME_MS = 4_102_444_800_000
"""2100-01-01T00:00:00Z: no client clock is this far ahead."""
DEFAULT_HORIZON = timedelta(days=30)
"""How long before its reception an event may have happened (`ACCORD_EVENT_TIME_HORIZON`)."""
DEFAULT_SKEW = timedelta(minutes=10)
"""How far after its reception a corrected event time may be (`ACCORD_EVENT_TIME_SKEW`)."""

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
"""Canonical UUID text, as a regular expression Python and Spark both read."""
_UUID = re.compile(UUID_PATTERN)


class Rule(StrEnum):
    """The name of each rule; also the gateway's error code when an event breaks it."""

    TIME_OUT_OF_RANGE = "time_out_of_range"
    EVENT_TIME_TOO_OLD = "event_time_too_old"
    EVENT_TIME_IN_FUTURE = "event_time_in_future"
    MISSING_IDENTITY = "missing_identity"
    INVALID_UUID = "invalid_uuid"
    DECIMAL_OUT_OF_RANGE = "decimal_out_of_range"


@dataclass(frozen=True)
class Violation:
    """A broken rule: which, on which field, and a sentence a client can act on."""

    rule: Rule
    field: str
    message: str

    @property
    def code(self) -> ErrorCode:
        """The gateway's error code for this violation (spelled as the rule)."""
        return ErrorCode[self.rule.name]


def time_in_range(field: str, epoch_millis: int) -> Violation | None:
    """`epoch_millis` lies between `EARLIEST_TIME_MS` and `LATEST_TIME_MS`."""
    if EARLIEST_TIME_MS <= epoch_millis <= LATEST_TIME_MS:
        return None
    return Violation(
        Rule.TIME_OUT_OF_RANGE,
        field,
        f"{field} = {epoch_millis} ms is outside 2000-01-01 .. 2100-01-01 "
        f"({EARLIEST_TIME_MS} .. {LATEST_TIME_MS} epoch milliseconds)",
    )


def corrected_event_time(event_time_ms: int, sent_at_ms: int, received_at_ms: int) -> int:
    """`received_at - (sent_at - event_time)`: the device's event time moved onto the platform's clock.

    Call it on times that passed `time_in_range` (and a received_at from the platform's clock):
    then the result stays within a few centuries of milliseconds.
    """
    return received_at_ms - (sent_at_ms - event_time_ms)


def event_time_rules(
    event_time_ms: int,
    sent_at_ms: int,
    received_at_ms: int,
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    skew: timedelta = DEFAULT_SKEW,
    field: str = "envelope.event_time",
) -> Violation | None:
    """The first time rule broken by an event, None when it keeps them all.

    `sent_at_ms` is assumed checked already (it belongs to the request, not the event).
    """
    out_of_range = time_in_range(field, event_time_ms)
    if out_of_range is not None:
        return out_of_range
    corrected = corrected_event_time(event_time_ms, sent_at_ms, received_at_ms)
    horizon_ms, skew_ms = _millis(horizon), _millis(skew)
    if corrected < received_at_ms - horizon_ms:
        return Violation(
            Rule.EVENT_TIME_TOO_OLD,
            field,
            f"{field}, corrected for the client's clock, is {corrected} ms: more than {horizon} "
            "before it was received",
        )
    if corrected > received_at_ms + skew_ms:
        return Violation(
            Rule.EVENT_TIME_IN_FUTURE,
            field,
            f"{field}, corrected for the client's clock, is {corrected} ms: more than {skew} "
            "after it was received",
        )
    return None


def identity_rule(user_id: str | None, anonymous_id: str | None) -> Violation | None:
    """`user_id` or `anonymous_id` is set and not blank."""
    if (user_id and user_id.strip()) or (anonymous_id and anonymous_id.strip()):
        return None
    return Violation(
        Rule.MISSING_IDENTITY, "envelope.user_id", "neither envelope.user_id nor envelope.anonymous_id is set"
    )


def uuid_rule(value: str, field: str = "envelope.event_id") -> Violation | None:
    """`value` is a UUID in canonical form: lower-case hexadecimal, hyphenated 8-4-4-4-12."""
    if _UUID.fullmatch(value) is not None:
        return None
    return Violation(
        Rule.INVALID_UUID,
        field,
        f"{field} must be a UUID in canonical form (lower-case, hyphenated 8-4-4-4-12); got {value!r}",
    )


def decimal_rule(value: Decimal, precision: int, scale: int, field: str) -> Violation | None:
    """`value` fits `decimal(precision, scale)`: checked on its digits and exponent, at no cost.

    Trailing zeros count as digits of the value as written (`12.500` has three decimal places).
    """
    written = value.as_tuple()
    if not isinstance(written.exponent, int):
        return Violation(Rule.DECIMAL_OUT_OF_RANGE, field, f"{field} must be a finite number; got {value}")
    places = max(0, -written.exponent)
    integer_digits = max(0, len(_significant(written.digits)) + written.exponent)
    if places > scale or integer_digits > precision - scale:
        return Violation(
            Rule.DECIMAL_OUT_OF_RANGE,
            field,
            f"{field} must have at most {precision - scale} digits before the point and {scale} after; "
            f"got {str(value)[:40]}",
        )
    return None


def _significant(digits: tuple[int, ...]) -> tuple[int, ...]:
    """The digits without leading zeros (none at all for zero)."""
    for index, digit in enumerate(digits):
        if digit:
            return digits[index:]
    return ()


def _millis(delta: timedelta) -> int:
    # the floor of `delta / 1 ms` from its normalised parts (0 <= seconds, microseconds): the
    # gateway runs this twice an event, and building a timedelta to divide by was 5 % of its CPU
    return delta.days * 86_400_000 + delta.seconds * 1_000 + delta.microseconds // 1_000
