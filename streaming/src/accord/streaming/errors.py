"""Errors the streaming jobs report to the user."""

from __future__ import annotations

from accord.runtime.errors import AccordError


class StreamingError(AccordError):
    """Base class of the streaming jobs' errors."""


class SchemaLookupError(StreamingError):
    """The registry could not be asked about a schema (not reachable, or an unexpected answer)."""


class InvalidRangeError(StreamingError):
    """A replay or backfill range that makes no sense (end before start, unknown partition)."""


class StreamFailedError(StreamingError):
    """A streaming query stopped with an error; its checkpoint lets a restart resume."""


class TableNotFoundError(StreamingError):
    """A Delta table the command needs is not in the lake."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no Delta table at {path}: has the pipeline written anything yet?")
        self.path = path


class EmptyTableError(StreamingError):
    """A Delta table the command needs exists but holds no row yet (the stream creates it empty)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the Delta table at {path} holds no row yet: has the pipeline received an event?")
        self.path = path


class InspectError(StreamingError):
    """The ledger or a trace could not ask a server (gateway, Kafka) for what it holds."""
