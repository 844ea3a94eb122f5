"""Errors of the Gold layer and its report.

GoldError
 ├── ExperimentConfigError   the experiments file is missing or malformed
 ├── InsufficientDataError   too few users (or no variance) for a test
 └── ReportRenderError       the HTML report could not be rendered or screenshotted
"""

from __future__ import annotations

from accord.runtime.errors import AccordError


class GoldError(AccordError):
    """Base class of Gold errors; the command line reports them as one message."""


class ExperimentConfigError(GoldError):
    """The experiments configuration cannot be used."""


class InsufficientDataError(GoldError):
    """A statistical test needs more data than the variants have."""


class ReportRenderError(GoldError):
    """The report could not be rendered by the browser."""
