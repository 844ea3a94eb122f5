"""log4j2 configuration of the JVM services: JSON lines with the same fields as Python's logs.

Every JVM Accord runs (the Kafka broker, the Spark driver) logs through log4j2's
`JsonTemplateLayout` (artifact `log4j-layout-template-json`) with the event template
`jvm/log-event.json`: `ts`, `level`, `logger`, `msg`, `thread` and `exc`, one object per line,
so one parser reads every service's log.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path


def event_template() -> Path:
    """The JSON event template shipped with the runtime."""
    return Path(str(resources.files("accord.runtime") / "jvm" / "log-event.json")).resolve()


def log4j2_properties(level: str, loggers: Mapping[str, str]) -> str:
    """A log4j2 configuration: JSON lines on stderr, the root at `level`, `loggers` at their own."""
    lines = [
        # log4j's own status messages are plain text: only its errors are worth a line
        "status = error",
        "appender.json.type = Console",
        "appender.json.name = JSON",
        "appender.json.target = SYSTEM_ERR",
        "appender.json.layout.type = JsonTemplateLayout",
        f"appender.json.layout.eventTemplateUri = {event_template().as_uri()}",
        f"rootLogger.level = {level.upper()}",
        "rootLogger.appenderRef.json.ref = JSON",
    ]
    for index, (name, logger_level) in enumerate(sorted(loggers.items())):
        lines += [f"logger.l{index}.name = {name}", f"logger.l{index}.level = {logger_level.upper()}"]
    return "\n".join(lines) + "\n"


def write_log4j2_config(path: Path, level: str, loggers: Mapping[str, str]) -> Path:
    """Write `log4j2_properties(level, loggers)` to `path` and return its absolute path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(log4j2_properties(level, loggers))
    return path.resolve()
