"""The truth file: what the simulator sent and what the gateway answered, for tests and the demo
to compare the lake against. `Truth` is its one model: the simulator writes it, readers load it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.demo.errors import TruthFileError
from accord.demo.simulator.traffic import EVENT_KINDS, ConversionFact, ExposureFact
from accord.gold.experiments_config import ExperimentConfig


class SentCounts(BaseModel):
    """Events the gateway accepted (unique), and the faults the simulator injected into them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unique_valid: int
    duplicates: int
    late: int
    out_of_order: int
    malformed: int


class ExperimentTruth(ExperimentConfig):
    """An experiment of the experiments file, with the effect built into it and who converted."""

    baseline_rate: float
    true_lift: float
    exposed: dict[str, int]
    converted: dict[str, int]


class Truth(BaseModel):
    """The truth document; the id files it names hold one event id a line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int
    users: int
    gateway_url: str
    sent: SentCounts
    by_type: dict[str, int]
    rejected: dict[str, int] = Field(
        default_factory=dict, description="events the gateway refused, by its error code"
    )
    experiments: list[ExperimentTruth]
    event_ids_file: Path
    malformed_event_ids_file: Path
    late_event_ids_file: Path

    def true_relative_lifts(self) -> dict[tuple[str, str], float]:
        """(experiment, variant) → the relative lift built into every non-control variant."""
        return {
            (experiment.experiment_id, variant): experiment.true_lift
            for experiment in self.experiments
            for variant in experiment.variants
            if variant != experiment.control
        }


def load_truth(path: Path) -> Truth:
    """The truth file the simulator wrote at `path`.

    Raises:
        TruthFileError: the file is missing, or is not the simulator's JSON (the field is named).
    """
    try:
        return Truth.model_validate_json(path.read_text())
    except OSError as exc:
        raise TruthFileError(f"cannot read the simulator's truth file {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'the file'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise TruthFileError(f"cannot read the simulator's truth file {path}: {problems}") from exc


@dataclass
class Tally:
    """Counts and ids gathered while sending; settled against the gateway's rejections at the end."""

    valid_ids: dict[str, str] = field(default_factory=dict)  # event_id -> kind
    late_ids: list[str] = field(default_factory=list)
    malformed_ids: list[str] = field(default_factory=list)
    duplicates: int = 0
    out_of_order_ids: list[str] = field(default_factory=list)
    exposures: list[ExposureFact] = field(default_factory=list)
    conversions: list[ConversionFact] = field(default_factory=list)


def experiment_result(
    experiment: ExperimentConfig,
    exposures: list[ExposureFact],
    conversions: list[ConversionFact],
    accepted: set[str],
) -> tuple[dict[str, int], dict[str, int]]:
    """Users exposed, and users converted within the window after their first exposure, per variant."""
    first: dict[str, ExposureFact] = {}
    for fact in exposures:
        if fact.experiment_id != experiment.experiment_id or fact.event_id not in accepted:
            continue
        if fact.user_id not in first or fact.time < first[fact.user_id].time:
            first[fact.user_id] = fact
    window = timedelta(hours=experiment.window_hours)
    converted_users: set[str] = set()
    for conversion in conversions:
        exposure = first.get(conversion.user_id)
        if exposure is None or conversion.event_id not in accepted:
            continue
        matches = conversion.kind == experiment.conversion_event or (
            conversion.kind == "conversion" and conversion.name == experiment.conversion_event
        )
        if matches and exposure.time <= conversion.time <= exposure.time + window:
            converted_users.add(conversion.user_id)
    exposed = Counter(f.variant for f in first.values())
    converted = Counter(first[u].variant for u in converted_users)
    return (
        {name: exposed.get(name, 0) for name in experiment.variants},
        {name: converted.get(name, 0) for name in experiment.variants},
    )


def write_truth(
    path: Path,
    *,
    seed: int,
    users: int,
    gateway_url: str,
    experiments: list[ExperimentConfig],
    baseline_rate: float,
    true_lift: float,
    tally: Tally,
    rejected: Mapping[str, str],
) -> Truth:
    """Write the truth file and its id files next to it; returns the truth document.

    `rejected` maps the id of each event the gateway refused to its error code.
    """
    accepted = {i for i in tally.valid_ids if i not in rejected}
    malformed = [i for i in tally.malformed_ids if i in rejected]
    late = [i for i in tally.late_ids if i in accepted]
    by_type = Counter(kind for event_id, kind in tally.valid_ids.items() if event_id in accepted)
    stem = path.with_suffix("")
    id_files = {
        "event_ids_file": (stem.with_name(stem.name + ".event_ids.txt"), sorted(accepted)),
        "malformed_event_ids_file": (
            stem.with_name(stem.name + ".malformed_event_ids.txt"),
            sorted(malformed),
        ),
        "late_event_ids_file": (stem.with_name(stem.name + ".late_event_ids.txt"), sorted(late)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    for file, ids in id_files.values():
        file.write_text("".join(f"{i}\n" for i in ids))
    results = []
    for experiment in experiments:
        exposed, converted = experiment_result(experiment, tally.exposures, tally.conversions, accepted)
        results.append(
            ExperimentTruth(
                **experiment.model_dump(),
                baseline_rate=baseline_rate,
                true_lift=true_lift,
                exposed=exposed,
                converted=converted,
            )
        )
    truth = Truth(
        seed=seed,
        users=users,
        gateway_url=gateway_url,
        sent=SentCounts(
            unique_valid=len(accepted),
            duplicates=tally.duplicates,
            late=len(late),
            out_of_order=sum(1 for i in tally.out_of_order_ids if i in accepted),
            malformed=len(malformed),
        ),
        by_type={kind: by_type.get(kind, 0) for kind in EVENT_KINDS},
        rejected=dict(Counter(rejected.values()).most_common()),
        experiments=results,
        event_ids_file=id_files["event_ids_file"][0].resolve(),
        malformed_event_ids_file=id_files["malformed_event_ids_file"][0].resolve(),
        late_event_ids_file=id_files["late_event_ids_file"][0].resolve(),
    )
    path.write_text(truth.model_dump_json(indent=2) + "\n")
    return truth
