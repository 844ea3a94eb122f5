"""Experiment health while the experiments run: a periodic job of the stream service.

Every `ACCORD_EXPERIMENT_HEALTH_INTERVAL_S` seconds (default 60; 0 disables), the stream service
(`accord.stream_jobs` entry point `experiment_health`) reads the exposures in the Silver files
added since the job's previous run, in process with delta-rs, and keeps each user's variant per
configured experiment. From those counts it computes what Gold computes from all of Silver
(`accord.gold.health`): exposed users per variant, the sample-ratio check against the configured
split, and the share of users seen in several variants. It exports them on the stream's
Prometheus endpoint and records them in the progress file, where `accord status` shows an SRM
alarm.

Incremental: Silver only grows by appends while the stream runs, so the files of the newest
snapshot not seen before hold exactly the new rows. A commit that rewrites or removes files
(compaction, a backfill `--rebuild`) makes the next run count again from the whole table.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from accord.gold.experiments_config import ExperimentConfig, load_experiments
from accord.gold.exposures import MULTIPLE_VARIANTS
from accord.gold.health import ExposureHealth, exposure_health
from accord.gold.settings import GoldSettings
from accord.streaming.experiments import EXPOSURE_TYPE
from accord.streaming.inspect.tables import storage_options
from accord.streaming.lake import Lake
from accord.streaming.progress import EXPERIMENT_HEALTH, ProgressFile
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

# commits after which the files not seen before are exactly the rows added
_APPENDING = frozenset({"WRITE", "STREAMING UPDATE", "CREATE TABLE", "VACUUM START", "VACUUM END"})


class SilverExposures:
    """The exposure events of the Silver files added since the previous read."""

    def __init__(self, path: str, options: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.options = dict(options or {})
        self.version: int | None = None
        self._seen: set[str] = set()

    def read_new(self) -> tuple[bool, list[tuple[str, str, str]]]:
        """`(restarted, rows)`: (experiment, user, variant) of each new exposure; `restarted` when
        the table was rewritten, so `rows` are every exposure and earlier counts must be dropped."""
        import pyarrow.compute as pc
        import pyarrow.dataset as ds
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        try:
            table = DeltaTable(self.path, storage_options=self.options or None)
        except TableNotFoundError:
            return False, []
        version = table.version()
        if version == self.version:
            return False, []
        restarted = self.version is not None and not self._only_appends(table, version)
        if restarted:
            self._seen.clear()
        self.version = version
        if EXPOSURE_TYPE not in table.schema().to_arrow().names:
            return restarted, []
        dataset = table.to_pyarrow_dataset()
        fragments = [f for f in dataset.get_fragments() if f.path not in self._seen]
        self._seen.update(f.path for f in fragments)
        if not fragments:
            return restarted, []
        new = ds.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)
        rows: pa.Table = new.to_table(
            columns={
                "experiment_id": ds.field(EXPOSURE_TYPE, "experiment_id"),
                "user": pc.coalesce(ds.field("user_id"), ds.field("anonymous_id")),
                "variant": ds.field(EXPOSURE_TYPE, "variant"),
            },
            filter=ds.field("event_type") == EXPOSURE_TYPE,
        )
        columns = (rows[name].to_pylist() for name in ("experiment_id", "user", "variant"))
        found = zip(*columns, strict=True)
        return restarted, [
            (e, u, v) for e, u, v in found if e is not None and u is not None and v is not None
        ]

    def _only_appends(self, table: Any, version: int) -> bool:
        assert self.version is not None
        commits = table.history(version - self.version)
        return all(
            commit.get("operation") in _APPENDING
            and (commit.get("operationParameters") or {}).get("mode", "Append") == "Append"
            for commit in commits
            if commit.get("version", version) > self.version
        )


@dataclass
class ExposureTally:
    """Each user's variant per experiment (`__multiple__` once seen in two), and the users per variant."""

    variant_of: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, experiment_id: str, user: str, variant: str) -> None:
        """Count one exposure."""
        variants = self.variant_of.setdefault(experiment_id, {})
        counts = self.users.setdefault(experiment_id, Counter())
        known = variants.get(user)
        if known is None:
            variants[user] = variant
            counts[variant] += 1
        elif known not in (variant, MULTIPLE_VARIANTS):
            variants[user] = MULTIPLE_VARIANTS
            counts[known] -= 1
            counts[MULTIPLE_VARIANTS] += 1

    def clear(self) -> None:
        """Forget every user."""
        self.variant_of.clear()
        self.users.clear()


@dataclass(frozen=True)
class ExperimentSnapshot:
    """One experiment's health at a run of the job."""

    experiment_id: str
    users: dict[str, int]
    health: ExposureHealth

    def facts(self) -> dict[str, Any]:
        """As recorded in the progress file."""
        srm = self.health.srm
        return {
            "users": self.users,
            "multiple_exposure_share": round(self.health.share, 6),
            "multiple_exposure_warning": self.health.multiple_exposure_warning,
            "srm_p_value": srm.p_value if srm else None,
            "srm_alarm": self.health.srm_alarm,
        }


