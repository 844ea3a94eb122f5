"""The simulator through the real gateway: the truth file says what Kafka holds."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.demo.simulator import FaultRates, Simulation, load_truth, simulate
from accord.gateway.testing import GatewayHandle
from accord.gold.experiments_config import ExperimentConfig
from accord.registry.testing import RegistryHandle
from accord.registry_client import RegistryClient
from accord.runtime.cli import cli
from accord.runtime.testing import BrokerHandle
from accord.sdk.events import EVENT_TYPES, ExperimentExposure
from accord.sdk.record import Event
from accord.streaming.testing import read_events
from accord.wire.naming import event_type_of

pytestmark = pytest.mark.integration

EXPERIMENTS = [
    ExperimentConfig(
        experiment_id="new_checkout",
        control="control",
        variants={"control": 0.5, "treatment": 0.5},
        conversion_event="purchase",
        window_hours=72,
    ),
    ExperimentConfig(
        experiment_id="onboarding",
        control="old",
        variants={"old": 0.34, "tour": 0.33, "video": 0.33},
        conversion_event="trial_started",
        window_hours=24,
    ),
]


def ids_in(path: Path) -> set[str]:
    return set(path.read_text().split())


def test_the_truth_file_matches_what_kafka_holds(
    gateway: GatewayHandle, kafka_broker: BrokerHandle, registry_server: RegistryHandle, tmp_path: Path
) -> None:
    progress: list[tuple[int, int, int]] = []
    simulation = Simulation(
        gateway.url,
        gateway.write_key,
        tmp_path / "truth.json",
        users=40,
        seed=21,
        experiments=EXPERIMENTS,
        baseline_rate=0.3,
        true_lift=0.5,
        faults=FaultRates(duplicate=0.1, late=0.1, out_of_order=0.1, malformed=0.05),
    )
    truth = simulate(simulation, lambda *p: progress.append(p))
    assert load_truth(tmp_path / "truth.json") == truth
    assert progress[-1][:2] == (40, 40)

    valid, malformed, late = (
        ids_in(path)
        for path in (truth.event_ids_file, truth.malformed_event_ids_file, truth.late_event_ids_file)
    )
    sent = truth.sent
    assert sent.unique_valid == len(valid) == sum(truth.by_type.values())
    assert sent.malformed == len(malformed) > 0
    assert sent.late == len(late) > 0
    assert sent.duplicates > 0
    assert sent.out_of_order > 0
    assert late <= valid

    delivered = read_events(kafka_broker.bootstrap, valid | malformed)
    assert set(delivered) == valid, "every valid event is in Kafka, no malformed one is"
    kinds: Counter[str] = Counter()
    exposures: Counter[tuple[str, str]] = Counter()
    registry = RegistryClient(registry_server.url)
    for event_id in valid:
        record = delivered[event_id][0]
        cls = event_class_of(registry, record.schema_id)
        event = cls.from_avro(record.decode(cls.AVRO_SCHEMA))
        kinds[event_type_of(cls.__name__)] += 1
        if isinstance(event, ExperimentExposure):
            exposures[(event.experiment_id, event.variant)] += 1
        age = datetime.now(UTC) - event.envelope.event_time
        assert (age > timedelta(hours=2)) == (event_id in late)
    assert dict(kinds) == {k: v for k, v in truth.by_type.items() if v}
    for experiment in truth.experiments:
        assert sum(experiment.exposed.values()) == 40
        for variant, users in experiment.exposed.items():
            assert exposures[(experiment.experiment_id, variant)] == users
            assert experiment.converted[variant] <= users
        assert experiment.baseline_rate == 0.3
        assert experiment.true_lift == 0.5


def event_class_of(registry: RegistryClient, schema_id: int) -> type[Event]:
    """The event class of a schema id, from the name of the record the registry holds."""
    schema = json.loads(registry.schema_by_id(schema_id).schema)
    return EVENT_TYPES[f"events-{schema['namespace']}.{schema['name']}"]


def test_accord_simulate_writes_the_truth_and_prints_a_table(gateway: GatewayHandle, tmp_path: Path) -> None:
    experiments = tmp_path / "experiments.json"
    experiments.write_text(json.dumps([e.model_dump() for e in EXPERIMENTS]))
    truth_path = tmp_path / "out" / "truth.json"
    arguments = ["simulate", "--gateway-url", gateway.url, "--write-key", gateway.write_key, "--users", "5"]
    arguments += ["--experiments", str(experiments), "--truth", str(truth_path)]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert load_truth(truth_path).users == 5
    assert "unique_valid" in result.output
    assert "new_checkout" in result.output
