"""Names derived from a record's name: its registry subject and its event type.

Subjects follow TopicRecordNameStrategy: an event record is registered as
`<topic>-<record full name>` (`events-accord.events.PageView`); a shared named type
(`accord.common.Envelope`) under its full name, and referenced from the events.

The event type is the record name in snake_case, used as Silver's `event_type` and as the
generated module's name. An acronym is one word: `HTTPRequest` -> `http_request`,
`PageView` -> `page_view`, `OAuth2Token` -> `o_auth2_token`.
"""

from __future__ import annotations

import re
from typing import Any

EVENTS_TOPIC = "events"
"""Default topic of events (`ACCORD_EVENTS_TOPIC`), and the prefix of their subjects."""
DEADLETTER_TOPIC = "events.deadletter"
"""Default dead-letter topic (`ACCORD_DEADLETTER_TOPIC`)."""

# a word starts at an upper-case letter after a lower-case letter or digit, and at the last
# upper-case letter of a run that a lower-case letter follows (the `R` of `HTTPRequest`)
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def event_type_of(record_name: str) -> str:
    """The event type of a record name (its last dotted part): `HTTPRequest` -> `http_request`."""
    return _WORD_START.sub("_", record_name.rsplit(".", 1)[-1]).lower()


def full_name(name: str, namespace: str | None = None) -> str:
    """A named type's full name: `namespace.name`, or `name` when it is dotted or has no namespace."""
    return name if "." in name or not namespace else f"{namespace}.{name}"


def full_name_of(schema: dict[str, Any]) -> str:
    """The full name of a named Avro schema (a dict with `name` and maybe `namespace`)."""
    namespace = schema.get("namespace")
    return full_name(str(schema["name"]), str(namespace) if namespace else None)


def subject_prefix(topic: str = EVENTS_TOPIC) -> str:
    """The prefix of every event subject on `topic`: `events-`."""
    return f"{topic}-"


def event_subject(record_full_name: str, topic: str = EVENTS_TOPIC) -> str:
    """The subject of an event record on `topic`: `events-accord.events.PageView`."""
    return subject_prefix(topic) + record_full_name


def record_of_subject(subject: str, topic: str = EVENTS_TOPIC) -> str | None:
    """The record full name an event subject names, None when `subject` is not an event subject."""
    prefix = subject_prefix(topic)
    return subject[len(prefix) :] if subject.startswith(prefix) and len(subject) > len(prefix) else None
