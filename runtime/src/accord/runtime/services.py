"""The platform's services, discovered through the `accord.services` entry-point group.

A component plugs into `accord up`, `down` and `status` by declaring, in its pyproject:

    [project.entry-points."accord.services"]
    gateway = "accord.gateway.service:service"

where `service(settings: RuntimeSettings) -> ServiceSpec` describes how to run it, usually as
`accord <comp> serve ...` through `accord_executable()`.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import ServiceSpec

ServiceFactory = Callable[[RuntimeSettings], ServiceSpec]


def discover(settings: RuntimeSettings) -> list[ServiceSpec]:
    """Every installed service, in start order."""
    specs = [ep.load()(settings) for ep in entry_points(group="accord.services")]
    return sorted(specs, key=lambda spec: (spec.order, spec.name))


def accord_executable() -> str:
    """The `accord` script of this environment (beside the interpreter), else the one on PATH."""
    beside = Path(sys.executable).with_name("accord")
    return str(beside) if beside.exists() else (shutil.which("accord") or "accord")
