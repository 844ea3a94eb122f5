"""Frequentist statistics of an A/B test, computed from per-variant sufficient statistics.

Gold never needs per-user rows to analyse a metric: `n`, `sum` and `sum of squares` per variant
are enough, and they are what GrowthBook's stats engine (gbstats) takes as input, so the same
rows can be handed to it unchanged. The tests here are the ones gbstats' frequentist engine runs:
Welch's t-test on the difference of means, the delta method for the relative lift, and a
chi-square goodness-of-fit test against the configured split for sample-ratio mismatch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scipy import stats as sps

from accord.gold.errors import InsufficientDataError

SRM_THRESHOLD = 0.001
"""GrowthBook's default: a split this unlikely under the configured weights is a mismatch."""

MULTIPLE_EXPOSURE_THRESHOLD = 0.01
"""GrowthBook's default share of users seen in several variants that deserves a warning."""


@dataclass(frozen=True)
class SufficientStats:
    """One variant's metric as gbstats takes it: users, sum and sum of squares per user."""

    n: int
    total: float
    sum_squares: float

    @property
    def mean(self) -> float:
        """Mean per user (the conversion rate for a 0/1 metric)."""
        return self.total / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        """Sample variance per user (ddof 1, as gbstats computes it)."""
        if self.n < 2:
            return math.nan
        return max((self.sum_squares - self.total**2 / self.n) / (self.n - 1), 0.0)


@dataclass(frozen=True)
class Comparison:
    """Treatment against control: lifts with their confidence intervals, and a two-sided p-value."""

    absolute_lift: float
    absolute_ci: tuple[float, float]
    relative_lift: float
    relative_ci: tuple[float, float]
    p_value: float
    degrees_of_freedom: float


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch check of the observed users per variant against the configured split."""

    chi_square: float
    p_value: float
    mismatch: bool


def welch_compare(control: SufficientStats, treatment: SufficientStats, alpha: float = 0.05) -> Comparison:
    """Compare the treatment's mean with the control's by Welch's t-test.

    The absolute lift's interval uses the Welch-Satterthwaite degrees of freedom; the relative
    lift's uses the delta method (gbstats' `variance_of_ratios`) with the same critical value.

    Raises:
        InsufficientDataError: a variant has fewer than two users, the control's mean is zero,
            or neither variant varies.
    """
    for label, side in (("control", control), ("treatment", treatment)):
        if side.n < 2:
            raise InsufficientDataError(f"{label} has {side.n} user(s); a test needs at least 2 per variant")
    if control.mean == 0:
        raise InsufficientDataError("the control's mean is 0, so a relative lift is undefined")
    se_c, se_t = control.variance / control.n, treatment.variance / treatment.n
    standard_error = math.sqrt(se_c + se_t)
    if standard_error == 0:
        raise InsufficientDataError("no variance in either variant")
    result = sps.ttest_ind_from_stats(
        treatment.mean,
        math.sqrt(treatment.variance),
        treatment.n,
        control.mean,
        math.sqrt(control.variance),
        control.n,
        equal_var=False,
    )
    dof = (se_c + se_t) ** 2 / (se_c**2 / (control.n - 1) + se_t**2 / (treatment.n - 1))
    critical = float(sps.t.ppf(1 - alpha / 2, dof))
    diff = treatment.mean - control.mean
    relative = treatment.mean / control.mean - 1
    relative_se = math.sqrt(se_t / control.mean**2 + se_c * treatment.mean**2 / control.mean**4)
    return Comparison(
        absolute_lift=diff,
        absolute_ci=(diff - critical * standard_error, diff + critical * standard_error),
        relative_lift=relative,
        relative_ci=(relative - critical * relative_se, relative + critical * relative_se),
        p_value=float(result.pvalue),
        degrees_of_freedom=dof,
    )


def srm_check(
    users: Mapping[str, int], weights: Mapping[str, float], threshold: float = SRM_THRESHOLD
) -> SrmResult:
    """Chi-square goodness of fit of the users per variant against the configured weights.

    Variants missing from `users` count as zero users; the weights are normalised, so
    `{"control": 1, "treatment": 1}` means an even split.

    Raises:
        InsufficientDataError: no users at all, or fewer than two configured variants.
    """
    if len(weights) < 2:
        raise InsufficientDataError("a split needs at least two variants")
    total = sum(users.get(variant, 0) for variant in weights)
    if total == 0:
        raise InsufficientDataError("no users exposed yet")
    weight_sum = sum(weights.values())
    observed = [users.get(variant, 0) for variant in weights]
    expected = [total * weight / weight_sum for weight in weights.values()]
    chi_square, p_value = sps.chisquare(observed, expected)
    return SrmResult(chi_square=float(chi_square), p_value=float(p_value), mismatch=bool(p_value < threshold))


def mean_interval(stats: SufficientStats, alpha: float = 0.05) -> tuple[float, float]:
    """Confidence interval of one variant's mean (t distribution, n - 1 degrees of freedom).

    Raises:
        InsufficientDataError: fewer than two users.
    """
    if stats.n < 2:
        raise InsufficientDataError(f"{stats.n} user(s); an interval needs at least 2")
    scale = math.sqrt(stats.variance / stats.n)
    if scale == 0:
        return (stats.mean, stats.mean)
    low, high = sps.t.interval(1 - alpha, stats.n - 1, loc=stats.mean, scale=scale)
    return (float(low), float(high))
