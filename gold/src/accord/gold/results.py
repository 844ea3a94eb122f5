"""Experiment results: per-variant sufficient statistics turned into lifts, intervals and checks.

The rows are the long format GrowthBook's stats engine reads: one per experiment, variant and
metric, with `users`, `count`, `main_sum` and `main_sum_squares`, plus the analysis.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from accord.gold.engines import frequentist
from accord.gold.errors import InsufficientDataError
from accord.gold.experiments_config import ExperimentConfig
from accord.gold.exposures import MULTIPLE_VARIANTS
from accord.gold.stats import (
    MULTIPLE_EXPOSURE_THRESHOLD,
    SrmResult,
    SufficientStats,
    srm_check,
)

log = logging.getLogger(__name__)

CONVERSION_RATE = "conversion_rate"
REVENUE_PER_USER = "revenue_per_user"


@dataclass(frozen=True)
class VariantSums:
    """What Spark aggregated for one variant of one experiment."""

    experiment_id: str
    variant: str
    users: int
    conversion_sum: float
    revenue_sum: float
    revenue_sum_squares: float
    late_events: int


@dataclass(frozen=True)
class Completeness:
    """How complete the Silver snapshot behind a result is."""

    complete_up_to: datetime | None
    max_event_time: datetime | None
    silver_version: int
    computed_at: datetime


@dataclass(frozen=True)
class ResultRow:
    """One row of `gold/experiment_results`."""

    experiment_id: str
    variant: str
    is_control: bool
    metric: str
    weight: float
    users: int
    count: int
    main_sum: float
    main_sum_squares: float
    mean: float
    absolute_lift: float | None
    absolute_ci_low: float | None
    absolute_ci_high: float | None
    relative_lift: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None
    p_value: float | None
    analysis_note: str | None
    srm_p_value: float | None
    srm_mismatch: bool
    multiple_exposure_users: int
    multiple_exposure_share: float
    multiple_exposure_warning: bool
    unknown_variant_users: int
    window_hours: float
    late_events: int
    complete_up_to: datetime | None
    max_event_time: datetime | None
    silver_version: int
    computed_at: datetime


RESULT_SCHEMA = (
    "experiment_id string, variant string, is_control boolean, metric string, weight double, "
    "users long, count long, main_sum double, main_sum_squares double, mean double, "
    "absolute_lift double, absolute_ci_low double, absolute_ci_high double, "
    "relative_lift double, relative_ci_low double, relative_ci_high double, p_value double, "
    "analysis_note string, srm_p_value double, srm_mismatch boolean, multiple_exposure_users long, "
    "multiple_exposure_share double, multiple_exposure_warning boolean, unknown_variant_users long, "
    "window_hours double, late_events long, complete_up_to timestamp, max_event_time timestamp, "
    "silver_version long, computed_at timestamp"
)


def _metric_stats(sums: VariantSums, metric: str) -> SufficientStats:
    if metric == CONVERSION_RATE:
        return SufficientStats.proportion(sums.users, sums.conversion_sum)
    return SufficientStats(sums.users, sums.revenue_sum, sums.revenue_sum_squares)


def _srm(experiment: ExperimentConfig, by_variant: Mapping[str, VariantSums]) -> SrmResult | None:
    try:
        return srm_check({v: s.users for v, s in by_variant.items()}, experiment.variants)
    except InsufficientDataError:
        return None


def analyse_experiment(
    experiment: ExperimentConfig, sums: Sequence[VariantSums], completeness: Completeness
) -> list[ResultRow]:
    """Result rows of one experiment: every configured variant, both metrics, control included."""
    by_variant = {s.variant: s for s in sums if s.variant in experiment.variants}
    multiple = sum(s.users for s in sums if s.variant == MULTIPLE_VARIANTS)
    unknown = sum(
        s.users for s in sums if s.variant not in experiment.variants and s.variant != MULTIPLE_VARIANTS
    )
    exposed = sum(s.users for s in sums)
    share = multiple / exposed if exposed else 0.0
    warning = share >= MULTIPLE_EXPOSURE_THRESHOLD
    if warning:
        log.warning(
            "many users were exposed to more than one variant",
            extra={"experiment_id": experiment.experiment_id, "users": multiple, "share": share},
        )
    srm = _srm(experiment, by_variant)
    if srm is not None and srm.mismatch:
        log.warning(
            "sample ratio mismatch",
            extra={"experiment_id": experiment.experiment_id, "srm_p_value": srm.p_value},
        )
    late = sum(s.late_events for s in sums)
    rows = []
    for variant, weight in experiment.variants.items():
        variant_sums = by_variant.get(
            variant, VariantSums(experiment.experiment_id, variant, 0, 0.0, 0.0, 0.0, 0)
        )
        for metric in (CONVERSION_RATE, REVENUE_PER_USER):
            stats = _metric_stats(variant_sums, metric)
            comparison, note = None, None
            if variant != experiment.control:
                control = by_variant.get(experiment.control)
                try:
                    if control is None:
                        raise InsufficientDataError("no user was exposed to the control")
                    comparison = frequentist(_metric_stats(control, metric), stats)
                except InsufficientDataError as exc:
                    note = str(exc)
            rows.append(
                ResultRow(
                    experiment_id=experiment.experiment_id,
                    variant=variant,
                    is_control=variant == experiment.control,
                    metric=metric,
                    weight=weight / sum(experiment.variants.values()),
                    users=stats.n,
                    count=stats.n,
                    main_sum=stats.total,
                    main_sum_squares=stats.sum_squares,
                    mean=stats.mean if stats.n else 0.0,
                    absolute_lift=comparison.absolute_lift if comparison else None,
                    absolute_ci_low=comparison.absolute_ci[0] if comparison else None,
                    absolute_ci_high=comparison.absolute_ci[1] if comparison else None,
                    relative_lift=comparison.relative_lift if comparison else None,
                    relative_ci_low=comparison.relative_ci[0] if comparison else None,
                    relative_ci_high=comparison.relative_ci[1] if comparison else None,
                    p_value=comparison.p_value if comparison else None,
                    analysis_note=note,
                    srm_p_value=srm.p_value if srm else None,
                    srm_mismatch=srm.mismatch if srm else False,
                    multiple_exposure_users=multiple,
                    multiple_exposure_share=share,
                    multiple_exposure_warning=warning,
                    unknown_variant_users=unknown,
                    window_hours=experiment.window_hours,
                    late_events=late,
                    **asdict(completeness),
                )
            )
    return rows
