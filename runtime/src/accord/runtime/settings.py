"""Settings of the local runtime, read from `ACCORD_*` environment variables.

`invalid_setting` turns the pydantic error of any component's settings into one line naming the
variable, its value and what is expected, which the command line prints instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.addresses import Port, kafka_host, kafka_port
from accord.runtime.errors import InvalidSettingError


class RuntimeSettings(BaseSettings):
    """Where the runtime keeps its state and how the Kafka broker is laid out.

    Every field can be set from the environment, e.g. `ACCORD_KAFKA_PORT=19092`.
    """

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    state_dir: Path = Field(default=Path(".run"), description="process records, data and logs")
    cache_dir: Path = Field(default=Path(".cache"), description="jars resolved by Maven")
    kafka_host: str = Field(default_factory=kafka_host)
    kafka_port: Port = Field(default_factory=kafka_port)
    kafka_controller_port: Port = 9093
    kafka_heap: str = "-Xms256m -Xmx1g"
    kafka_log_level: str = Field(default="INFO", description="level of the broker's own log4j loggers")
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
