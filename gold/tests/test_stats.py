"""The sufficient statistics and the t-test against independent computations on raw per-user data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from accord.gold.engines import frequentist
from accord.gold.errors import InsufficientDataError
from accord.gold.stats import SufficientStats, mean_interval, srm_check

pytestmark = pytest.mark.unit


def _summarise(values: np.ndarray) -> SufficientStats:
    return SufficientStats(n=len(values), total=float(values.sum()), sum_squares=float((values**2).sum()))


def test_sufficient_statistics_give_the_sample_mean_and_variance() -> None:
    values = np.array([0.0, 12.5, 0.0, 3.25, 99.0])
    summary = _summarise(values)
    assert summary.mean == pytest.approx(values.mean())
    assert summary.variance == pytest.approx(values.var(ddof=1))


@pytest.mark.parametrize("metric", ["conversion", "revenue"])
def test_welch_matches_scipy_on_the_raw_per_user_values(metric: str) -> None:
    rng = np.random.default_rng(7)
    if metric == "conversion":
        control = (rng.random(4_000) < 0.10).astype(float)
        treatment = (rng.random(3_800) < 0.12).astype(float)
    else:
        control = rng.exponential(20.0, 3_000) * (rng.random(3_000) < 0.1)
        treatment = rng.exponential(24.0, 2_500) * (rng.random(2_500) < 0.1)
    reference = sps.ttest_ind(treatment, control, equal_var=False)
    reference_ci = reference.confidence_interval(0.95)

    result = frequentist(_summarise(control), _summarise(treatment))

    assert result.absolute_lift == pytest.approx(treatment.mean() - control.mean())
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.degrees_of_freedom == pytest.approx(reference.df, rel=1e-9)
    assert result.absolute_ci == pytest.approx((reference_ci.low, reference_ci.high), rel=1e-9)
    assert result.relative_lift == pytest.approx(treatment.mean() / control.mean() - 1)


def test_no_difference_gives_a_large_p_value_and_an_interval_around_zero() -> None:
    same = SufficientStats(n=10_000, total=1_000, sum_squares=1_000)
    result = frequentist(same, same)
    assert result.p_value == pytest.approx(1.0)
    assert result.absolute_ci[0] < 0 < result.absolute_ci[1]


@pytest.mark.parametrize(
    ("control", "treatment", "reason"),
    [
        (SufficientStats(1, 1, 1), SufficientStats(100, 10, 10), "control has 1 user"),
        (SufficientStats(100, 0, 0), SufficientStats(100, 10, 10), "mean is 0"),
        (SufficientStats(100, 100, 100), SufficientStats(100, 100, 100), "no variance"),
    ],
)
def test_too_little_data_is_refused_with_the_reason(
    control: SufficientStats, treatment: SufficientStats, reason: str
) -> None:
    with pytest.raises(InsufficientDataError, match=reason):
        frequentist(control, treatment)


def test_srm_flags_a_skewed_split() -> None:
    # 1,637,070 users on a configured 50/50 split, 3,053 more in control than expected.
    result = srm_check({"control": 821_588, "treatment": 815_482}, {"control": 0.5, "treatment": 0.5})
    chi_square = 2 * 3_053**2 / 818_535
    assert result.chi_square == pytest.approx(chi_square)
    # With one degree of freedom the chi-square tail is erfc(sqrt(x / 2)).
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(chi_square / 2)))
    assert result.p_value < 1e-5
    assert result.mismatch


def test_srm_accepts_a_split_that_matches_uneven_weights() -> None:
    result = srm_check({"a": 2_010, "b": 3_990, "c": 4_000}, {"a": 0.2, "b": 0.4, "c": 0.4})
    assert not result.mismatch
    assert result.p_value > 0.5


def test_srm_counts_a_configured_variant_nobody_saw_as_zero_users() -> None:
    result = srm_check({"control": 500}, {"control": 1, "treatment": 1})
    assert result.mismatch
    assert result.chi_square == pytest.approx(500.0)


def test_srm_needs_users() -> None:
    with pytest.raises(InsufficientDataError, match="no users"):
        srm_check({}, {"control": 0.5, "treatment": 0.5})


def test_a_variant_interval_matches_scipy_on_raw_values() -> None:
    values = (np.random.default_rng(3).random(800) < 0.2).astype(float)
    reference = sps.ttest_1samp(values, 0.0).confidence_interval(0.95)
    assert mean_interval(_summarise(values)) == pytest.approx((reference.low, reference.high))
