"""Free ports for servers that tests and `accord up` start on loopback."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from accord.runtime import ports
from accord.runtime.ports import ephemeral_port_range, free_port_block, port_is_free

pytestmark = pytest.mark.unit


def test_a_port_block_lies_below_the_ephemeral_range_and_is_free() -> None:
    low, _ = ephemeral_port_range()
    for _ in range(20):
        first = free_port_block(6)
        assert first >= ports.PORT_BLOCK_FLOOR
        assert first + 6 <= low
        assert all(port_is_free("127.0.0.1", first + i) for i in range(6))


def test_a_block_with_a_port_in_use_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        taken = held.getsockname()[1]
        held.listen()
        starts = iter([taken - 1, taken + 5])
        monkeypatch.setattr(random, "randrange", lambda *_: next(starts))
        monkeypatch.setattr(ports, "ephemeral_port_range", lambda: (65000, 65535))
        monkeypatch.setattr(ports, "PORT_BLOCK_FLOOR", 1024)
        assert free_port_block(3) == taken + 5


def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("40000\t50000\n")
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", str(range_file))
    assert ephemeral_port_range() == (40000, 50000)
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", str(tmp_path / "absent"))
    assert ephemeral_port_range() == ports.DEFAULT_EPHEMERAL_RANGE


def test_no_room_below_the_ephemeral_range_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "ephemeral_port_range", lambda: (10002, 60999))
    with pytest.raises(OSError, match="no room for 6 ports below the ephemeral range"):
        free_port_block(6)
