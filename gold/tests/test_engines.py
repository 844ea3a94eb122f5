"""Every engine against GrowthBook's own (gbstats, run in its own environment) and against the truth.

Agreement: random experiments of each metric kind, the same sufficient statistics given to Gold's
engines and to gbstats' `analyze_metric_df`. Coverage: simulated experiments with a known lift,
sufficient statistics drawn with numpy, the interval holding the truth at the advertised rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from accord.gold.corrections import adjust, holm
from accord.gold.engines import (
    CovariateSums,
    bayesian,
    cuped_pair,
    frequentist,
    sequential,
)
from accord.gold.stats import RatioStats, Statistic, SufficientStats

pytestmark = pytest.mark.unit

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Arm:
    """One variant's per-user values: the metric, and a denominator or covariate when there is one."""

    main: np.ndarray
    other: np.ndarray | None = None


def _sums(values: np.ndarray, binary: bool) -> SufficientStats:
    return SufficientStats(len(values), float(values.sum()), float((values**2).sum()), binary)


def _other(arm: Arm) -> np.ndarray:
    assert arm.other is not None
    return arm.other


def _statistics(kind: str, control: Arm, treatment: Arm) -> tuple[Statistic, Statistic]:
    binary = kind == "binomial"
    if kind == "ratio":
        c, t = (
            RatioStats(_sums(a.main, False), _sums(_other(a), False), float((a.main * _other(a)).sum()))
            for a in (control, treatment)
        )
        return c, t
    if kind == "cuped":
        pairs = [
            CovariateSums(_sums(a.main, False), _sums(_other(a), False), float((a.main * _other(a)).sum()))
            for a in (control, treatment)
        ]
        return cuped_pair(pairs[0], pairs[1])
    return _sums(control.main, binary), _sums(treatment.main, binary)


def _row(variation: int, arm: Arm) -> dict[str, Any]:
    other = arm.other if arm.other is not None else np.zeros_like(arm.main)
    return {
        "dimension": "All", "variation": str(variation), "users": len(arm.main), "count": len(arm.main),
        "main_sum": float(arm.main.sum()), "main_sum_squares": float((arm.main**2).sum()),
        "denominator_sum": float(other.sum()), "denominator_sum_squares": float((other**2).sum()),
        "main_denominator_sum_product": float((arm.main * other).sum()),
        "covariate_sum": float(other.sum()), "covariate_sum_squares": float((other**2).sum()),
        "main_covariate_sum_product": float((arm.main * other).sum()),
    }  # fmt: skip


def _metric(kind: str) -> dict[str, Any]:
    statistic = {"ratio": "ratio", "cuped": "mean_ra"}.get(kind, "mean")
    main = "binomial" if kind == "binomial" else "count"
    return {
        "id": kind, "name": kind, "statistic_type": statistic, "main_metric_type": main,
        "denominator_metric_type": "count" if kind == "ratio" else None,
        "covariate_metric_type": "count" if kind == "cuped" else None,
    }  # fmt: skip


def _experiment(rng: np.random.Generator, kind: str) -> tuple[Arm, Arm]:
    arms = []
    for lift in (0.0, rng.uniform(-0.1, 0.15)):
        n = int(rng.integers(800, 6_000))
        if kind == "binomial":
            arms.append(Arm((rng.random(n) < 0.1 * (1 + lift)).astype(float)))
        elif kind == "mean":
            arms.append(Arm(rng.exponential(20 * (1 + lift), n) * (rng.random(n) < 0.3)))
        elif kind == "ratio":
            orders = rng.poisson(1.5, n).astype(float)
            arms.append(Arm(orders * rng.exponential(30 * (1 + lift), n), orders))
        else:
            pre = rng.exponential(10, n)
            arms.append(Arm(0.8 * pre * (1 + lift) + rng.normal(0, 4, n), pre))
    return arms[0], arms[1]


def _case(
    kind: str, control: Arm, treatment: Arm, engine: str, sequential: bool, scale: str
) -> dict[str, Any]:
    return {
        "rows": [_row(0, control), _row(1, treatment)],
        "metric": _metric(kind),
        "analysis": {
            "var_names": ["control", "treatment"], "var_ids": ["0", "1"], "weights": [0.5, 0.5],
            "stats_engine": engine, "sequential_testing_enabled": sequential, "difference_type": scale,
        },
    }  # fmt: skip


KINDS = ("binomial", "mean", "ratio", "cuped")
SETUPS = (("frequentist", False), ("frequentist", True), ("bayesian", False))


