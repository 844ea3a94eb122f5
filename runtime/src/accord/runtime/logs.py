"""Structured logging: one JSON object per line, with the fields passed in `extra`.

Accord's own loggers (`accord.*`) log at the configured level; every other library logs at
`library_level` (WARNING by default), so a service's log holds its own facts rather than py4j
chatter and one httpx line per registry request.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from accord.runtime.errors import InvalidSettingError

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

ACCORD_LOGGER = "accord"

LIBRARY_LOGGERS = (
    "py4j",
    "httpx",
    "httpcore",
    "uvicorn",
    "uvicorn.access",
    "uvicorn.error",
    "urllib3",
    "confluent_kafka",
    "kafka",
    "botocore",
    "boto3",
    "s3transfer",
    "asyncio",
)
"""Libraries known to log at INFO or below; set explicitly because some configure their own level."""


def kafka_client_logging() -> dict[str, Any]:
    """librdkafka settings for a service's Kafka client: its own log lines (plain text on stderr by
    default) go through the Python logger `confluent_kafka` instead, warnings and worse only."""
    # librdkafka levels are syslog's: 4 is warning
    return {"logger": logging.getLogger("confluent_kafka"), "log_level": 4}


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON: time, level, logger, message and every `extra` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


LEVELS = ("debug", "info", "warning", "error", "critical")


def log_level(value: str, variable: str = "ACCORD_LOG_LEVEL") -> int:
    """The numeric level named `value` (any case), or `InvalidSettingError` naming `variable`."""
    if value.lower() not in LEVELS:
        raise InvalidSettingError(variable, value, f"expected one of {', '.join(LEVELS)}")
    return logging.getLevelNamesMapping()[value.upper()]


def configure_logging(level: str = "INFO", library_level: str | None = None) -> None:
    """Send every log record of the process to stderr as JSON lines.

    `level` applies to Accord's loggers, `library_level` (default `ACCORD_LIBRARY_LOG_LEVEL`, else
    WARNING) to everything else: the root logger and the libraries in `LIBRARY_LOGGERS`.
    """
    own = log_level(level)
    libraries = log_level(
        library_level or os.environ.get("ACCORD_LIBRARY_LOG_LEVEL", "WARNING"), "ACCORD_LIBRARY_LOG_LEVEL"
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(libraries)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(libraries)
    logging.getLogger(ACCORD_LOGGER).setLevel(own)
