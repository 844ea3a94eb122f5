"""`accord gateway …`: run the ingestion gateway."""

from __future__ import annotations

from typing import Any

import click


@click.group()
def gateway() -> None:
    """The ingestion gateway (HTTP → Kafka)."""


@gateway.command()
@click.option("--host", default=None, help="interface to listen on [ACCORD_GATEWAY_HOST, 127.0.0.1]")
@click.option("--port", type=int, default=None, help="port to listen on [ACCORD_GATEWAY_PORT, 8080]")
def serve(host: str | None, port: int | None) -> None:
    """Serve the gateway's HTTP API until interrupted."""
    import uvicorn

    from accord.gateway.app import create_app
    from accord.gateway.settings import GatewaySettings
    from accord.runtime.logs import configure_logging

    # built from the options (not copied) so that they are validated like the environment
    options: dict[str, Any] = {"host": host, "port": port}
    settings = GatewaySettings(**{name: value for name, value in options.items() if value is not None})
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.delivery_timeout_s) + 1,
    )
