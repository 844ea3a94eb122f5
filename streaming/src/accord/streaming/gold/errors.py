"""Errors of the Gold layer, the ledger and the report.

GoldError
 ├── ExperimentConfigError   the experiments file is missing or malformed
 ├── InsufficientDataError   too few users (or no variance) for a test
 ├── TableNotFoundError      a lake table the command reads does not exist yet
 └── ReportRenderError       the HTML report could not be rendered or screenshotted
"""

from __future__ import annotations

from accord.streaming.errors import StreamingError


class GoldError(StreamingError):
    """Base class of Gold errors; the command line reports them as one message."""


class ExperimentConfigError(GoldError):
    """The experiments configuration cannot be used."""


class InsufficientDataError(GoldError):
    """A statistical test needs more data than the variants have."""


class TableNotFoundError(GoldError):
    """A Delta table the command needs is not in the lake."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no Delta table at {path}: has the pipeline written anything yet?")
        self.path = path


class ReportRenderError(GoldError):
    """The report could not be rendered by the browser."""
