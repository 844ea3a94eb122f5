"""The platform's services, discovered through the `accord.services` entry-point group.

A component plugs into `accord up`, `down` and `status` by declaring, in its pyproject:

    [project.entry-points."accord.services"]
    gateway = "accord.gateway.service:service"

where `service(settings: RuntimeSettings) -> ServiceSpec` describes how to run it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import ServiceSpec

ServiceFactory = Callable[[RuntimeSettings], ServiceSpec]


def discover(settings: RuntimeSettings) -> list[ServiceSpec]:
    """Every installed service, in start order."""
    specs = [ep.load()(settings) for ep in entry_points(group="accord.services")]
    return sorted(specs, key=lambda spec: (spec.order, spec.name))
