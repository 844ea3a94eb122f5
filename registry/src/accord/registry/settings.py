"""Configuration of the registry server, read from `ACCORD_REGISTRY_*` (and `ACCORD_KAFKA_BOOTSTRAP`)."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.addresses import kafka_bootstrap, registry_port


class RegistryUser(BaseModel):
    """One HTTP Basic user: every user may read; `write` allows registering, deleting, configuring."""

    password: str
    write: bool = False


class RegistrySettings(BaseSettings):
    """Where the registry listens, which topic holds its state, who may use it.

    `users` is JSON in `ACCORD_REGISTRY_USERS`, e.g. `{"ci": {"password": "…", "write": true}}`;
    when empty, authentication is off. `writer_url` makes this instance a follower that
    serves reads from the topic and forwards writes to the writer at that URL.
    """

    model_config = SettingsConfigDict(env_prefix="ACCORD_REGISTRY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default_factory=registry_port)
    topic: str = "_schemas"
    kafka_bootstrap: str = Field(
        default_factory=kafka_bootstrap,
        validation_alias=AliasChoices("ACCORD_KAFKA_BOOTSTRAP", "kafka_bootstrap"),
    )
    writer_url: str | None = None
    users: dict[str, RegistryUser] = Field(default_factory=dict)
    write_timeout_s: float = 30.0
    max_schema_bytes: int = 1_000_000
    bench_static_route: bool = Field(
        default=False, description="serve GET /_bench/static, the baseline of bench/registry"
    )
