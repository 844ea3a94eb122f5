"""Where the platform's servers listen, and the addresses every client derives from that.

One setting per thing: `ACCORD_REGISTRY_PORT` moves the registry and everything that talks to
it, `ACCORD_GATEWAY_PORT` the gateway, `ACCORD_KAFKA_PORT` the broker (the first broker of a
cluster of `ACCORD_KAFKA_BROKERS`, the others `KAFKA_PORT_STRIDE` ports apart),
`ACCORD_STREAM_METRICS_PORT` the stream service's Prometheus endpoint. A client address
(`ACCORD_REGISTRY_URL`, `ACCORD_GATEWAY_URL`, `ACCORD_KAFKA_BOOTSTRAP`) is derived from the
server's host and port unless it is set explicitly (a remote registry, a Kafka cluster).

Components use the functions below as `default_factory` of their settings fields, so the
derivation exists once.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Port = Annotated[int, Field(ge=1, le=65535)]

KAFKA_PORT_STRIDE = 2
"""Ports between two brokers of a local cluster: broker i (from 0) listens on `ACCORD_KAFKA_PORT + 2i`
and its controller on `ACCORD_KAFKA_CONTROLLER_PORT + 2i`, so the defaults 9092 and 9093 interleave
(9092/9093, 9094/9095, 9096/9097) and a single broker keeps its ports."""

# a server bound to every interface is reached by local clients on the loopback address
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104


class Addresses(BaseSettings):
    """The servers' hosts and ports (`ACCORD_<SERVER>_HOST` / `_PORT`) and explicit client addresses."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    kafka_host: str = "127.0.0.1"
    kafka_port: Port = 9092
    kafka_brokers: int = Field(default=1, ge=1, le=99, description="brokers of the local Kafka cluster")
    registry_host: str = "127.0.0.1"
    registry_port: Port = 8081
    gateway_host: str = "127.0.0.1"
    gateway_port: Port = 8080
    stream_metrics_host: str = "127.0.0.1"
    stream_metrics_port: int = Field(
        default=9464, ge=0, le=65535, description="the stream's Prometheus endpoint; 0: any free port"
    )
    kafka_bootstrap: str | None = Field(default=None, description="set only to reach another broker")
    registry_url: str | None = Field(default=None, description="set only to reach another registry")
    gateway_url: str | None = Field(default=None, description="set only to reach another gateway")

    def kafka_bootstrap_address(self) -> str:
        """`ACCORD_KAFKA_BOOTSTRAP`, else every local broker's host and port."""
        return self.kafka_bootstrap or bootstrap_list(self.kafka_host, self.kafka_broker_ports())

    def kafka_broker_ports(self) -> list[int]:
        """The ports of the local brokers, first `ACCORD_KAFKA_PORT`."""
        return broker_ports(self.kafka_port, self.kafka_brokers)

    def registry_base_url(self) -> str:
        """`ACCORD_REGISTRY_URL`, else the local registry's host and port."""
        return self.registry_url or f"http://{_client_host(self.registry_host)}:{self.registry_port}"

    def gateway_base_url(self) -> str:
        """`ACCORD_GATEWAY_URL`, else the local gateway's host and port."""
        return self.gateway_url or f"http://{_client_host(self.gateway_host)}:{self.gateway_port}"


def broker_ports(first: int, brokers: int) -> list[int]:
    """The ports of `brokers` local brokers, the first on `first` (see `KAFKA_PORT_STRIDE`)."""
    return [first + KAFKA_PORT_STRIDE * index for index in range(brokers)]


def bootstrap_list(host: str, ports: list[int]) -> str:
    """The bootstrap servers of brokers listening on `host` at `ports`, as clients write them."""
    return ",".join(f"{_client_host(host)}:{port}" for port in ports)


def is_loopback(host: str) -> bool:
    """True when a server bound to `host` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in _WILDCARD_HOSTS else host


def kafka_host() -> str:
    """The interface the broker listens on (`ACCORD_KAFKA_HOST`, default 127.0.0.1)."""
    return Addresses().kafka_host


def kafka_port() -> int:
    """The broker's port (`ACCORD_KAFKA_PORT`, default 9092)."""
    return Addresses().kafka_port


def kafka_brokers() -> int:
    """How many brokers the local Kafka cluster has (`ACCORD_KAFKA_BROKERS`, default 1)."""
    return Addresses().kafka_brokers


def registry_port() -> int:
    """The registry's port (`ACCORD_REGISTRY_PORT`, default 8081)."""
    return Addresses().registry_port


def gateway_port() -> int:
    """The gateway's port (`ACCORD_GATEWAY_PORT`, default 8080)."""
    return Addresses().gateway_port


def stream_metrics_host() -> str:
    """The interface the stream's metrics endpoint listens on (`ACCORD_STREAM_METRICS_HOST`)."""
    return Addresses().stream_metrics_host


def stream_metrics_port() -> int:
    """The stream's metrics port (`ACCORD_STREAM_METRICS_PORT`, default 9464; 0 picks a free one)."""
    return Addresses().stream_metrics_port


def kafka_bootstrap() -> str:
    """The bootstrap servers clients use (see `Addresses.kafka_bootstrap_address`)."""
    return Addresses().kafka_bootstrap_address()


def registry_url() -> str:
    """The registry URL clients use (see `Addresses.registry_base_url`)."""
    return Addresses().registry_base_url()


def gateway_url() -> str:
    """The gateway URL clients use (see `Addresses.gateway_base_url`)."""
    return Addresses().gateway_base_url()
