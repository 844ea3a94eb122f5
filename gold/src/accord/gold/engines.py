"""The statistics engines: treatment against control, on both the absolute and the relative scale.

Each engine gives what gbstats gives on the same statistics (the tests compare them):

- `frequentist`: Welch's t-test, Welch-Satterthwaite degrees of freedom; the relative lift's
  variance by the delta method (gbstats' `frequentist_variance`), with the same critical value.
- `sequential`: always-valid confidence sequences (Waudby-Smith et al., asymptotic, eq. 9 and
  155 of arXiv:2103.06476, gbstats' `SequentialTwoSidedTTest`): an interval that may be read
  every day without inflating the false-positive rate. Written here: no library offers it.
- `bayesian`: with gbstats' default flat prior the posterior of the lift is normal around the
  estimate; chance to win, credible interval and expected loss (risk) follow from it.
- `cuped_pair`: the regression adjustment (CUPED) of both variants by one pooled theta, the
  covariate being the same metric before exposure; feed the result to any engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps

from accord.gold.errors import InsufficientDataError
from accord.gold.stats import AdjustedStats, Statistic, SufficientStats

SEQUENTIAL_TUNING = 5000.0
"""GrowthBook's default tuning of the confidence sequence: the sample size it is tightest at."""


@dataclass(frozen=True)
class Comparison:
    """Treatment against control: lifts with their intervals, a two-sided p-value (absolute scale)."""

    absolute_lift: float
    absolute_ci: tuple[float, float]
    relative_lift: float
    relative_ci: tuple[float, float]
    p_value: float
    degrees_of_freedom: float


@dataclass(frozen=True)
class BayesianComparison:
    """The posterior of the lift: chance to beat control, credible intervals, expected losses.

    `risk_control` is the expected relative lift given up by keeping control when treatment is
    better; `risk_treatment` the expected relative loss of shipping treatment when it is worse.
    """

    absolute_lift: float
    absolute_ci: tuple[float, float]
    relative_lift: float
    relative_ci: tuple[float, float]
    chance_to_win: float
    risk_control: float
    risk_treatment: float


def _checked(control: Statistic, treatment: Statistic) -> None:
    for label, side in (("control", control), ("treatment", treatment)):
        if side.n < 2:
            raise InsufficientDataError(f"{label} has {side.n} user(s); a test needs at least 2 per variant")
    if not control.unadjusted_mean or math.isnan(control.unadjusted_mean):
        raise InsufficientDataError("the control's mean is 0, so a relative lift is undefined")
    if not control.variance > 0 or not treatment.variance > 0:
        raise InsufficientDataError("no variance in a variant")


def _variances(control: Statistic, treatment: Statistic) -> tuple[float, float]:
    """Variance of the absolute and of the relative difference (delta method)."""
    v_c, v_t = control.variance / control.n, treatment.variance / treatment.n
    base, other = control.unadjusted_mean, treatment.unadjusted_mean
    return v_c + v_t, v_t / base**2 + v_c * other**2 / base**4


def _differences(control: Statistic, treatment: Statistic) -> tuple[float, float]:
    diff = treatment.mean - control.mean
    return diff, diff / control.unadjusted_mean


def frequentist(control: Statistic, treatment: Statistic, alpha: float = 0.05) -> Comparison:
    """Welch's t-test of the treatment's mean against the control's, fixed horizon.

    Raises:
        InsufficientDataError: a variant has fewer than two users or no variance, or the
            control's mean is zero.
    """
    _checked(control, treatment)
    v_c, v_t = control.variance / control.n, treatment.variance / treatment.n
    dof = (v_c + v_t) ** 2 / (v_c**2 / (control.n - 1) + v_t**2 / (treatment.n - 1))
    var_abs, var_rel = _variances(control, treatment)
    diff, relative = _differences(control, treatment)
    critical = float(sps.t.ppf(1 - alpha / 2, dof))
    half_abs, half_rel = critical * math.sqrt(var_abs), critical * math.sqrt(var_rel)
    return Comparison(
        absolute_lift=diff,
        absolute_ci=(diff - half_abs, diff + half_abs),
        relative_lift=relative,
        relative_ci=(relative - half_rel, relative + half_rel),
        p_value=float(2 * sps.t.sf(abs(diff) / math.sqrt(var_abs), dof)),
        degrees_of_freedom=dof,
    )


