"""Prometheus metrics of the gateway, in a registry of its own (shared by its processes, if several)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from accord.gateway import multiprocess
from accord.gateway.counts import HOURLY_EVENTS


class GatewayMetrics:
    """Requests, events by outcome and reason, produce latency, requests in flight."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "accord_gateway_requests", "HTTP requests answered", ["route", "status"], registry=self.registry
        )
        self.events = Counter(
            "accord_gateway_events",
            "events by outcome (accepted, duplicate, rejected) and reason",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self.produce_latency = Histogram(
            "accord_gateway_produce_latency_seconds",
            "time from enqueueing a request's records to Kafka acknowledging the last",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "accord_gateway_in_flight_requests",
            "requests being served",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def exposition(self) -> bytes:
        """The Prometheus text of every process serving the port."""
        exposed = CollectorRegistry()
        exposed.register(_Families(self.registry))
        return generate_latest(exposed)


class _Families(Collector):
    """The families of all processes but the hourly counts, which `/v1/stats` serves."""

    def __init__(self, own: CollectorRegistry) -> None:
        self._own = own

    def collect(self) -> Iterable[Metric]:
        return (family for family in multiprocess.collect(self._own) if family.name != HOURLY_EVENTS)
