"""The stream's experiment health job raises the SRM alarm within minutes of a mis-bucketing fault.

Simulated time: the simulator's users arrive at a steady rate per simulated minute; each minute
their events are appended to a Silver table on disk (real Delta commits, one per minute like the
stream's batches, with the Silver columns the health job reads) and the job runs once, as the
stream service runs it every `ACCORD_EXPERIMENT_HEALTH_INTERVAL_S` (60 s by default).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from accord.demo.simulator.traffic import KIND_OF, FaultRates, Misbucketing, UserPlanner
from accord.gold.experiments_config import load_experiments
from accord.gold.exposures import MULTIPLE_VARIANTS
from accord.gold.live_health import ExperimentHealthJob, HealthCollector, SilverExposures
from accord.sdk.events import ExperimentExposure
from accord.streaming.progress import ProgressFile, describe

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
USERS_PER_MINUTE = 200
FAULT_MINUTE = 5
MINUTES = FAULT_MINUTE + 10
EXPERIMENT = "new_checkout"
EXPOSURE = pa.struct([("experiment_id", pa.string()), ("variant", pa.string())])
CONTEXT = pa.struct([("platform", pa.string())])
SILVER = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("user_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("context", CONTEXT),
        ("experiment_exposure", EXPOSURE),
        ("silver_batch_id", pa.int64()),
        ("event_date", pa.date32()),
    ]
)


def silver_minute(planner: UserPlanner, minute: int) -> pa.Table:
    """The Silver rows of the users who arrive in simulated minute `minute`."""
    rows = []
    for index in range(minute * USERS_PER_MINUTE, (minute + 1) * USERS_PER_MINUTE):
        for planned in planner.user(index).sends:
            event, envelope = planned.event, planned.event.envelope
            rows.append(
                {
                    "event_id": str(envelope.event_id),
                    "event_type": KIND_OF[type(event)],
                    "user_id": envelope.user_id,
                    "anonymous_id": envelope.anonymous_id,
                    "context": {"platform": str(envelope.context.platform) if envelope.context else None},
                    "experiment_exposure": (
                        {"experiment_id": event.experiment_id, "variant": event.variant}
                        if isinstance(event, ExperimentExposure)
                        else None
                    ),
                    "silver_batch_id": minute,
                    "event_date": NOW.date(),
                }
            )
    return pa.Table.from_pylist(rows, schema=SILVER)


def run_simulation(tmp_path: Path, fault: Misbucketing | None) -> tuple[list[bool], ExperimentHealthJob]:
    """Minute by minute: append the minute's Silver rows, run the job; the alarm after each run."""
    silver = str(tmp_path / "lake" / "silver" / "events")
    planner = UserPlanner(7, load_experiments(), 0.1, 0.2, FaultRates(0, 0, 0, 0), NOW, misbucketing=fault)
    clock = [NOW.timestamp()]
    job = ExperimentHealthJob(
        load_experiments(), SilverExposures(silver), ProgressFile(tmp_path), 60.0, lambda: clock[0]
    )
    alarms = []
    for minute in range(MINUTES):
        write_deltalake(silver, silver_minute(planner, minute), mode="append", partition_by=["event_date"])
        clock[0] += 60
        job.run()
        assert job.exposures.version == minute
        alarms.append(EXPERIMENT in job.alarms())
    return alarms, job


def full_count(silver: str) -> Counter[str]:
    """Users per variant of the experiment from the whole table, as Gold counts them."""
    rows = DeltaTable(silver).to_pyarrow_table(columns=["event_type", "user_id", "experiment_exposure"])
    seen: dict[str, set[str]] = {}
    for row in rows.to_pylist():
        if (
            row["event_type"] == "experiment_exposure"
            and row["experiment_exposure"]["experiment_id"] == EXPERIMENT
        ):
            seen.setdefault(row["user_id"], set()).add(row["experiment_exposure"]["variant"])
    return Counter(next(iter(v)) if len(v) == 1 else MULTIPLE_VARIANTS for v in seen.values())


def scrape(job: ExperimentHealthJob) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    registry = CollectorRegistry()
    registry.register(HealthCollector(job))
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }


def test_dropped_treatment_exposures_on_one_platform_raise_the_alarm_within_five_minutes(
    tmp_path: Path,
) -> None:
    fault = Misbucketing("IOS", "treatment", from_user=FAULT_MINUTE * USERS_PER_MINUTE)
    alarms, job = run_simulation(tmp_path, fault)

    assert not any(alarms[:FAULT_MINUTE]), alarms
    raised_at = alarms.index(True)  # the minute whose traffic raised it: minutes since the fault + 1
    assert raised_at - FAULT_MINUTE + 1 <= 5, alarms
    assert all(alarms[raised_at:]), alarms

    snapshot = job.latest[EXPERIMENT]
    assert snapshot.users["control"] > snapshot.users["treatment"]
    assert snapshot.health.srm is not None
    assert snapshot.health.srm.p_value < 0.001
    # the incremental counts are those of a count over the whole table
    assert Counter(snapshot.users) == full_count(str(tmp_path / "lake" / "silver" / "events"))

    found = scrape(job)
    labels = frozenset({("experiment", EXPERIMENT)})
    assert found[("accord_experiment_srm_alarm", labels)] == 1
    assert found[("accord_experiment_srm_p_value", labels)] == snapshot.health.srm.p_value
    variant = frozenset({("experiment", EXPERIMENT), ("variant", "treatment")})
    assert found[("accord_experiment_exposed_users", variant)] == snapshot.users["treatment"]
    assert found[("accord_experiment_health_last_run_timestamp_seconds", frozenset())] == job.last_run_at

    status = describe(ProgressFile(tmp_path).read())
    assert f"SRM alarm: {EXPERIMENT} (p = " in status


def test_no_alarm_without_the_fault(tmp_path: Path) -> None:
    alarms, job = run_simulation(tmp_path, None)

    assert not any(alarms), alarms
    snapshot = job.latest[EXPERIMENT]
    assert sum(snapshot.users.values()) == MINUTES * USERS_PER_MINUTE
    assert snapshot.health.share == 0
    assert "SRM alarm" not in describe(ProgressFile(tmp_path).read())


def test_a_rewritten_table_is_counted_again_from_the_start(tmp_path: Path) -> None:
    silver = str(tmp_path / "silver")
    planner = UserPlanner(7, load_experiments(), 0.1, 0.2, FaultRates(0, 0, 0, 0), NOW)
    job = ExperimentHealthJob(load_experiments(), SilverExposures(silver), None, 60.0)
    for minute in range(3):
        write_deltalake(silver, silver_minute(planner, minute), mode="append", partition_by=["event_date"])
        job.run()
    before = dict(job.latest[EXPERIMENT].users)
    DeltaTable(silver).optimize.compact()  # maintenance rewrites every file of the day
    write_deltalake(silver, silver_minute(planner, 3), mode="append", partition_by=["event_date"])
    job.run()

    after = job.latest[EXPERIMENT].users
    assert sum(after.values()) == 4 * USERS_PER_MINUTE > sum(before.values())
    assert Counter(after) == full_count(silver)
