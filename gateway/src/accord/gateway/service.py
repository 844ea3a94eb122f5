"""The gateway as a service of `accord up`: started after Kafka and the registry, on port 8080."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from accord.gateway.settings import GatewaySettings
from accord.runtime.services import accord_executable
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import ServiceSpec

ORDER = 20


def gateway_ready(url: str) -> bool:
    """True when the gateway at `url` answers `/readyz` with 200 (Kafka and registry reachable)."""
    try:
        return httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def gateway_spec(settings: GatewaySettings, env: Mapping[str, str], *, name: str = "gateway") -> ServiceSpec:
    """Run `accord gateway serve` with `env` (the ACCORD_* variables that configure it)."""
    url = f"http://{settings.host}:{settings.port}"
    accord = accord_executable()
    return ServiceSpec(
        name=name,
        order=ORDER,
        command=lambda: [accord, "gateway", "serve"],
        ports=(settings.port,),
        host=settings.host,
        ready=lambda: gateway_ready(url),
        env=env,
        start_timeout_s=60.0,
        describe=lambda: url if settings.workers == 1 else f"{url} ({settings.workers} processes)",
    )


def service(runtime: RuntimeSettings) -> ServiceSpec:
    """Entry point of the `accord.services` group: the gateway against the local broker and registry."""
    env = {
        "ACCORD_KAFKA_BOOTSTRAP": runtime.kafka_bootstrap,
        "ACCORD_EVENTS_TOPIC": runtime.events_topic,
        "ACCORD_DEADLETTER_TOPIC": runtime.deadletter_topic,
    }
    return gateway_spec(GatewaySettings(), env)
