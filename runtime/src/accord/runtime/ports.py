"""Which ports are free, and which process holds a port that is not."""

from __future__ import annotations

import contextlib
import random
import socket
from pathlib import Path

import psutil

EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
DEFAULT_EPHEMERAL_RANGE = (32768, 60999)
# above the registered ports most often taken by local services (8080, 9092, 5432 …)
PORT_BLOCK_FLOOR = 10000


def port_is_free(host: str, port: int) -> bool:
    """True when a listening socket could be bound to `host:port` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on `host:port`."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel considers free now (for servers that tests start side by side)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def ephemeral_port_range() -> tuple[int, int]:
    """The ports the kernel hands to outgoing connections (Linux's `ip_local_port_range`)."""
    try:
        low, high = Path(EPHEMERAL_RANGE_FILE).read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL_RANGE


def free_port_block(count: int, host: str = "127.0.0.1", attempts: int = 200) -> int:
    """The first of `count` consecutive ports that are all free now (for a local Kafka cluster).

    The block lies below the ephemeral range: the brokers of a cluster start one after the other,
    and an outgoing connection of the first could otherwise take the port of the last.
    """
    low, _ = ephemeral_port_range()
    top = min(low, 65536) - count
    if top <= PORT_BLOCK_FLOOR:
        raise OSError(f"no room for {count} ports below the ephemeral range starting at {low}")
    for _ in range(attempts):
        first = random.randrange(PORT_BLOCK_FLOOR, top)  # noqa: S311 - spreads tests apart, no secret
        if all(port_is_free(host, first + i) for i in range(count)):
            return first
    raise OSError(f"no {count} consecutive free ports found on {host}")


def port_owner(port: int) -> str:
    """Describe the process listening on `port` as `pid N (command line)`, as far as it is visible."""
    with contextlib.suppress(psutil.Error):
        for conn in psutil.net_connections(kind="inet"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                if conn.pid is None:
                    return "a process this user cannot see"
                try:
                    cmdline = " ".join(psutil.Process(conn.pid).cmdline())
                except psutil.Error:
                    cmdline = "?"
                return f"pid {conn.pid} ({cmdline[:120]})"
    return "another process"
