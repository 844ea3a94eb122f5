"""Deterministic assignment of users to the variants of an experiment."""

from __future__ import annotations

import hashlib

from accord.gold.experiments_config import ExperimentConfig


def assign_variant(experiment: ExperimentConfig, unit_id: str) -> str:
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
