"""Errors the SDK raises.

AccordSdkError
├── InvalidEventError           an event cannot be sent as it is (raised by `Client.track`)
│   ├── NotAnEventError         the object is not a generated event class
│   ├── MissingFieldError       a required field is absent or None
│   ├── WrongTypeError          a field holds a value of the wrong type
│   ├── NaiveDatetimeError      a timestamp field holds a datetime without a time zone
│   ├── ValueOutOfRangeError    an int, long or decimal does not fit its Avro type
│   └── InvalidValueError       a value of the right type the schema still refuses
│                               (unknown enum symbol, bytes of the wrong size for a fixed)
├── ConfigError                 a client setting is invalid
├── ClientClosedError           `track` after `close`
└── QueueFullError              the queue stayed full for the whole block timeout
"""

from __future__ import annotations


class AccordSdkError(Exception):
    """Base class of every error the SDK raises."""


class InvalidEventError(AccordSdkError, ValueError):
    """An event fails local validation; nothing was queued.

    `field` is the dotted path of the offending field, e.g. `envelope.event_time`.
    """

    def __init__(self, event_type: str, field: str, problem: str) -> None:
        super().__init__(f"{event_type}.{field}: {problem}" if field else f"{event_type}: {problem}")
        self.event_type = event_type
        self.field = field
        self.problem = problem


class NotAnEventError(InvalidEventError, TypeError):
    """`track` was given something that is not an Accord event."""

    def __init__(self, obj: object) -> None:
        super().__init__(
            type(obj).__name__,
            "",
            "not an Accord event: expected an instance of a class from accord.sdk.events "
            "(with SUBJECT, AVRO_SCHEMA and to_avro())",
        )


class MissingFieldError(InvalidEventError):
    """A required field is missing or None."""


class WrongTypeError(InvalidEventError, TypeError):
    """A field holds a value of a type its schema does not allow."""


class NaiveDatetimeError(InvalidEventError):
    """A timestamp field holds a naive datetime; the SDK never guesses a time zone."""


class ValueOutOfRangeError(InvalidEventError):
    """A number does not fit its Avro type (int32, int64, decimal precision or scale)."""


class InvalidValueError(InvalidEventError):
    """A value of an acceptable type that the schema still refuses."""


class ConfigError(AccordSdkError, ValueError):
    """A client setting is invalid; `setting` names it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


class ClientClosedError(AccordSdkError):
    """The client was closed; it accepts no more events."""


class QueueFullError(AccordSdkError):
    """The send queue stayed full for the whole block timeout; the event was dropped and counted."""
