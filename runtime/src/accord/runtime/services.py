"""The platform's services, discovered through the `accord.services` entry-point group.

A component plugs into `accord up`, `down` and `status` by declaring, in its pyproject:

    [project.entry-points."accord.services"]
    gateway = "accord.gateway.service:service"

where `service(settings: RuntimeSettings) -> ServiceSpec` describes how to run it, usually as
`accord <comp> serve ...` through `accord_executable()` (a list of specs when the component runs
several processes, as the Kafka cluster does).

A component that must act on a service once it is ready (the schemas component registers the
contracts with the registry) declares a setup step in the `accord.setup` group:

    [project.entry-points."accord.setup"]
    schemas = "accord.schemas.setup:setup"

where `setup(settings: RuntimeSettings) -> SetupStep`; `up` runs it, after its service is ready,
on every call (so a step must be idempotent).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import ServiceSpec

ServiceFactory = Callable[[RuntimeSettings], ServiceSpec | Sequence[ServiceSpec]]


@dataclass(frozen=True)
class SetupStep:
    """Work `up` does once the service `after` is ready; `run` is idempotent and returns a summary."""

    name: str
    after: str
    run: Callable[[], str]


def discover(settings: RuntimeSettings) -> list[ServiceSpec]:
    """Every installed service, in start order."""
    keyed: list[tuple[int, str, int, ServiceSpec]] = []
    for ep in entry_points(group="accord.services"):
        found = ep.load()(settings)
        # the specs of one factory keep their order: the last broker of a cluster creates the topics
        for index, spec in enumerate([found] if isinstance(found, ServiceSpec) else found):
            keyed.append((spec.order, spec.name if isinstance(found, ServiceSpec) else ep.name, index, spec))
    return [spec for *_, spec in sorted(keyed, key=lambda item: item[:3])]


def accord_executable() -> str:
    """The `accord` script of this environment (beside the interpreter), else the one on PATH."""
    beside = Path(sys.executable).with_name("accord")
    return str(beside) if beside.exists() else (shutil.which("accord") or "accord")


def discover_setup(settings: RuntimeSettings) -> list[SetupStep]:
    """Every installed setup step, by name."""
    steps = [ep.load()(settings) for ep in entry_points(group="accord.setup")]
    return sorted(steps, key=lambda step: step.name)
