"""The sockets of the gateway's worker processes: each binds the one port, the kernel spreads connections."""

from __future__ import annotations

import socket

import pytest

from accord.gateway.workers import reuse_port_socket
from accord.runtime.ports import free_port

pytestmark = pytest.mark.unit


def test_several_workers_listen_on_one_port_and_each_gets_connections() -> None:
    port = free_port()
    listeners = [reuse_port_socket("127.0.0.1", port) for _ in range(2)]
    try:
        for listener in listeners:
            listener.setblocking(False)
        served = [0, 0]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        for index, listener in enumerate(listeners):
            while True:
                try:
                    listener.accept()[0].close()
                except BlockingIOError:
                    break
                served[index] += 1
        assert sum(served) == len(clients)
        assert min(served) > 0, f"the kernel gave every connection to one socket: {served}"
    finally:
        for sock in (*listeners, *clients):
            sock.close()


def test_a_port_held_without_reuse_refuses_the_workers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken, pytest.raises(OSError, match="in use"):
        reuse_port_socket("127.0.0.1", taken.getsockname()[1])
