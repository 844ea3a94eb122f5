"""Several gateway processes on one port: each binds it with SO_REUSEPORT, a parent keeps N running.

uvicorn's own workers accept from one socket the parent bound, and on Linux the worker that
wakes first takes every connection waiting (a client's keep-alive connections, or a load
balancer's, all land on one process). With a socket per worker, bound with SO_REUSEPORT, the
kernel spreads new connections over the workers by their addresses instead. The parent only
starts the workers, replaces one that dies and waits for them at shutdown.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from accord.gateway.errors import GatewayStartError

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")
"""fresh interpreters: no Kafka client, thread or event loop is inherited half-made"""


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` that other processes may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(host: str, port: int, server: dict[str, Any]) -> None:
    """One worker: its own socket on the port, the application built from the environment."""
    try:
        sock = reuse_port_socket(host, port)
    except OSError as exc:
        log.error(
            "gateway worker cannot bind its port", extra={"host": host, "port": port, "error": str(exc)}
        )
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config("accord.gateway.app:worker_app", factory=True, **server)
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(workers: int, host: str, port: int, server: dict[str, Any], grace_s: float) -> None:
    """Run `workers` gateway processes on `host:port` until SIGTERM or SIGINT, replacing any that dies.

    `server` holds the `uvicorn.Config` options of every worker. At shutdown the workers get
    `grace_s` to finish on their own (a process-group signal reached them too) before they are
    sent SIGTERM; one SIGTERM each, since uvicorn cuts requests short on a second.
    """
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)

    def start() -> BaseProcess:
        process = _SPAWN.Process(target=_worker, args=(host, port, server), name="gateway-worker")
        process.start()
        return process

    running = [start() for _ in range(workers)]
    log.info("gateway workers started", extra={"workers": [p.pid for p in running], "port": port})
    try:
        while not stopping.wait(0.5):
            for index, process in enumerate(running):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    # its settings, Kafka or the port are wrong: another start fails the same way
                    raise GatewayStartError(
                        f"gateway worker {process.pid} failed to start; see the log above"
                    )
                log.warning(
                    "gateway worker died, starting another",
                    extra={"pid": process.pid, "exitcode": process.exitcode},
                )
                running[index] = start()
    finally:
        deadline = time.monotonic() + grace_s
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in running:
            if process.is_alive():
                process.terminate()
        for process in running:
            process.join()
