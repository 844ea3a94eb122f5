from __future__ import annotations

import gzip

import pytest

from accord.gateway.bodies import MAX_GZIP_MEMBERS, gunzip, sent_at_ms
from accord.gateway.counts import HourlyCounts
from accord.gateway.dedup import RecentEventIds
from accord.gateway.errors import BadRequestError, PayloadTooLargeError, RateLimitedError
from accord.gateway.ratelimit import RateLimiter

pytestmark = pytest.mark.unit


def test_event_ids_are_forgotten_after_the_window() -> None:
    recent = RecentEventIds(window_s=10, max_ids=100)
    recent.remember(["a"], now=100.0)
    assert recent.seen("a", now=109.0)
    recent.remember(["b"], now=111.0)
    assert not recent.seen("a", now=111.0)
    assert len(recent) == 1


def test_the_oldest_ids_go_first_when_the_bound_is_reached() -> None:
    recent = RecentEventIds(window_s=1000, max_ids=2)
    recent.remember(["a", "b"], now=1.0)
    recent.remember(["c"], now=2.0)
    assert not recent.seen("a", now=3.0)
    assert recent.seen("b", now=3.0)
    assert recent.seen("c", now=3.0)


def test_remembering_an_id_again_extends_its_window() -> None:
    recent = RecentEventIds(window_s=10, max_ids=100)
    recent.remember(["a"], now=0.0)
    recent.remember(["a"], now=8.0)
    recent.remember([], now=12.0)
    assert recent.seen("a", now=12.0)


def test_the_rate_limit_allows_the_burst_then_asks_to_wait() -> None:
    limiter = RateLimiter(rate=100, burst=200)
    limiter.take("k", 200, now=0.0)
    with pytest.raises(RateLimitedError) as caught:
        limiter.take("k", 150, now=0.5)
    assert caught.value.retry_after_s == 1
    limiter.take("k", 150, now=1.5)
    limiter.take("other", 200, now=1.5)


def test_gzip_output_is_bounded() -> None:
    assert gunzip(gzip.compress(b"x" * 100), 100) == b"x" * 100
    with pytest.raises(PayloadTooLargeError):
        gunzip(gzip.compress(b"x" * 101), 100)
    with pytest.raises(BadRequestError, match="gzip"):
        gunzip(b"not gzip", 100)
    with pytest.raises(BadRequestError, match="truncated"):
        gunzip(gzip.compress(b"x" * 1000)[:-12], 10_000)


def test_every_gzip_member_is_decoded() -> None:
    members = [gzip.compress(part) for part in (b"first,", b"", b"second," * 1000, b"third")]
    assert gunzip(b"".join(members), 100_000) == b"first," + b"second," * 1000 + b"third"


@pytest.mark.parametrize(
    ("trailer", "code"),
    [
        (b"x", "gzip_trailing_data"),
        (b"\x00" * 8, "gzip_trailing_data"),
        (b"\x1f", "gzip_trailing_data"),
        (b"garbage after the member", "gzip_trailing_data"),
        (b"\x1f\x8b but not a member", "invalid_gzip"),
    ],
)
def test_bytes_after_the_last_gzip_member_refuse_the_body(trailer: bytes, code: str) -> None:
    body = gzip.compress(b"a" * 50) + gzip.compress(b"b" * 50) + trailer
    with pytest.raises(BadRequestError) as caught:
        gunzip(body, 10_000)
    assert caught.value.code == code


def test_a_truncated_second_gzip_member_refuses_the_body() -> None:
    body = gzip.compress(b"a" * 50) + gzip.compress(b"b" * 5000)[:-6]
    with pytest.raises(BadRequestError, match="member 2 is truncated") as caught:
        gunzip(body, 10_000)
    assert caught.value.code == "invalid_gzip"


def test_the_output_of_all_gzip_members_together_is_bounded() -> None:
    half = gzip.compress(b"x" * 60)
    assert len(gunzip(half + half, 120)) == 120
    with pytest.raises(PayloadTooLargeError):
        gunzip(half + half + gzip.compress(b"x"), 120)
    bomb = gzip.compress(b"\x00" * 50_000_000)
    with pytest.raises(PayloadTooLargeError):
        gunzip(half + bomb, 1_000_000)


def test_a_body_of_more_gzip_members_than_allowed_is_refused() -> None:
    empty = gzip.compress(b"")
    assert gunzip(empty * MAX_GZIP_MEMBERS, 10) == b""
    with pytest.raises(BadRequestError) as caught:
        gunzip(empty * (MAX_GZIP_MEMBERS + 1), 10)
    assert caught.value.code == "too_many_gzip_members"


def test_sent_at_accepts_rfc3339_with_offset_or_epoch_millis() -> None:
    assert sent_at_ms("2026-01-31T12:00:00.25Z", "f") == 1_769_860_800_250
    assert sent_at_ms("2026-01-31T13:00:00+01:00", "f") == 1_769_860_800_000
    assert sent_at_ms(1_769_860_800_250, "f") == 1_769_860_800_250
    assert sent_at_ms("1769860800250", "header") == 1_769_860_800_250
    for bad, code in (
        ("yesterday", "invalid_sent_at"),
        ("2026-01-01T00:00:00", "invalid_sent_at"),
        (True, "invalid_sent_at"),
        (1.5e12, "invalid_sent_at"),
        (None, "missing_sent_at"),
        (12, "sent_at_out_of_range"),
    ):
        with pytest.raises(BadRequestError) as caught:
            sent_at_ms(bad, "f")
        assert caught.value.code == code


def test_counts_are_kept_per_hour_of_receipt() -> None:
    counts = HourlyCounts()
    counts.add(3600 * 5 + 10, accepted=3, duplicates=1, rejected=0)
    counts.add(3600 * 5 + 3599, accepted=1, duplicates=0, rejected=2)
    counts.add(3600 * 6, accepted=7, duplicates=0, rejected=0)
    assert counts.snapshot() == [
        {"hour": "1970-01-01T05:00:00Z", "accepted": 4, "duplicates": 1, "rejected": 2},
        {"hour": "1970-01-01T06:00:00Z", "accepted": 7, "duplicates": 0, "rejected": 0},
    ]
