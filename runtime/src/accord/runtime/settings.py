"""Settings of the local runtime, read from `ACCORD_*` environment variables.

`invalid_setting` turns the pydantic error of any component's settings into one line naming the
variable, its value and what is expected, which the command line prints instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.addresses import (
    Port,
    bootstrap_list,
    broker_ports,
    kafka_brokers,
    kafka_host,
    kafka_port,
)
from accord.runtime.errors import InvalidSettingError


class RuntimeSettings(BaseSettings):
    """Where the runtime keeps its state and how the Kafka broker (or cluster) is laid out.

    Every field can be set from the environment, e.g. `ACCORD_KAFKA_PORT=19092`. With
    `ACCORD_KAFKA_BROKERS=N` the runtime runs a cluster of N brokers on ports
    `ACCORD_KAFKA_PORT + 2i` (see `accord.runtime.addresses.KAFKA_PORT_STRIDE`); topic replication
    and `min.insync.replicas` default to what that cluster can hold (see `replication_factor`).
    """

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore", populate_by_name=True)

    state_dir: Path = Field(default=Path(".run"), description="process records, data and logs")
    cache_dir: Path = Field(default=Path(".cache"), description="jars resolved by Maven")
    kafka_host: str = Field(default_factory=kafka_host)
    kafka_port: Port = Field(default_factory=kafka_port)
    kafka_controller_port: Port = 9093
    kafka_brokers: int = Field(
        default_factory=kafka_brokers, ge=1, le=99, description="brokers of the local Kafka cluster"
    )
    kafka_replication_factor: int | None = Field(
        default=None, ge=1, description="replicas of every platform topic; default min(3, brokers)"
    )
    kafka_min_insync_replicas: int | None = Field(
        default=None,
        ge=1,
        description="replicas that must hold a record before acks=all succeeds; default 2 with 3 or "
        "more replicas (one broker may fail), else 1",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias="ACCORD_KAFKA_BOOTSTRAP",
        description="set only to run the platform against another Kafka cluster",
    )
    kafka_heap: str = "-Xms256m -Xmx1g"
    kafka_log_level: str = Field(default="INFO", description="level of the broker's own log4j loggers")
    kafka_partitions: int = Field(
        default=4, description="partitions of the platform's topics (events are keyed by user)"
    )
    events_topic: str = "events"
    deadletter_topic: str = "events.deadletter"
    start_timeout_s: float = 90.0
    stop_timeout_s: float = 20.0

    @model_validator(mode="after")
    def _topics_fit_the_cluster(self) -> Self:
        if self.kafka_bootstrap_servers is None and self.replication_factor > self.kafka_brokers:
            raise InvalidSettingError(
                "ACCORD_KAFKA_REPLICATION_FACTOR",
                self.replication_factor,
                f"at most the {self.kafka_brokers} broker(s) of ACCORD_KAFKA_BROKERS",
            )
        if self.min_insync_replicas > self.replication_factor:
            raise InvalidSettingError(
                "ACCORD_KAFKA_MIN_INSYNC_REPLICAS",
                self.min_insync_replicas,
                f"at most the replication factor ({self.replication_factor}), or no write could succeed",
            )
        return self

    @property
    def kafka_ports(self) -> list[int]:
        """The ports of the local brokers."""
        return broker_ports(self.kafka_port, self.kafka_brokers)

    @property
    def kafka_controller_ports(self) -> list[int]:
        """The controller ports of the local brokers (same stride as `kafka_ports`)."""
        return broker_ports(self.kafka_controller_port, self.kafka_brokers)

    @property
    def local_bootstrap(self) -> str:
        """The bootstrap servers of the brokers this runtime runs."""
        return bootstrap_list(self.kafka_host, self.kafka_ports)

    @property
    def kafka_bootstrap(self) -> str:
        """The bootstrap servers the services use: `ACCORD_KAFKA_BOOTSTRAP`, else the local brokers."""
        return self.kafka_bootstrap_servers or self.local_bootstrap

    @property
    def replication_factor(self) -> int:
        """Replicas of the platform's topics (and of the cluster's internal topics)."""
        return self.kafka_replication_factor or min(3, self.kafka_brokers)

    @property
    def min_insync_replicas(self) -> int:
        """`min.insync.replicas` of the platform's topics (and the brokers' default)."""
        return self.kafka_min_insync_replicas or (2 if self.replication_factor >= 3 else 1)

    @property
    def topic_config(self) -> dict[str, str]:
        """Topic configuration the platform's topics are created with."""
        return {"min.insync.replicas": str(self.min_insync_replicas)}


def _settings_classes(base: type[BaseSettings] = BaseSettings) -> dict[str, type[BaseSettings]]:
    found: dict[str, type[BaseSettings]] = {}
    for cls in base.__subclasses__():
        found[cls.__name__] = cls
        found.update(_settings_classes(cls))
    return found


def environment_variable(settings: type[BaseSettings], field: str) -> str:
    """The environment variable that sets `field` of `settings` (its alias, else prefix + name)."""
    info = settings.model_fields.get(field)
    if info is not None:
        alias = info.validation_alias
        if isinstance(alias, str):
            return alias.upper()
        if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
            return alias.choices[0].upper()
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def invalid_setting(exc: ValidationError) -> InvalidSettingError | None:
    """The first error of a settings class's `ValidationError` as an `InvalidSettingError`.

    Returns None when the error does not come from a settings class (a programming error, which
    should keep its traceback).
    """
    settings = _settings_classes().get(exc.title)
    if settings is None:
        return None
    errors = exc.errors()
    first: dict[str, Any] = dict(errors[0])
    field = str(first["loc"][0]) if first["loc"] else ""
    variable = field if field.startswith("ACCORD_") else environment_variable(settings, field)
    message = str(first["msg"])
    expected = message[:1].lower() + message[1:]
    if len(errors) > 1:
        expected += f" (and {len(errors) - 1} more invalid setting(s) in {exc.title})"
    return InvalidSettingError(variable, first.get("input"), expected)
