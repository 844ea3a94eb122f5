"""How long the sender waits between attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from accord.sdk.sender import backoff_delay
from accord.sdk.transport import retry_after_seconds

pytestmark = pytest.mark.unit


def test_backoff_doubles_with_each_attempt_within_its_jitter_band() -> None:
    for attempt, ceiling in [(1, 0.2), (2, 0.4), (3, 0.8), (4, 1.6)]:
        delays = [backoff_delay(attempt, 0.2, 30.0, None) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100, "jittered, so clients do not retry in step"


def test_backoff_is_capped_but_a_longer_retry_after_wins() -> None:
    assert all(2.5 <= backoff_delay(20, 0.2, 5.0, None) <= 5.0 for _ in range(50))
    assert backoff_delay(1, 0.2, 5.0, 12.0) == 12.0


@pytest.mark.parametrize(
    ("header", "seconds"), [("3", 3.0), ("0", 0.0), ("1.5", 1.5), (None, None), ("soon", None)]
)
def test_retry_after_in_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)
    waited = retry_after_seconds(format_datetime(later, usegmt=True))
    assert waited is not None
    assert 25 <= waited <= 31
    assert retry_after_seconds(format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)) == 0.0
