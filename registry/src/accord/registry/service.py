"""The registry as a service of `accord up`: started after Kafka, ready once it read `_schemas`."""

from __future__ import annotations

import httpx

from accord.registry.settings import RegistrySettings
from accord.runtime.services import accord_executable
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import ServiceSpec


def registry_ready(url: str) -> bool:
    """True when the registry at `url` answers and has read its topic to the end."""
    try:
        return httpx.get(f"{url}/_health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def service(settings: RuntimeSettings) -> ServiceSpec:
    """Entry point of the `accord.services` group: the schema registry."""
    registry = RegistrySettings(kafka_bootstrap=settings.kafka_bootstrap)
    url = f"http://{registry.host}:{registry.port}"
    command = [
        accord_executable(),
        "registry",
        "serve",
        "--host",
        registry.host,
        "--port",
        str(registry.port),
        "--bootstrap",
        settings.kafka_bootstrap,
        "--topic",
        registry.topic,
    ]
    return ServiceSpec(
        name="registry",
        order=10,
        command=lambda: command,
        ports=(registry.port,),
        host=registry.host,
        ready=lambda: registry_ready(url),
        env={"ACCORD_LOG_LEVEL": "INFO"},
        start_timeout_s=settings.start_timeout_s,
        describe=lambda: f"{url} topic {registry.topic}",
    )