class ExperimentHealthJob:
    """The periodic job: new Silver exposures in, each configured experiment's health out."""

    name = "experiment_health"

    def __init__(
        self,
        experiments: Sequence[ExperimentConfig],
        exposures: SilverExposures,
        progress: ProgressFile | None,
        interval_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.experiments = list(experiments)
        self.exposures = exposures
        self.progress = progress
        self.interval_s = interval_s
        self.clock = clock
        self.tally = ExposureTally()
        self.latest: dict[str, ExperimentSnapshot] = {}
        self.last_run_at: float | None = None
        self._configured = {e.experiment_id for e in self.experiments}

    def run(self) -> None:
        """Take in the exposures Silver gained and recompute every experiment's health."""
        restarted, rows = self.exposures.read_new()
        if restarted:
            self.tally.clear()
        for experiment_id, user, variant in rows:
            if experiment_id in self._configured:
                self.tally.add(experiment_id, user, variant)
        snapshots = {}
        for experiment in self.experiments:
            users = {v: n for v, n in self.tally.users.get(experiment.experiment_id, Counter()).items() if n}
            snapshots[experiment.experiment_id] = ExperimentSnapshot(
                experiment.experiment_id, users, exposure_health(experiment, users)
            )
        now_raised, before = set(self._alarms(snapshots)), set(self.alarms())
        raised, cleared = now_raised - before, before - now_raised
        self.latest = snapshots
        self.last_run_at = self.clock()
        for experiment_id in sorted(raised | cleared):
            snapshot = snapshots[experiment_id]
            facts = {"experiment_id": experiment_id, **snapshot.facts()}
            if experiment_id in raised:
                log.warning("sample ratio mismatch while the experiment runs", extra=facts)
            else:
                log.info("sample ratio back within the configured split", extra=facts)
        if self.progress is not None:
            self.progress.update(
                EXPERIMENT_HEALTH,
                {
                    "at": self.last_run_at,
                    "silver_version": self.exposures.version,
                    "experiments": {i: s.facts() for i, s in snapshots.items()},
                },
            )

    def alarms(self) -> list[str]:
        """The experiments whose split of users does not match the configuration."""
        return self._alarms(self.latest)

    @staticmethod
    def _alarms(snapshots: Mapping[str, ExperimentSnapshot]) -> list[str]:
        return [i for i, s in snapshots.items() if s.health.srm_alarm]


class HealthCollector(Collector):
    """The job's latest results as Prometheus gauges, read at scrape time."""

    def __init__(self, job: ExperimentHealthJob) -> None:
        self.job = job

    def collect(self) -> Iterator[GaugeMetricFamily]:
        users = GaugeMetricFamily(
            "accord_experiment_exposed_users",
            "users exposed, per variant (`__multiple__`: seen in several)",
            labels=["experiment", "variant"],
        )
        p_value = GaugeMetricFamily(
            "accord_experiment_srm_p_value",
            "p-value of the chi-square test of the users per variant against the configured split",
            labels=["experiment"],
        )
        alarm = GaugeMetricFamily(
            "accord_experiment_srm_alarm",
            "1 while the split of users mismatches the configuration",
            labels=["experiment"],
        )
        share = GaugeMetricFamily(
            "accord_experiment_multiple_exposure_share",
            "share of exposed users seen in more than one variant",
            labels=["experiment"],
        )
        for experiment_id, snapshot in self.job.latest.items():
            for variant, n in snapshot.users.items():
                users.add_metric([experiment_id, variant], n)
            if snapshot.health.srm is not None:
                p_value.add_metric([experiment_id], snapshot.health.srm.p_value)
            alarm.add_metric([experiment_id], 1 if snapshot.health.srm_alarm else 0)
            share.add_metric([experiment_id], snapshot.health.share)
        last_run = GaugeMetricFamily(
            "accord_experiment_health_last_run_timestamp_seconds", "when the health job last ran (unix time)"
        )
        if self.job.last_run_at is not None:
            last_run.add_metric([], self.job.last_run_at)
        yield from (users, p_value, alarm, share, last_run)


def stream_job(
    settings: StreamingSettings, progress: ProgressFile, registry: CollectorRegistry
) -> ExperimentHealthJob | None:
    """Entry point of `accord.stream_jobs`: the job over the stream's lake, unless disabled."""
    gold = GoldSettings()
    if gold.experiment_health_interval_s <= 0:
        return None
    experiments = load_experiments(gold.experiments_file)
    exposures = SilverExposures(Lake.from_settings(settings).silver, storage_options(settings))
    job = ExperimentHealthJob(experiments, exposures, progress, gold.experiment_health_interval_s)
    registry.register(HealthCollector(job))
    return job
