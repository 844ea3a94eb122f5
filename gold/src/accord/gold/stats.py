"""Per-variant sufficient statistics of a metric, and the sample-ratio check.

Gold never needs per-user rows to analyse a metric: users, sums, sums of squares and sums of
products per variant are enough, and they are what GrowthBook's stats engine (gbstats) takes
as input, so the same rows can be handed to it unchanged. Each statistic gives the mean and the
per-user variance its engine needs, by gbstats' rules: a proportion's variance is p(1 - p), a
mean's is the sample variance (ddof 1), a ratio's comes from the delta method and a
CUPED-adjusted mean's from its regression on the pre-exposure covariate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from scipy import stats as sps

from accord.gold.errors import InsufficientDataError

SRM_THRESHOLD = 0.001
"""GrowthBook's default: a split this unlikely under the configured weights is a mismatch."""

MULTIPLE_EXPOSURE_THRESHOLD = 0.01
"""GrowthBook's default share of users seen in several variants that deserves a warning."""


class Statistic(Protocol):
    """What an engine needs of one variant's metric."""

    @property
    def n(self) -> int:
        """Users."""
        ...

    @property
    def mean(self) -> float:
        """The estimate compared across variants (CUPED-adjusted where it applies)."""
        ...

    @property
    def unadjusted_mean(self) -> float:
        """The plain mean: the base of relative lifts."""
        ...

    @property
    def variance(self) -> float:
        """Per-user variance of `mean`'s estimator, times n."""
        ...


@dataclass(frozen=True)
class SufficientStats:
    """One variant's metric as gbstats takes it: users, sum and sum of squares of the per-user value.

    `binary` marks a 0/1 metric (a proportion), whose variance is p(1 - p), gbstats' rule.
    """

    n: int
    total: float
    sum_squares: float
    binary: bool = False

    @classmethod
    def proportion(cls, n: int, successes: float) -> SufficientStats:
        """A 0/1 metric: its square is itself."""
        return cls(n, successes, successes, binary=True)

    @property
    def mean(self) -> float:
        """Mean per user (the conversion rate for a 0/1 metric)."""
        return self.total / self.n if self.n else math.nan

    @property
    def unadjusted_mean(self) -> float:
        """The same as `mean`."""
        return self.mean

    @property
    def variance(self) -> float:
        """Per-user variance: p(1 - p) for a proportion, else the sample variance (ddof 1)."""
        if self.binary:
            return self.mean * (1 - self.mean) if self.n else math.nan
        if self.n < 2:
            return math.nan
        return max((self.sum_squares - self.total**2 / self.n) / (self.n - 1), 0.0)


def _covariance(n: int, cross_sum: float, a: SufficientStats, b: SufficientStats) -> float:
    return (cross_sum - a.total * b.total / n) / (n - 1) if n > 1 else 0.0


@dataclass(frozen=True)
class RatioStats:
    """A ratio metric (e.g. revenue per order): per-user numerator and denominator sums.

    Its variance is the delta method's (gbstats' `RatioStatistic`).
    """

    numerator: SufficientStats
    denominator: SufficientStats
    cross_sum: float

    @property
    def n(self) -> int:
        """Users."""
        return self.numerator.n

    @property
    def mean(self) -> float:
        """Sum of numerators over sum of denominators."""
        return self.numerator.total / self.denominator.total if self.denominator.total else math.nan

    @property
    def unadjusted_mean(self) -> float:
        """The same as `mean`."""
        return self.mean

    @property
    def variance(self) -> float:
        """Delta-method variance of the ratio, per user."""
        m, d = self.numerator.mean, self.denominator.mean
        if self.n < 2 or not d:
            return math.nan
        covariance = _covariance(self.n, self.cross_sum, self.numerator, self.denominator)
        return (
            self.numerator.variance / d**2
            - 2 * covariance * m / d**3
            + m**2 * self.denominator.variance / d**4
        )


@dataclass(frozen=True)
class AdjustedStats:
    """A mean adjusted by CUPED: post-exposure value minus theta times the pre-exposure covariate."""

    post: SufficientStats
    pre: SufficientStats
    cross_sum: float
    theta: float

    @property
    def n(self) -> int:
        """Users."""
        return self.post.n

    @property
    def mean(self) -> float:
        """The adjusted mean."""
        return self.post.mean - self.theta * self.pre.mean

    @property
    def unadjusted_mean(self) -> float:
        """The plain post-exposure mean."""
        return self.post.mean

    @property
    def variance(self) -> float:
        """Variance of the adjusted value, per user."""
        if self.n < 2:
            return math.nan
        covariance = _covariance(self.n, self.cross_sum, self.post, self.pre)
        return self.post.variance + self.theta**2 * self.pre.variance - 2 * self.theta * covariance


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch check of the observed users per variant against the configured split."""

    chi_square: float
    p_value: float
    mismatch: bool


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