def _sequential_half_width(variance: float, users: int, alpha: float, tuning: float) -> float:
    rho_squared = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    s2 = variance * users
    scaled = users * rho_squared + 1
    return math.sqrt(s2) * math.sqrt(
        2 * scaled * math.log(math.sqrt(scaled) / alpha) / (users**2 * rho_squared)
    )


def sequential(
    control: Statistic, treatment: Statistic, alpha: float = 0.05, tuning: float = SEQUENTIAL_TUNING
) -> Comparison:
    """Always-valid intervals and p-value: they stay valid however often the result is looked at.

    The p-value is the inverse of the confidence sequence's e-value (absolute scale), at most 1.

    Raises:
        InsufficientDataError: as `frequentist`.
    """
    _checked(control, treatment)
    users = control.n + treatment.n
    var_abs, var_rel = _variances(control, treatment)
    diff, relative = _differences(control, treatment)
    half_abs = _sequential_half_width(var_abs, users, alpha, tuning)
    half_rel = _sequential_half_width(var_rel, users, alpha, tuning)
    rho_squared = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    scaled = users * rho_squared + 1
    statistic = diff**2 * users / var_abs
    log_e_value = rho_squared * statistic / (2 * scaled) - 0.5 * math.log(scaled)
    return Comparison(
        absolute_lift=diff,
        absolute_ci=(diff - half_abs, diff + half_abs),
        relative_lift=relative,
        relative_ci=(relative - half_rel, relative + half_rel),
        p_value=min(math.exp(-log_e_value), 1.0),
        degrees_of_freedom=math.inf,
    )


def _expected_positive_part(mu: float, sigma: float) -> float:
    """E[max(X, 0)] for X ~ N(mu, sigma²)."""
    return mu * float(sps.norm.cdf(mu / sigma)) + sigma * float(sps.norm.pdf(mu / sigma))


def bayesian(control: Statistic, treatment: Statistic, alpha: float = 0.05) -> BayesianComparison:
    """The lift's normal posterior under a flat prior (gbstats' default): chance to win and risk.

    Chance to win and risk are on the relative scale, as GrowthBook shows them.

    Raises:
        InsufficientDataError: as `frequentist`.
    """
    _checked(control, treatment)
    var_abs, var_rel = _variances(control, treatment)
    diff, relative = _differences(control, treatment)
    sd_abs, sd_rel = math.sqrt(var_abs), math.sqrt(var_rel)
    z = float(sps.norm.ppf(1 - alpha / 2))
    return BayesianComparison(
        absolute_lift=diff,
        absolute_ci=(diff - z * sd_abs, diff + z * sd_abs),
        relative_lift=relative,
        relative_ci=(relative - z * sd_rel, relative + z * sd_rel),
        chance_to_win=float(sps.norm.sf(0, relative, sd_rel)),
        risk_control=_expected_positive_part(relative, sd_rel),
        risk_treatment=_expected_positive_part(-relative, sd_rel),
    )


@dataclass(frozen=True)
class CovariateSums:
    """One variant's post-exposure metric, its pre-exposure covariate and their cross products."""

    post: SufficientStats
    pre: SufficientStats
    cross_sum: float


def cuped_pair(control: CovariateSums, treatment: CovariateSums) -> tuple[Statistic, Statistic]:
    """Both variants adjusted by one theta: Cov(post, pre) / Var(pre) over the pooled users.

    When the covariate does not vary (no user did anything before exposure) there is nothing to
    adjust by, and the plain statistics come back, as gbstats does.
    """
    n = control.post.n + treatment.post.n
    pooled_pre = SufficientStats(
        n, control.pre.total + treatment.pre.total, control.pre.sum_squares + treatment.pre.sum_squares,
        control.pre.binary,
    )  # fmt: skip
    pooled_post = SufficientStats(
        n, control.post.total + treatment.post.total, control.post.sum_squares + treatment.post.sum_squares,
        control.post.binary,
    )  # fmt: skip
    if n < 2 or not pooled_pre.variance > 0 or not pooled_post.variance > 0:
        return control.post, treatment.post
    cross = control.cross_sum + treatment.cross_sum
    covariance = (cross - pooled_post.total * pooled_pre.total / n) / (n - 1)
    theta = covariance / pooled_pre.variance
    return (
        AdjustedStats(control.post, control.pre, control.cross_sum, theta),
        AdjustedStats(treatment.post, treatment.pre, treatment.cross_sum, theta),
    )
