"""A/B experiments as the simulator and the Gold layer read them, and deterministic assignment."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.sdk.errors import ExperimentsFileError


@dataclass(frozen=True)
class Experiment:
    """One experiment: its variants with their weights and what counts as a conversion.

    `conversion_event` names an event type in snake_case (`purchase`, `signup`, ...) or, for
    any other name, a `Conversion` event of that `name`; a user converts when it happens
    within `window_hours` of their first exposure.
    """

    experiment_id: str
    control: str
    variants: dict[str, float]
    conversion_event: str
    window_hours: float

    def as_json(self) -> dict[str, Any]:
        """The experiment as an entry of the experiments file."""
        return {
            "experiment_id": self.experiment_id,
            "control": self.control,
            "variants": dict(self.variants),
            "conversion_event": self.conversion_event,
            "window_hours": self.window_hours,
        }


def assign_variant(experiment: Experiment, unit_id: str) -> str:
    """The variant `unit_id` sees: the same for the same experiment and unit, on every machine.

    The unit is hashed with the experiment id (so experiments are assigned independently) into
    [0, 1), then placed on the variants' cumulative weights in the file's order.
    """
    digest = hashlib.sha256(f"{experiment.experiment_id}:{unit_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    total = sum(experiment.variants.values())
    cumulative = 0.0
    for name, weight in experiment.variants.items():
        cumulative += weight / total
        if point < cumulative:
            return name
    return next(reversed(experiment.variants))


def load_experiments(path: Path) -> list[Experiment]:
    """Read and check an experiments file (a JSON list of experiments)."""
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise ExperimentsFileError(f"{path}: cannot read the experiments file: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ExperimentsFileError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(document, list):
        raise ExperimentsFileError(f"{path}: expected a JSON list of experiments")
    experiments = [_experiment(path, index, entry) for index, entry in enumerate(document)]
    ids = [e.experiment_id for e in experiments]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ExperimentsFileError(f"{path}: experiment_id {', '.join(duplicated)} appears more than once")
    return experiments


def _experiment(path: Path, index: int, entry: Any) -> Experiment:
    def problem(field: str, message: str) -> ExperimentsFileError:
        return ExperimentsFileError(f"{path}: experiment [{index}] {field}: {message}")

    if not isinstance(entry, dict):
        raise problem("", "expected an object")
    for field in ("experiment_id", "control", "conversion_event"):
        if not isinstance(entry.get(field), str) or not entry[field]:
            raise problem(field, "required, a non-empty string")
    variants = entry.get("variants")
    if not isinstance(variants, dict) or len(variants) < 2:
        raise problem("variants", "required, an object of at least two variant names to weights")
    for name, weight in variants.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
            raise problem(f"variants.{name}", f"weight must be a positive number, got {weight!r}")
    if entry["control"] not in variants:
        raise problem("control", f"{entry['control']!r} is not one of the variants {', '.join(variants)}")
    window = entry.get("window_hours")
    if (
        isinstance(window, bool)
        or not isinstance(window, int | float)
        or not (window > 0 and math.isfinite(window))
    ):
        raise problem("window_hours", f"required, a positive number of hours, got {window!r}")
    return Experiment(
        experiment_id=entry["experiment_id"],
        control=entry["control"],
        variants={str(k): float(v) for k, v in variants.items()},
        conversion_event=entry["conversion_event"],
        window_hours=float(window),
    )
