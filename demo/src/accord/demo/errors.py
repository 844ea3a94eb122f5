"""Errors of the demo and the traffic simulator.

DemoError
 ├── SimulationError        the simulator could not produce a trustworthy truth file
 ├── TruthFileError         a truth file is missing or is not the simulator's
 ├── CatchUpTimeoutError    the streaming jobs did not process everything in time
 └── DemoStepError          a step of `accord demo` failed
"""

from __future__ import annotations

from accord.runtime.errors import AccordError


class DemoError(AccordError):
    """Base class of the demo's errors; the command line reports them as one message."""


class SimulationError(DemoError):
    """The simulator cannot vouch for what the gateway received, so it writes no truth file."""


class TruthFileError(DemoError):
    """The truth file cannot be read, or it is not what the simulator writes (the message says why)."""


class CatchUpTimeoutError(DemoError):
    """The streaming jobs did not process everything in time."""


class DemoStepError(DemoError):
    """A step of the demo failed; the message says which and why."""
