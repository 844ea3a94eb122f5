"""Settings of the local runtime, read from `ACCORD_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    """Where the runtime keeps its state and how the Kafka broker is laid out.

    Every field can be set from the environment, e.g. `ACCORD_KAFKA_PORT=19092`.
    """

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    state_dir: Path = Field(default=Path(".run"), description="process records, data and logs")
    cache_dir: Path = Field(default=Path(".cache"), description="jars resolved by Maven")
    kafka_host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "-Xms256m -Xmx1g"
    kafka_partitions: int = Field(
        default=4, description="partitions of the platform's topics (events are keyed by user)"
    )
    events_topic: str = "events"
    deadletter_topic: str = "events.deadletter"
    start_timeout_s: float = 90.0
    stop_timeout_s: float = 20.0

    @property
    def kafka_bootstrap(self) -> str:
        """The bootstrap address clients use to reach the local broker."""
        return f"{self.kafka_host}:{self.kafka_port}"
