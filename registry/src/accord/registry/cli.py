"""`accord registry …`: run the schema registry."""

from __future__ import annotations

from typing import Any

import click


@click.group()
def registry() -> None:
    """The Confluent-compatible schema registry."""


@registry.command()
@click.option("--host", default=None, help="bind address [env ACCORD_REGISTRY_HOST, default 127.0.0.1]")
@click.option("--port", type=int, default=None, help="HTTP port [env ACCORD_REGISTRY_PORT, default 8081]")
@click.option("--bootstrap", default=None, help="Kafka bootstrap servers [env ACCORD_KAFKA_BOOTSTRAP]")
@click.option(
    "--topic", default=None, help="topic holding the schemas [env ACCORD_REGISTRY_TOPIC, default _schemas]"
)
@click.option("--writer-url", default=None, help="run as a follower forwarding writes to this registry")
def serve(
    host: str | None, port: int | None, bootstrap: str | None, topic: str | None, writer_url: str | None
) -> None:
    """Serve the registry API, storing schemas in a compacted Kafka topic."""
    from accord.registry.server import serve as run
    from accord.registry.settings import RegistrySettings

    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "kafka_bootstrap": bootstrap,
        "topic": topic,
        "writer_url": writer_url,
    }
    settings = RegistrySettings(**{key: value for key, value in overrides.items() if value is not None})
    run(settings)
