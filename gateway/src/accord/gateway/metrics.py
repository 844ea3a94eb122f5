"""Prometheus metrics of the gateway, in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
            "accord_gateway_in_flight_requests", "requests being served", registry=self.registry
        )
