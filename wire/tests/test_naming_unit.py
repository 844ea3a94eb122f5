"""Subject and event-type naming, against the shared vectors."""

from __future__ import annotations

from typing import Any

import pytest

from accord.wire.naming import event_subject, event_type_of, full_name, record_of_subject
from accord.wire.vectors import wire_vectors

pytestmark = pytest.mark.unit

VECTORS = wire_vectors()


@pytest.mark.parametrize("case", VECTORS["event_types"], ids=lambda c: c["record"])
def test_event_type_is_the_snake_case_record_name_with_acronyms_as_words(case: dict[str, str]) -> None:
    assert event_type_of(case["record"]) == case["event_type"]


@pytest.mark.parametrize("case", VECTORS["subjects"], ids=lambda c: c["subject"])
def test_event_subjects_follow_topic_record_name_strategy(case: dict[str, str]) -> None:
    assert event_subject(case["full_name"], case["topic"]) == case["subject"]
    assert record_of_subject(case["subject"], case["topic"]) == case["full_name"]


@pytest.mark.parametrize("subject", ["accord.common.Envelope", "events-", "other-accord.events.PageView"])
def test_a_subject_outside_the_topic_names_no_event_record(subject: str) -> None:
    assert record_of_subject(subject) is None


@pytest.mark.parametrize("case", VECTORS["full_names"], ids=lambda c: c["full_name"])
def test_full_names_join_namespace_and_name(case: dict[str, Any]) -> None:
    assert full_name(case["name"], case["namespace"]) == case["full_name"]
