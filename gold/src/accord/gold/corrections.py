"""Multiple-comparison corrections of p-values across the variants and metrics of one experiment.

Benjamini-Hochberg is scipy's `false_discovery_control`; Holm's step-down is three lines, written
here rather than pulling in statsmodels for it. numpy and scipy load on first use: the experiments
file names a `Correction`, and every `accord` command reads that name at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Correction = Literal["none", "holm", "benjamini_hochberg"]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values: they control the family-wise error rate."""
    import numpy as np

    order = np.argsort(p_values)
    ranked = np.asarray(p_values, dtype=float)[order] * (len(p_values) - np.arange(len(p_values)))
    adjusted = np.empty(len(p_values))
    adjusted[order] = np.minimum(np.maximum.accumulate(ranked), 1.0)
    return [float(p) for p in adjusted]


def adjust(p_values: Sequence[float], method: Correction) -> list[float]:
    """The p-values adjusted by `method` (`none` returns them as they are)."""
    if method == "none" or not p_values:
        return [float(p) for p in p_values]
    if method == "holm":
        return holm(p_values)
    import numpy as np
    from scipy import stats as sps

    return [float(p) for p in sps.false_discovery_control(np.asarray(p_values, dtype=float), method="bh")]
