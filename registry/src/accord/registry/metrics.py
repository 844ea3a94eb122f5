"""Prometheus metrics of the registry at `GET /metrics` (open, like `/_health`).

* `accord_registry_requests_total{route, method, status}`: answers, by route template;
* `accord_registry_registration_seconds{outcome}`: time of `POST /subjects/{s}/versions`
  from parse to read-back, outcome `registered`, `existing` or `refused`;
* `accord_registry_schemas`, `accord_registry_subjects`: ids served, subjects with a live version;
* `accord_registry_reader_lag_records`: records of `_schemas` the reader has not applied yet;
* `accord_registry_ready`: 1 while it answers (read `_schemas` to its end, reader not failed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.registry.kafka_log import Progress
from accord.registry.operations import Registry
from accord.registry.store import SchemaStore

Scope = dict[str, Any]
ASGIApp = Callable[..., Any]
UNMATCHED = "unmatched"


class _StateCollector(Collector):
    """Gauges read from the store and the reader at scrape time."""

    def __init__(self, store: SchemaStore, lag: Callable[[], int], ready: Callable[[], bool]) -> None:
        self.store = store
        self.lag = lag
        self.ready = ready

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "accord_registry_schemas", "schema ids served", value=len(self.store.id_bodies)
        )
        yield GaugeMetricFamily(
            "accord_registry_subjects", "subjects with a live version", value=len(self.store.subject_names())
        )
        yield GaugeMetricFamily(
            "accord_registry_reader_lag_records",
            "records of the schemas topic not applied yet",
            value=self.lag(),
        )
        yield GaugeMetricFamily(
            "accord_registry_ready", "1 while the registry answers requests", value=1 if self.ready() else 0
        )


class RegistryMetrics:
    """The registry's metrics, in a Prometheus registry of their own."""

    def __init__(self, store: SchemaStore, lag: Callable[[], int], ready: Callable[[], bool]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "accord_registry_requests",
            "HTTP requests answered, by route template",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.registration = Histogram(
            "accord_registry_registration_seconds",
            "time to answer a registration, from parse to the record read back",
            ["outcome"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.registry.register(_StateCollector(store, lag, ready))

    def observe_registration(self, outcome: str, seconds: float) -> None:
        """Record one registration's outcome and duration."""
        self.registration.labels(outcome).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class _RequestCounter:
    """ASGI middleware counting answers by the template of the route that served them."""

    def __init__(self, app: ASGIApp, *, metrics: RegistryMetrics, routes: Callable[[], list[Any]]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self._templates: dict[Any, str] | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watching_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            self.metrics.requests.labels(self._template(scope), scope["method"], str(status)).inc()

    def _template(self, scope: Scope) -> str:
        # the router records what it chose in the (shared) scope: the route of an included
        # router (matched lazily, so absent from the app's route list), else the endpoint of
        # one of the app's own plain routes
        route = scope.get("route")
        if isinstance(route, Route):
            return route.path
        if self._templates is None:
            self._templates = {r.endpoint: r.path for r in self.routes() if isinstance(r, Route)}
        return self._templates.get(scope.get("endpoint"), UNMATCHED)


def install_metrics(app: FastAPI, registry: Registry, progress: Callable[[], Progress]) -> RegistryMetrics:
    """Count `app`'s requests and `registry`'s registrations, and serve them at `/metrics`."""

    def lag() -> int:
        if registry.log is not None:
            return registry.log.lag()
        state = progress()
        return max(state.end - state.applied, 0)

    def ready() -> bool:
        state = progress()
        return state.ready and state.failure is None

    metrics = RegistryMetrics(registry.store, lag, ready)
    registry.on_registration = metrics.observe_registration

    async def scrape(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.router.routes.append(Route("/metrics", scrape, methods=["GET"]))
    app.add_middleware(_RequestCounter, metrics=metrics, routes=lambda: app.router.routes)
    return metrics