def test_every_engine_agrees_with_gbstats_on_random_experiments(gbstats_oracle: Any) -> None:
    rng = np.random.default_rng(16)
    experiments = [(kind, *_experiment(rng, kind)) for kind in KINDS for _ in range(8)]
    cases = [
        _case(kind, control, treatment, engine, seq, scale)
        for kind, control, treatment in experiments
        for engine, seq in SETUPS
        for scale in ("absolute", "relative")
    ]
    answers = iter(gbstats_oracle(cases))
    compared = 0
    for kind, control, treatment in experiments:
        a, b = _statistics(kind, control, treatment)
        for engine, seq in SETUPS:
            ours: Any = bayesian(a, b) if engine == "bayesian" else (sequential if seq else frequentist)(a, b)
            for scale in ("absolute", "relative"):
                theirs = next(answers)[0]["variations"][0]
                assert theirs["error"] is None, theirs
                lift, ci = getattr(ours, f"{scale}_lift"), getattr(ours, f"{scale}_ci")
                where = f"{kind} {engine} sequential={seq} {scale}"
                assert lift == pytest.approx(theirs["expected"], rel=TOLERANCE, abs=1e-12), where
                assert list(ci) == pytest.approx(theirs["ci"], rel=TOLERANCE, abs=1e-12), where
                if engine == "bayesian" and scale == "relative":
                    assert ours.chance_to_win == pytest.approx(theirs["chance_to_win"], abs=TOLERANCE), where
                    risk = [ours.risk_control, ours.risk_treatment]
                    assert risk == pytest.approx(theirs["risk"], rel=1e-5, abs=1e-9), where
                if engine == "frequentist" and scale == "absolute":
                    assert ours.p_value == pytest.approx(theirs["p_value"], rel=1e-5, abs=1e-9), where
                compared += 1
    assert compared == len(cases)


def _binomial_arms(rng: np.random.Generator, n: int, base: float, lift: float) -> tuple[Statistic, Statistic]:
    return (
        SufficientStats.proportion(n, float(rng.binomial(n, base))),
        SufficientStats.proportion(n, float(rng.binomial(n, base * (1 + lift)))),
    )


RUNS = 600
# 600 runs: the binomial standard error of a 95% coverage is 0.9 points


def test_frequentist_intervals_cover_the_true_lift_at_the_advertised_rate() -> None:
    rng = np.random.default_rng(2024)
    hits = sum(
        (r := frequentist(*_binomial_arms(rng, 5_000, 0.1, 0.2))).relative_ci[0] <= 0.2 <= r.relative_ci[1]
        for _ in range(RUNS)
    )
    assert 0.93 <= hits / RUNS <= 0.97


def test_bayesian_credible_intervals_cover_the_true_lift_at_the_advertised_rate() -> None:
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(RUNS):
        n = 4_000
        control = rng.exponential(20, n) * (rng.random(n) < 0.3)
        treatment = rng.exponential(22, n) * (rng.random(n) < 0.3)
        result = bayesian(_sums(control, False), _sums(treatment, False))
        hits += result.relative_ci[0] <= 0.1 <= result.relative_ci[1]
    assert 0.93 <= hits / RUNS <= 0.97


def _peeks(rng: np.random.Generator, engine: Any, lift: float, looks: int = 20, batch: int = 500) -> bool:
    """Whether the interval held the true absolute lift at every one of `looks` daily looks."""
    conversions = np.cumsum(rng.binomial(batch, [[0.1], [0.1 + lift]], size=(2, looks)), axis=1)
    for day in range(looks):
        users = batch * (day + 1)
        result = engine(
            SufficientStats.proportion(users, float(conversions[0, day])),
            SufficientStats.proportion(users, float(conversions[1, day])),
        )
        if not result.absolute_ci[0] <= lift <= result.absolute_ci[1]:
            return False
    return True


def test_sequential_intervals_stay_valid_when_read_every_day() -> None:
    rng = np.random.default_rng(11)
    always = sum(_peeks(rng, sequential, 0.01) for _ in range(RUNS)) / RUNS
    # the fixed-horizon interval, read every day, misses the truth on some day far more often
    peeked = sum(_peeks(rng, frequentist, 0.01) for _ in range(RUNS)) / RUNS
    assert always >= 0.95
    assert peeked < 0.85


def test_cuped_narrows_the_interval_and_keeps_its_coverage_when_the_covariate_correlates() -> None:
    rng = np.random.default_rng(5)
    hits, ratios = 0, []
    for _ in range(RUNS):
        arms = []
        for lift in (0.0, 0.05):
            pre = rng.exponential(10, 2_000)
            post = 0.8 * pre + rng.exponential(2, 2_000) * (1 + lift) + 8 * lift
            arms.append(CovariateSums(_sums(post, False), _sums(pre, False), float((post * pre).sum())))
        truth = 0.05 * 2 + 8 * 0.05
        adjusted = frequentist(*cuped_pair(arms[0], arms[1]))
        plain = frequentist(arms[0].post, arms[1].post)
        hits += adjusted.absolute_ci[0] <= truth <= adjusted.absolute_ci[1]
        ratios.append(
            (adjusted.absolute_ci[1] - adjusted.absolute_ci[0])
            / (plain.absolute_ci[1] - plain.absolute_ci[0])
        )
    assert 0.93 <= hits / RUNS <= 0.97
    assert float(np.median(ratios)) < 0.5


def test_cuped_changes_nothing_when_nobody_has_a_pre_exposure_value() -> None:
    post = SufficientStats(100, 40.0, 90.0)
    none = SufficientStats(100, 0.0, 0.0)
    assert cuped_pair(CovariateSums(post, none, 0.0), CovariateSums(post, none, 0.0)) == (post, post)


def test_holm_and_benjamini_hochberg_adjust_as_their_definitions_say() -> None:
    p_values = [0.01, 0.04, 0.03, 0.005]
    assert holm(p_values) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: p_(i) * m / i, made monotone from the largest down
    assert adjust(p_values, "benjamini_hochberg") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust(p_values, "none") == p_values
