"""The truth file: what the simulator sent and what the gateway answered, for tests and the demo
to compare the lake against."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from accord.sdk.simulator.experiments import Experiment
from accord.sdk.simulator.traffic import EVENT_KINDS, ConversionFact, ExposureFact


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
    experiment: Experiment,
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
    experiments: list[Experiment],
    baseline_rate: float,
    true_lift: float,
    tally: Tally,
    rejected: set[str],
) -> dict[str, Any]:
    """Write the truth file and its id files next to it; returns the truth document."""
    accepted = {i for i in tally.valid_ids if i not in rejected}
    malformed = [i for i in tally.malformed_ids if i in rejected]
    late = [i for i in tally.late_ids if i in accepted]
    by_type = Counter(kind for event_id, kind in tally.valid_ids.items() if event_id in accepted)
    stem = path.with_suffix("")
    files = {
        "event_ids_file": (stem.with_name(stem.name + ".event_ids.txt"), sorted(accepted)),
        "malformed_event_ids_file": (
            stem.with_name(stem.name + ".malformed_event_ids.txt"),
            sorted(malformed),
        ),
        "late_event_ids_file": (stem.with_name(stem.name + ".late_event_ids.txt"), sorted(late)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    for file, ids in files.values():
        file.write_text("".join(f"{i}\n" for i in ids))
    results = []
    for experiment in experiments:
        exposed, converted = experiment_result(experiment, tally.exposures, tally.conversions, accepted)
        results.append(
            {
                **experiment.as_json(),
                "baseline_rate": baseline_rate,
                "true_lift": true_lift,
                "exposed": exposed,
                "converted": converted,
            }
        )
    truth: dict[str, Any] = {
        "seed": seed,
        "users": users,
        "gateway_url": gateway_url,
        "sent": {
            "unique_valid": len(accepted),
            "duplicates": tally.duplicates,
            "late": len(late),
            "out_of_order": sum(1 for i in tally.out_of_order_ids if i in accepted),
            "malformed": len(malformed),
        },
        "by_type": {kind: by_type.get(kind, 0) for kind in EVENT_KINDS},
        "experiments": results,
        **{key: str(file.resolve()) for key, (file, _ids) in files.items()},
    }
    path.write_text(json.dumps(truth, indent=2) + "\n")
    return truth
