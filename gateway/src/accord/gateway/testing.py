"""pytest fixtures that run a real gateway on free ports for the test session.

`gateway_server` (session): one gateway against `kafka_broker` and `registry_server`, with a
write key allowed `events-*` (`.url`, `.write_key`). `gateway_factory` (per test): more gateways
with custom keys, limits or broker; all are stopped when the test ends.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from accord.gateway.auth import DEVELOPMENT_KEY, hash_key
from accord.gateway.service import gateway_spec
from accord.gateway.settings import GatewaySettings
from accord.registry.testing import RegistryHandle
from accord.runtime.ports import free_port
from accord.runtime.supervisor import Supervisor
from accord.runtime.testing import BrokerHandle, make_test_settings


@dataclass(frozen=True)
class TestKey:
    """A write key for tests: its id, its secret, the subject patterns it may send and its origins."""

    __test__ = False  # not a test class, despite the name

    key_id: str
    secret: str = field(default_factory=lambda: f"test-{secrets.token_hex(16)}")
    subjects: Sequence[str] = ("events-*",)
    origins: Sequence[str] = ("*",)


def write_keys_file(path: Path, keys: Sequence[TestKey]) -> Path:
    """Write `keys` (hashed) as a gateway write keys file at `path`."""
    path.write_text(
        json.dumps(
            [
                {
                    "key_id": k.key_id,
                    "sha256": hash_key(k.secret),
                    "subjects": list(k.subjects),
                    "origins": list(k.origins),
                }
                for k in keys
            ]
        )
    )
    return path


def now_rfc3339() -> str:
    """The current time as the SDK sends it (`Accord-Sent-At`, a JSON batch's `sent_at`)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_json(url: str, key: str, events: list[Any], *, sent_at: str | None = None) -> httpx.Response:
    """POST a JSON batch of `events` (each `{"schema", "payload", ["version"]}`) to the gateway.

    `sent_at` (RFC 3339) defaults to now.
    """
    return httpx.post(
        f"{url}/v1/events",
        json={"sent_at": sent_at or now_rfc3339(), "events": events},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


@dataclass
class GatewayHandle:
    """A gateway started for tests."""

    name: str
    settings: GatewaySettings
    env: dict[str, str]
    keys: Sequence[TestKey]
    supervisor: Supervisor

    @property
    def url(self) -> str:
        """Base URL of the gateway's HTTP API."""
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def write_key(self) -> str:
        """The secret of the first key (allowed `events-*` unless the test chose otherwise).

        A gateway started with `keys=[]` has no keys file: the development key applies.
        """
        return self.keys[0].secret if self.keys else DEVELOPMENT_KEY

    @property
    def log_file(self) -> Path:
        """Where the gateway's JSON log lines go."""
        return self.supervisor.log_file(self.name)

    def workers(self) -> list[psutil.Process]:
        """The worker processes serving the port when `workers` > 1 (the children of `accord gateway serve`).

        Only those that serve: a worker counts once it logged that it started (at INFO, the
        default `log_level`).
        """
        parent = self.supervisor.process(self.name)
        if parent is None:
            return []
        lines = self.log_file.read_bytes().splitlines()
        started = {
            entry.get("pid")
            for entry in (json.loads(line) for line in lines if line.startswith(b"{"))
            if entry.get("msg") == "gateway started"
        }
        return [child for child in parent.children() if child.pid in started and _alive(child)]

    def start(self) -> None:
        """Start (or restart) the gateway and wait until `/readyz` answers 200."""
        self.supervisor.start(gateway_spec(self.settings, self.env, name=self.name))

    def stop(self) -> None:
        """Stop the gateway gracefully."""
        self.supervisor.stop(self.name)

    def kill(self) -> None:
        """SIGKILL the gateway, as a crash would."""
        self.supervisor.kill(self.name)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_gateway(
    state_dir: Path,
    bootstrap: str,
    registry_url: str,
    keys: Sequence[TestKey],
    overrides: dict[str, Any],
) -> GatewayHandle:
    """Start a gateway under `state_dir` on a free port; `overrides` are `GatewaySettings` fields."""
    state_dir.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {"host": "127.0.0.1", "port": free_port(), **overrides}
    if keys:
        values["write_keys_file"] = write_keys_file(state_dir / "write-keys.json", keys)
    env = {f"ACCORD_GATEWAY_{name.upper()}": str(value) for name, value in values.items()}
    env.update({"ACCORD_KAFKA_BOOTSTRAP": bootstrap, "ACCORD_REGISTRY_URL": registry_url})
    settings = GatewaySettings(kafka_bootstrap=bootstrap, registry_url=registry_url, **values)
    handle = GatewayHandle("gateway", settings, env, keys, Supervisor(state_dir))
    handle.start()
    return handle


@contextmanager
def running_stack(
    root: Path, cache_dir: Path, gateway_overrides: dict[str, Any], keys: Sequence[TestKey]
) -> Iterator[tuple[BrokerHandle, RegistryHandle, GatewayHandle]]:
    """A private broker, registry and gateway under `root` (for benchmarks), stopped on exit."""
    settings = make_test_settings(root / "kafka", cache_dir)
    broker = BrokerHandle(settings, Supervisor(settings.state_dir))
    registry: RegistryHandle | None = None
    gateway: GatewayHandle | None = None
    try:
        broker.start()
        registry = RegistryHandle(broker.bootstrap, "_schemas", root / "registry")
        registry.start()
        gateway = start_gateway(root / "gateway", broker.bootstrap, registry.url, keys, gateway_overrides)
        yield broker, registry, gateway
    finally:
        for handle in (gateway, registry):
            if handle is not None:
                handle.stop()
        broker.stop()


@pytest.fixture(scope="session")
def gateway_server(
    tmp_path_factory: pytest.TempPathFactory, kafka_broker: BrokerHandle, registry_server: RegistryHandle
) -> Iterator[GatewayHandle]:
    """One real gateway for the session; its `write_key` may send every `events-*` subject."""
    handle = start_gateway(
        tmp_path_factory.mktemp("gateway-session"),
        kafka_broker.bootstrap,
        registry_server.url,
        [TestKey("test")],
        {},
    )
    yield handle
    handle.stop()


GatewayFactory = Callable[..., GatewayHandle]


@pytest.fixture
def gateway_factory(
    tmp_path_factory: pytest.TempPathFactory, kafka_broker: BrokerHandle, registry_server: RegistryHandle
) -> Iterator[GatewayFactory]:
    """Start gateways with custom settings: `start(keys=[TestKey(...)], bootstrap=..., max_batch_events=5)`.

    Keyword arguments other than `keys`, `bootstrap` and `registry_url` are `GatewaySettings`
    fields; `keys=[]` starts a gateway without a keys file (the development key `dev-write-key`
    applies).
    """
    handles: list[GatewayHandle] = []

    def start(
        *,
        keys: Sequence[TestKey] | None = None,
        bootstrap: str | None = None,
        registry_url: str | None = None,
        **overrides: Any,
    ) -> GatewayHandle:
        handle = start_gateway(
            tmp_path_factory.mktemp("gateway-private"),
            bootstrap or kafka_broker.bootstrap,
            registry_url or registry_server.url,
            [TestKey("test")] if keys is None else keys,
            overrides,
        )
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop()
