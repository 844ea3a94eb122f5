"""Settings of Gold, read from `ACCORD_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from accord.streaming.settings import StreamingSettings


class GoldSettings(StreamingSettings):
    """Streaming's settings (where the lake is, Silver's watermark delay, Spark) and the experiments.

    Gold reads what the streaming jobs wrote, with their session and time rules, so it extends
    their settings rather than repeating them.
    """

    experiments_file: Path | None = Field(
        default=None, description="experiments JSON for Gold; default: the one shipped for the demo"
    )
    experiment_health_interval_s: float = Field(
        default=60.0,
        ge=0,
        description="seconds between the stream's experiment health checks; 0 disables",
    )
