"""Where each table and checkpoint of the lake lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accord.streaming.settings import StreamingSettings


def _absolute(uri: str) -> str:
    """Spark resolves relative paths against its own working folder, so local paths are made absolute."""
    if "://" in uri:
        return uri.rstrip("/")
    return str(Path(uri).resolve())


@dataclass(frozen=True)
class Lake:
    """Paths of the lake's Delta tables and of the streaming checkpoints."""

    root: str
    checkpoints: str

    @classmethod
    def from_settings(cls, settings: StreamingSettings) -> Lake:
        """The lake under `lake_uri`, checkpoints beside the tables unless configured elsewhere."""
        root = _absolute(settings.lake_uri)
        checkpoints = (
            _absolute(settings.checkpoint_uri) if settings.checkpoint_uri else f"{root}/_checkpoints"
        )
        return cls(root=root, checkpoints=checkpoints)

    @property
    def bronze(self) -> str:
        """Raw Kafka records, append-only."""
        return f"{self.root}/bronze/events"

    @property
    def silver(self) -> str:
        """Decoded, validated, deduplicated events."""
        return f"{self.root}/silver/events"

    @property
    def event_ids(self) -> str:
        """One row per Silver event, partitioned for deduplication lookups (`accord.streaming.id_index`)."""
        return f"{self.root}/silver/event_ids"

    @property
    def assignments(self) -> str:
        """First exposure per user and experiment, the source of Silver's `experiments` map."""
        return f"{self.root}/silver/experiment_assignments"

    @property
    def quarantine(self) -> str:
        """Records that could not become Silver, with the reason."""
        return f"{self.root}/quarantine/events"

    @property
    def silver_batches(self) -> str:
        """Counts per Silver micro-batch."""
        return f"{self.root}/_ops/silver_batches"

    def checkpoint(self, query: str) -> str:
        """The checkpoint folder of one streaming query."""
        return f"{self.checkpoints}/{query}"
