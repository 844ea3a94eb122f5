"""When a streaming query runs its micro-batches: continuously, or once over what is there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from pyspark.sql.streaming.readwriter import DataStreamWriter


def with_trigger(
    writer: DataStreamWriter, settings: StreamingSettings, *, available_now: bool
) -> DataStreamWriter:
    """`writer` triggered every `settings.trigger_interval`, or once over what is available now."""
    if available_now:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=settings.trigger_interval)
