"""What the routers share, handed to them as FastAPI dependencies from the application's state.

`create_app` puts one `AppState` on `app.state`; a route declares what it needs with the
annotated types below (`store: StoreDep`), so no router holds module-level state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from accord.registry.kafka_log import Progress
from accord.registry.operations import Registry
from accord.registry.settings import RegistrySettings
from accord.registry.store import SchemaStore


@dataclass(frozen=True)
class AppState:
    """The registry behind the HTTP API, its settings, and how far its reader got."""

    registry: Registry
    settings: RegistrySettings
    progress: Callable[[], Progress]


def app_state(request: Request) -> AppState:
    """The application's `AppState`."""
    state: AppState = request.app.state.accord
    return state


def _registry(request: Request) -> Registry:
    return app_state(request).registry


def _store(request: Request) -> SchemaStore:
    return app_state(request).registry.store


def _settings(request: Request) -> RegistrySettings:
    return app_state(request).settings


def _progress(request: Request) -> Progress:
    return app_state(request).progress()


RegistryDep = Annotated[Registry, Depends(_registry)]
StoreDep = Annotated[SchemaStore, Depends(_store)]
SettingsDep = Annotated[RegistrySettings, Depends(_settings)]
ProgressDep = Annotated[Progress, Depends(_progress)]
