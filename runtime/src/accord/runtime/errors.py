"""Errors the runtime raises; the command line turns each into a message and a non-zero exit."""

from __future__ import annotations


class AccordError(Exception):
    """Base class of every runtime error that is reported to the user as a message."""


class MissingToolError(AccordError):
    """A program the runtime needs (java, mvn) is not installed."""

    def __init__(self, tool: str, hint: str) -> None:
        super().__init__(f"{tool} is not installed or not on PATH. {hint}")
        self.tool = tool


class JarResolutionError(AccordError):
    """Maven could not resolve the jars of a pom."""


class PortInUseError(AccordError):
    """A port a service needs is already bound by another process."""

    def __init__(self, service: str, port: int, owner: str) -> None:
        super().__init__(
            f"cannot start {service}: port {port} is already in use by {owner}. "
            f"Stop that process or configure {service} to use another port."
        )
        self.service = service
        self.port = port
        self.owner = owner


class ServiceStartError(AccordError):
    """A service's process exited or did not become ready in time."""

    def __init__(self, service: str, reason: str, log_tail: list[str]) -> None:
        tail = "\n".join(f"    {line}" for line in log_tail)
        super().__init__(
            f"{service} failed to start: {reason}" + (f"\n  last log lines:\n{tail}" if tail else "")
        )
        self.service = service
        self.log_tail = log_tail


class InvalidSettingError(AccordError):
    """An `ACCORD_*` variable holds a value its setting cannot take."""

    def __init__(self, variable: str, value: object, expected: str) -> None:
        super().__init__(f"invalid setting {variable}={value!r}: {expected}")
        self.variable = variable
        self.value = value
        self.expected = expected
