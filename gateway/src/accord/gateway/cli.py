"""`accord gateway …`: run the ingestion gateway."""

from __future__ import annotations

import os
from typing import Any

import click


@click.group()
def gateway() -> None:
    """The ingestion gateway (HTTP → Kafka)."""


@gateway.command()
@click.option("--host", default=None, help="interface to listen on [ACCORD_GATEWAY_HOST, 127.0.0.1]")
@click.option("--port", type=int, default=None, help="port to listen on [ACCORD_GATEWAY_PORT, 8080]")
def serve(host: str | None, port: int | None) -> None:
    """Serve the gateway's HTTP API until interrupted (`ACCORD_GATEWAY_WORKERS` processes on one port)."""
    import uvicorn

    from accord.gateway.app import create_app
    from accord.gateway.multiprocess import shared_counting
    from accord.gateway.settings import GatewaySettings
    from accord.gateway.workers import serve_workers
    from accord.runtime.logs import configure_logging

    # built from the options (not copied) so that they are validated like the environment
    options: dict[str, Any] = {"host": host, "port": port}
    settings = GatewaySettings(**{name: value for name, value in options.items() if value is not None})
    configure_logging(settings.log_level)
    server: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": int(settings.delivery_timeout_s) + 1,
    }
    if settings.workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, **server)
        return
    # the workers read their settings from the environment: the options go there too
    os.environ.update({"ACCORD_GATEWAY_HOST": settings.host, "ACCORD_GATEWAY_PORT": str(settings.port)})
    with shared_counting():
        grace_s = settings.delivery_timeout_s + 2
        serve_workers(settings.workers, settings.host, settings.port, server, grace_s=grace_s)
