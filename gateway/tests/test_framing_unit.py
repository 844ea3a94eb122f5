from __future__ import annotations

import pytest

from accord.gateway.framing import batch_body, frame, schema_id_of, split_batch
from accord.gateway.rejections import EventInvalidError, FailureType

pytestmark = pytest.mark.unit


def test_batch_body_splits_back_into_its_events() -> None:
    events = [frame(7, b"abc"), frame(70000, b"\x02x" * 50)]
    assert split_batch(batch_body(events)) == (events, None)


def test_a_body_cut_inside_an_event_keeps_the_events_before_it() -> None:
    events = [frame(1, b"one"), frame(1, b"two")]
    body = batch_body(events)
    parsed, tail = split_batch(body[:-2])
    assert parsed == events[:1]
    assert tail == body[len(batch_body(events[:1])) : -2]


def test_a_body_cut_inside_a_length_prefix_is_a_truncated_tail() -> None:
    body = batch_body([frame(1, b"one")]) + b"\x00\x00"
    parsed, tail = split_batch(body)
    assert len(parsed) == 1
    assert tail == b"\x00\x00"


def test_schema_id_is_read_big_endian() -> None:
    assert schema_id_of(frame(0x01020304, b"x")) == 0x01020304


@pytest.mark.parametrize(
    ("framed", "code"),
    [
        (b"\x01\x00\x00\x00\x01body", "bad_magic_byte"),
        (b"\x00\x00\x00\x00\x01", "truncated_frame"),
        (b"", "truncated_frame"),
    ],
)
def test_bad_framing_is_a_format_violation(framed: bytes, code: str) -> None:
    with pytest.raises(EventInvalidError) as caught:
        schema_id_of(framed)
    assert caught.value.code == code
    assert caught.value.failure_type is FailureType.FORMAT_VIOLATION
