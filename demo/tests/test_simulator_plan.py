"""The simulator's plan: deterministic assignment, true rates, faults in their proportions."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from accord.demo.simulator import FaultRates, assign_variant
from accord.demo.simulator.traffic import ConversionFact, ExposureFact, Misbucketing, UserPlanner
from accord.demo.simulator.truth import experiment_result
from accord.gold.experiments_config import ExperimentConfig
from accord.sdk.events import ExperimentExposure, Purchase

pytestmark = pytest.mark.unit

CHECKOUT = ExperimentConfig(
    experiment_id="new_checkout",
    control="control",
    variants={"control": 0.5, "treatment": 0.5},
    conversion_event="purchase",
    window_hours=72,
)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NO_FAULTS = FaultRates(0, 0, 0, 0)


def test_assignment_is_deterministic_and_follows_the_weights() -> None:
    three = ExperimentConfig(
        experiment_id="colors",
        control="a",
        variants={"a": 0.2, "b": 0.3, "c": 0.5},
        conversion_event="purchase",
        window_hours=24,
    )
    counts = Counter(assign_variant(three, f"user-{n}") for n in range(20_000))
    for variant, weight in three.variants.items():
        assert abs(counts[variant] / 20_000 - weight) < 0.015
    assert [assign_variant(three, "user-1") for _ in range(3)] == [assign_variant(three, "user-1")] * 3


def test_experiments_are_assigned_independently_of_each_other() -> None:
    other = ExperimentConfig(
        experiment_id="other",
        control="control",
        variants={"control": 0.5, "treatment": 0.5},
        conversion_event="purchase",
        window_hours=72,
    )
    pairs = Counter((assign_variant(CHECKOUT, f"u{n}"), assign_variant(other, f"u{n}")) for n in range(8000))
    assert all(abs(count / 8000 - 0.25) < 0.02 for count in pairs.values())


def test_the_same_seed_plans_the_same_traffic() -> None:
    def shape(seed: int) -> list[tuple[str, datetime, str]]:
        planner = UserPlanner(seed, [CHECKOUT], 0.3, 0.5, FaultRates(), NOW)
        sends = [p for i in range(30) for p in planner.user(i).sends]
        return [(p.kind, p.event.envelope.event_time, str(p.event.envelope.user_id)) for p in sends]

    assert shape(11) == shape(11)
    assert shape(11) != shape(12)


def test_treatment_converts_at_the_lifted_rate() -> None:
    planner = UserPlanner(3, [CHECKOUT], 0.2, 1.0, NO_FAULTS, NOW)
    exposed: Counter[str] = Counter()
    converted: Counter[str] = Counter()
    for index in range(6000):
        traffic = planner.user(index)
        variant = traffic.exposures[0].variant
        exposed[variant] += 1
        converted[variant] += any(isinstance(p.event, Purchase) for p in traffic.sends)
    assert abs(converted["control"] / exposed["control"] - 0.2) < 0.025
    assert abs(converted["treatment"] / exposed["treatment"] - 0.4) < 0.025


def test_every_user_is_exposed_once_per_experiment_before_converting() -> None:
    planner = UserPlanner(5, [CHECKOUT], 0.5, 0.0, NO_FAULTS, NOW)
    for index in range(200):
        sends = planner.user(index).sends
        exposures = [p.event for p in sends if isinstance(p.event, ExperimentExposure)]
        assert len(exposures) == 1
        assert exposures[0].variant == assign_variant(CHECKOUT, f"sim-5-{index:07d}")
        purchases = [p for p in sends if isinstance(p.event, Purchase)]
        assert all(p.event.envelope.event_time >= exposures[0].envelope.event_time for p in purchases)
        assert all(p.event.envelope.event_time <= NOW for p in sends)


def test_faults_come_in_their_configured_proportions() -> None:
    planner = UserPlanner(9, [CHECKOUT], 0.1, 0.2, FaultRates(0.1, 0.1, 0.1, 0.05), NOW)
    sends = [p for i in range(1500) for p in planner.user(i).sends]
    originals = [p for p in sends if not p.duplicate and not p.malformed]
    plain = [p for p in originals if p.kind in ("page_view", "feature_used")]
    assert abs(sum(p.duplicate for p in sends) / len(originals) - 0.1) < 0.02
    assert abs(sum(p.malformed for p in sends) / len(originals) - 0.05) < 0.015
    assert abs(sum(p.late for p in plain) / len(plain) - 0.1) < 0.02
    assert sum(p.out_of_order for p in plain) > 0.05 * len(plain)
    for p in originals:
        if p.late:
            age = NOW - p.event.envelope.event_time
            assert timedelta(hours=2) <= age <= timedelta(hours=72)
    resent = {id(p.event) for p in sends if p.duplicate}
    assert resent <= {id(p.event) for p in originals}


def test_an_out_of_order_event_is_sent_after_one_that_happened_later() -> None:
    planner = UserPlanner(4, [], 0.1, 0.0, FaultRates(0, 0, 0.3, 0), NOW)
    checked = 0
    for index in range(100):
        sends = planner.user(index).sends
        for before, after in itertools.pairwise(sends):
            if after.out_of_order:
                assert after.event.envelope.event_time < before.event.envelope.event_time
                checked += 1
    assert checked > 50


def test_conversions_count_only_within_the_window_after_the_first_accepted_exposure() -> None:
    t0 = NOW - timedelta(hours=100)
    exposures = [
        ExposureFact("new_checkout", "control", "a", t0, "e-a"),
        ExposureFact("new_checkout", "treatment", "b", t0, "e-b"),
        ExposureFact("new_checkout", "treatment", "c", t0, "e-c"),
        ExposureFact("new_checkout", "control", "d", t0, "e-d-rejected"),
    ]
    conversions = [
        ConversionFact("a", "purchase", None, t0 + timedelta(hours=1), "p-a"),
        ConversionFact("b", "purchase", None, t0 + timedelta(hours=80), "p-b-too-late"),
        ConversionFact("c", "purchase", None, t0 - timedelta(hours=1), "p-c-before"),
        ConversionFact("c", "signup", None, t0 + timedelta(hours=1), "s-c-other-event"),
    ]
    accepted = {"e-a", "e-b", "e-c", "p-a", "p-b-too-late", "p-c-before", "s-c-other-event"}
    exposed, converted = experiment_result(CHECKOUT, exposures, conversions, accepted)
    assert exposed == {"control": 1, "treatment": 2}
    assert converted == {"control": 1, "treatment": 0}


def test_a_misbucketing_fault_loses_the_exposures_of_one_variant_on_one_platform() -> None:
    fault = Misbucketing("IOS", "treatment", from_user=50)
    planner = UserPlanner(3, [CHECKOUT], 0.1, 0.2, NO_FAULTS, NOW, misbucketing=fault)
    lost = kept = 0
    for index in range(200):
        traffic = planner.user(index)
        platform = str(traffic.sends[0].event.envelope.context.platform)
        variant = assign_variant(CHECKOUT, planner.user_id(index))
        exposures = [p for p in traffic.sends if isinstance(p.event, ExperimentExposure)]
        if index >= 50 and platform == "IOS" and variant == "treatment":
            assert exposures == []
            assert traffic.exposures == []
            lost += 1
        else:
            assert len(exposures) == len(traffic.exposures) == 1
            kept += 1
    assert lost > 10
    assert kept > 100
