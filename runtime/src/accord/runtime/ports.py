"""Which ports are free, and which process holds a port that is not."""

from __future__ import annotations

import contextlib
import socket

import psutil


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


def free_port_block(count: int, host: str = "127.0.0.1", attempts: int = 50) -> int:
    """The first of `count` consecutive ports that are all free now (for a local Kafka cluster)."""
    for _ in range(attempts):
        first = free_port(host)
        if first + count <= 65536 and all(port_is_free(host, first + i) for i in range(1, count)):
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
