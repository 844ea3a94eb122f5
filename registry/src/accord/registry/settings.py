"""Configuration of the registry server, read from `ACCORD_REGISTRY_*` (and `ACCORD_KAFKA_BOOTSTRAP`)."""

from __future__ import annotations

from typing import Self

from pydantic import AliasChoices, BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.addresses import is_loopback, kafka_bootstrap, registry_port
from accord.runtime.errors import InvalidSettingError
from accord.runtime.kafka_security import KafkaSecurity


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
    kafka_security: KafkaSecurity = Field(
        default_factory=KafkaSecurity, description="TLS and SASL from ACCORD_KAFKA_SECURITY_PROTOCOL, …"
    )
    writer_url: str | None = None
    users: dict[str, RegistryUser] = Field(default_factory=dict)
    allow_anonymous: bool = Field(
        default=False, description="serve without users on an address other hosts reach"
    )
    write_timeout_s: float = 30.0
    max_schema_bytes: int = 1_000_000

    @model_validator(mode="after")
    def _open_registry_stays_local(self) -> Self:
        # without users anyone who reaches the registry may register and delete schemas
        if not self.users and not self.allow_anonymous and not is_loopback(self.host):
            raise InvalidSettingError(
                "ACCORD_REGISTRY_HOST",
                self.host,
                "a registry other hosts reach needs ACCORD_REGISTRY_USERS "
                "(or ACCORD_REGISTRY_ALLOW_ANONYMOUS=true to serve it open)",
            )
        return self
