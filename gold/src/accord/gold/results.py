"""Experiment results: per-variant sufficient statistics turned into lifts, intervals, verdicts and checks.

The rows are the long format GrowthBook's stats engine reads: one per experiment, metric,
slice (`dimension` "" and `dimension_value` "All" for every user, then each value of each
configured dimension) and variant, with GrowthBook's sufficient-statistics columns (`users`,
`count`, `main_sum`, `main_sum_squares`, `denominator_*`, `covariate_*`, ...), plus the analysis
by the experiment's engine. p-values are corrected across the variants and metrics of each slice.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Literal

from accord.gold.corrections import adjust
from accord.gold.engines import (
    BayesianComparison,
    Comparison,
    CovariateSums,
    bayesian,
    cuped_pair,
    frequentist,
    sequential,
)
from accord.gold.errors import InsufficientDataError
from accord.gold.experiments_config import CONVERSION_RATE, REVENUE_PER_USER, ExperimentConfig, Metric
from accord.gold.health import ExposureHealth, exposure_health
from accord.gold.metric_values import ALL_USERS, OVERALL, SliceSums
from accord.gold.stats import (
    RatioStats,
    Statistic,
    SufficientStats,
)

__all__ = ["CONVERSION_RATE", "REVENUE_PER_USER", "Completeness", "ResultRow", "analyse_experiment"]

log = logging.getLogger(__name__)

Verdict = Literal["better", "worse", "inconclusive"]


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
    metric: str
    metric_kind: str
    role: str
    higher_is_better: bool
    dimension: str
    dimension_value: str
    variant: str
    is_control: bool
    weight: float
    users: int
    count: int
    main_sum: float
    main_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    main_denominator_sum_product: float
    covariate_sum: float
    covariate_sum_squares: float
    main_covariate_sum_product: float
    mean: float
    engine: str
    sequential: bool
    cuped: bool
    absolute_lift: float | None
    absolute_ci_low: float | None
    absolute_ci_high: float | None
    relative_lift: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None
    p_value: float | None
    adjusted_p_value: float | None
    chance_to_win: float | None
    risk_control: float | None
    risk_treatment: float | None
    verdict: str | None
    analysis_note: str | None
    srm_p_value: float | None
    srm_mismatch: bool
    multiple_exposure_users: int
    multiple_exposure_share: float
    multiple_exposure_warning: bool
    unknown_variant_users: int
    window_hours: float
    late_events: int
    started_at: datetime | None
    complete_up_to: datetime | None
    max_event_time: datetime | None
    silver_version: int
    computed_at: datetime


RESULT_SCHEMA = (
    "experiment_id string, metric string, metric_kind string, role string, higher_is_better boolean, "
    "dimension string, dimension_value string, variant string, is_control boolean, weight double, "
    "users long, count long, main_sum double, main_sum_squares double, denominator_sum double, "
    "denominator_sum_squares double, main_denominator_sum_product double, covariate_sum double, "
    "covariate_sum_squares double, main_covariate_sum_product double, mean double, engine string, "
    "sequential boolean, cuped boolean, "
    "absolute_lift double, absolute_ci_low double, absolute_ci_high double, "
    "relative_lift double, relative_ci_low double, relative_ci_high double, p_value double, "
    "adjusted_p_value double, chance_to_win double, risk_control double, risk_treatment double, "
    "verdict string, analysis_note string, srm_p_value double, srm_mismatch boolean, "
    "multiple_exposure_users long, multiple_exposure_share double, multiple_exposure_warning boolean, "
    "unknown_variant_users long, window_hours double, late_events long, started_at timestamp, "
    "complete_up_to timestamp, "
    "max_event_time timestamp, silver_version long, computed_at timestamp"
)

BAYES_DECISION = 0.95
"""Chance to win (or to lose) from which a Bayesian result is called (GrowthBook's default)."""


def _empty(metric: str, variant: str, dimension: str, value: str) -> SliceSums:
    return SliceSums(metric, variant, dimension, value, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0)


def _main(sums: SliceSums, metric: Metric) -> SufficientStats:
    return SufficientStats(sums.users, sums.main_sum, sums.main_sum_squares, binary=metric.kind == "binomial")


def statistics(
    experiment: ExperimentConfig, metric: Metric, control: SliceSums, treatment: SliceSums
) -> tuple[Statistic, Statistic]:
    """The two variants' statistics as the metric kind and the experiment's CUPED setting want them."""
    if metric.kind == "ratio":
        control_ratio, treatment_ratio = (
            RatioStats(
                SufficientStats(s.users, s.main_sum, s.main_sum_squares),
                SufficientStats(s.users, s.denominator_sum, s.denominator_sum_squares),
                s.main_denominator_sum_product,
            )
            for s in (control, treatment)
        )
        return control_ratio, treatment_ratio
    if experiment.cuped:
        binary = metric.kind == "binomial"
        control_pair, treatment_pair = (
            CovariateSums(
                _main(s, metric),
                SufficientStats(s.users, s.covariate_sum, s.covariate_sum_squares, binary),
                s.main_covariate_sum_product,
            )
            for s in (control, treatment)
        )
        return cuped_pair(control_pair, treatment_pair)
    return _main(control, metric), _main(treatment, metric)


def _compare(
    experiment: ExperimentConfig, control: Statistic, treatment: Statistic
) -> Comparison | BayesianComparison:
    if experiment.engine == "bayesian":
        return bayesian(control, treatment, experiment.alpha)
    engine = sequential if experiment.sequential else frequentist
    return engine(control, treatment, experiment.alpha)


def _bayesian_verdict(result: BayesianComparison, metric: Metric) -> Verdict:
    """Better or worse (in the metric's good direction) once the chance to win is decisive."""
    win = result.chance_to_win if metric.higher_is_better else 1 - result.chance_to_win
    if win >= BAYES_DECISION:
        return "better"
    return "worse" if win <= 1 - BAYES_DECISION else "inconclusive"


def _slice_rows(
    experiment: ExperimentConfig,
    dimension: str,
    value: str,
    sums: Sequence[SliceSums],
    completeness: Completeness,
    started_at: datetime | None,
) -> list[ResultRow]:
    by_key = {(s.metric, s.variant): s for s in sums}
    first_metric = experiment.analysed_metrics()[0].name
    users = {s.variant: s.users for s in sums if s.metric == first_metric}
    health = exposure_health(experiment, users)
    if dimension == OVERALL:
        _log_health(experiment, health)
    weight_sum = sum(experiment.variants.values())
    rows = []
    for metric in experiment.analysed_metrics():
        control_sums = by_key.get(
            (metric.name, experiment.control), _empty(metric.name, experiment.control, dimension, value)
        )
        for variant, weight in experiment.variants.items():
            variant_sums = by_key.get((metric.name, variant), _empty(metric.name, variant, dimension, value))
            result, note = None, None
            control_stat, variant_stat = statistics(experiment, metric, control_sums, variant_sums)
            if variant != experiment.control:
                try:
                    if control_sums.users == 0:
                        raise InsufficientDataError("no user was exposed to the control")
                    result = _compare(experiment, control_stat, variant_stat)
                except InsufficientDataError as exc:
                    note = str(exc)
            mean = variant_stat.unadjusted_mean
            rows.append(
                ResultRow(
                    experiment_id=experiment.experiment_id,
                    metric=metric.name,
                    metric_kind=metric.kind,
                    role=metric.role,
                    higher_is_better=metric.higher_is_better,
                    dimension=dimension,
                    dimension_value=value,
                    variant=variant,
                    is_control=variant == experiment.control,
                    weight=weight / weight_sum,
                    users=variant_sums.users,
                    count=variant_sums.users,
                    main_sum=variant_sums.main_sum,
                    main_sum_squares=variant_sums.main_sum_squares,
                    denominator_sum=variant_sums.denominator_sum,
                    denominator_sum_squares=variant_sums.denominator_sum_squares,
                    main_denominator_sum_product=variant_sums.main_denominator_sum_product,
                    covariate_sum=variant_sums.covariate_sum,
                    covariate_sum_squares=variant_sums.covariate_sum_squares,
                    main_covariate_sum_product=variant_sums.main_covariate_sum_product,
                    mean=0.0 if math.isnan(mean) else mean,
                    engine=experiment.engine,
                    sequential=experiment.sequential,
                    cuped=experiment.cuped,
                    absolute_lift=result.absolute_lift if result else None,
                    absolute_ci_low=result.absolute_ci[0] if result else None,
                    absolute_ci_high=result.absolute_ci[1] if result else None,
                    relative_lift=result.relative_lift if result else None,
                    relative_ci_low=result.relative_ci[0] if result else None,
                    relative_ci_high=result.relative_ci[1] if result else None,
                    p_value=result.p_value if isinstance(result, Comparison) else None,
                    adjusted_p_value=None,
                    chance_to_win=result.chance_to_win if isinstance(result, BayesianComparison) else None,
                    risk_control=result.risk_control if isinstance(result, BayesianComparison) else None,
                    risk_treatment=result.risk_treatment if isinstance(result, BayesianComparison) else None,
                    verdict=_bayesian_verdict(result, metric)
                    if isinstance(result, BayesianComparison)
                    else None,
                    analysis_note=note,
                    srm_p_value=health.srm.p_value if health.srm else None,
                    srm_mismatch=health.srm.mismatch if health.srm else False,
                    multiple_exposure_users=health.multiple,
                    multiple_exposure_share=health.share,
                    multiple_exposure_warning=health.multiple_exposure_warning,
                    unknown_variant_users=health.unknown,
                    window_hours=experiment.window_of(metric),
                    late_events=variant_sums.late_events,
                    started_at=started_at,
                    **asdict(completeness),
                )
            )
    return _corrected(experiment, rows)


def _corrected(experiment: ExperimentConfig, rows: list[ResultRow]) -> list[ResultRow]:
    """Adjusted p-values across the slice's comparisons, and the verdicts they imply."""
    tested = [i for i, row in enumerate(rows) if row.p_value is not None]
    adjusted = adjust([rows[i].p_value or 0.0 for i in tested], experiment.correction)
    for i, p_value in zip(tested, adjusted, strict=True):
        row = rows[i]
        direction = 1 if row.higher_is_better else -1
        verdict: Verdict = "inconclusive"
        if p_value < experiment.alpha and row.absolute_lift is not None:
            verdict = "better" if direction * row.absolute_lift > 0 else "worse"
        rows[i] = replace(row, adjusted_p_value=p_value, verdict=verdict)
    return rows


def _log_health(experiment: ExperimentConfig, health: ExposureHealth) -> None:
    if health.multiple_exposure_warning:
        log.warning(
            "many users were exposed to more than one variant",
            extra={
                "experiment_id": experiment.experiment_id,
                "users": health.multiple,
                "share": health.share,
            },
        )
    if health.srm is not None and health.srm_alarm:
        log.warning(
            "sample ratio mismatch",
            extra={"experiment_id": experiment.experiment_id, "srm_p_value": health.srm.p_value},
        )


def analyse_experiment(
    experiment: ExperimentConfig,
    sums: Sequence[SliceSums],
    completeness: Completeness,
    started_at: datetime | None = None,
) -> list[ResultRow]:
    """Result rows of one experiment: every slice, metric and configured variant, control included.

    `started_at` is the experiment's first exposure.
    """
    slices = sorted({(s.dimension, s.dimension_value) for s in sums} | {(OVERALL, ALL_USERS)})
    return [
        row
        for dimension, value in slices
        for row in _slice_rows(
            experiment,
            dimension,
            value,
            [s for s in sums if (s.dimension, s.dimension_value) == (dimension, value)],
            completeness,
            started_at,
        )
    ]
