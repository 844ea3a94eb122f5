"""Gold's result rows are GrowthBook's query rows: gbstats, given their columns, reaches Gold's answers.

The rows of `gold/experiment_results` for one metric, renamed only where GrowthBook's names
differ (`variant` -> `variation`, `dimension_value` -> `dimension`), go to gbstats'
`analyze_metric_df`; its lifts, intervals, p-values and chances to win match Gold's, slice by slice.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from accord.gold.experiments_config import Aggregate, ExperimentConfig, Metric
from accord.gold.metric_values import SUM_COLUMNS, SliceSums
from accord.gold.results import Completeness, analyse_experiment

pytestmark = pytest.mark.unit

METRICS = (
    Metric(name="conversion_rate", kind="binomial", event="purchase", role="goal"),
    Metric(name="revenue_per_user", kind="sum", event="purchase", field="amount"),
    Metric(
        name="revenue_per_order",
        kind="ratio",
        numerator=Aggregate(kind="sum", event="purchase", field="amount"),
        denominator=Aggregate(kind="count", event="purchase"),
    ),
)
EXPERIMENT = ExperimentConfig(
    experiment_id="new_checkout",
    control="control",
    variants={"control": 0.5, "treatment": 0.3, "bigger_button": 0.2},
    metrics=METRICS,
    dimensions=("platform",),
)
COMPLETENESS = Completeness(None, None, 1, datetime(2026, 3, 9))


def _sums(rng: np.random.Generator, metric: Metric, variant: str, dimension: str, value: str) -> SliceSums:
    n = int(rng.integers(2_000, 5_000))
    orders = rng.poisson(0.4, n).astype(float)
    revenue = orders * rng.exponential(40 if variant == "control" else 44, n)
    pre = rng.poisson(0.4, n) * rng.exponential(40, n)
    main = {"conversion_rate": (orders > 0).astype(float), "revenue_per_user": revenue}.get(
        metric.name, revenue
    )
    denominator = orders if metric.kind == "ratio" else np.zeros(n)
    covariate = (pre > 0).astype(float) if metric.kind == "binomial" else pre
    return SliceSums(
        metric.name, variant, dimension, value, n,
        float(main.sum()), float((main**2).sum()),
        float(denominator.sum()), float((denominator**2).sum()), float((main * denominator).sum()),
        float(covariate.sum()), float((covariate**2).sum()), float((main * covariate).sum()), 0,
    )  # fmt: skip


def _gbstats_case(experiment: ExperimentConfig, metric: Metric, rows: list[dict[str, Any]]) -> dict[str, Any]:
    statistic = "ratio" if metric.kind == "ratio" else "mean_ra" if experiment.cuped else "mean"
    main_type = "binomial" if metric.kind == "binomial" else "count"
    variants = list(experiment.variants)
    return {
        "rows": [
            {"variation": r["variant"], "dimension": r["dimension_value"], "count": r["count"]}
            | {column: r[column] for column in SUM_COLUMNS}
            for r in rows
        ],
        "metric": {
            "id": metric.name, "name": metric.name,
            "statistic_type": statistic, "main_metric_type": main_type,
            "denominator_metric_type": "count" if metric.kind == "ratio" else None,
            "covariate_metric_type": main_type if statistic == "mean_ra" else None,
        },
        "analysis": {
            "var_names": variants, "var_ids": variants, "weights": list(experiment.variants.values()),
            "stats_engine": experiment.engine, "sequential_testing_enabled": experiment.sequential,
        },
    }  # fmt: skip


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"engine": "bayesian"},
        {"sequential": True},
        {"cuped": True},
        {"cuped": True, "engine": "bayesian"},
    ],
    ids=["frequentist", "bayesian", "sequential", "cuped", "cuped-bayesian"],
)
def test_gbstats_on_golds_columns_gives_golds_answers(gbstats_oracle: Any, settings: dict[str, Any]) -> None:
    experiment = EXPERIMENT.model_copy(update=settings)
    rng = np.random.default_rng(42)
    sums = [
        _sums(rng, metric, variant, dimension, value)
        for metric in METRICS
        for dimension, value in (("", "All"), ("platform", "WEB"), ("platform", "IOS"))
        for variant in experiment.variants
    ]
    rows = [asdict(r) for r in analyse_experiment(experiment, sums, COMPLETENESS)]
    metrics = [m for m in METRICS if not (experiment.cuped and m.kind == "ratio")]
    answers = gbstats_oracle(
        [_gbstats_case(experiment, m, [r for r in rows if r["metric"] == m.name]) for m in metrics]
    )
    compared = 0
    for metric, answer in zip(metrics, answers, strict=True):
        for by_dimension in answer:
            ours = {
                r["variant"]: r
                for r in rows
                if r["metric"] == metric.name and r["dimension_value"] == by_dimension["dimension"]
            }
            assert ours["control"]["srm_p_value"] == pytest.approx(by_dimension["srm_p"], rel=1e-9)
            for variant, theirs in zip(
                list(experiment.variants)[1:], by_dimension["variations"], strict=True
            ):
                row = ours[variant]
                assert row["relative_lift"] == pytest.approx(theirs["expected"], rel=1e-6)
                assert [row["relative_ci_low"], row["relative_ci_high"]] == pytest.approx(
                    theirs["ci"], rel=1e-6
                )
                if experiment.engine == "bayesian":
                    assert row["chance_to_win"] == pytest.approx(theirs["chance_to_win"], abs=1e-6)
                compared += 1
    assert compared == len(metrics) * 3 * 2
