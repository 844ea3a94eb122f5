"""An experiment's health from its exposed users per variant: sample ratio and multiple exposures.

One definition for Gold's results (computed from all of Silver) and for the stream service's
live check (`accord.gold.live_health`, from the Silver rows added since its last run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from accord.gold.errors import InsufficientDataError
from accord.gold.experiments_config import ExperimentConfig
from accord.gold.exposures import MULTIPLE_VARIANTS
from accord.gold.stats import MULTIPLE_EXPOSURE_THRESHOLD, SrmResult, srm_check


@dataclass(frozen=True)
class ExposureHealth:
    """The checks GrowthBook runs on an experiment's exposures.

    `srm` is None until some user is exposed to a configured variant; `multiple` users were seen
    in several variants (`share` of all exposed users); `unknown` were exposed to a variant the
    configuration does not have.
    """

    srm: SrmResult | None
    multiple: int
    share: float
    unknown: int

    @property
    def srm_alarm(self) -> bool:
        """True when the split of users is too unlikely under the configured weights."""
        return self.srm is not None and self.srm.mismatch

    @property
    def multiple_exposure_warning(self) -> bool:
        """True when the share of users seen in several variants deserves a warning."""
        return self.share >= MULTIPLE_EXPOSURE_THRESHOLD


def exposure_health(experiment: ExperimentConfig, users: Mapping[str, int]) -> ExposureHealth:
    """The health of `experiment` given its users per variant (`__multiple__` included)."""
    multiple = users.get(MULTIPLE_VARIANTS, 0)
    unknown = sum(n for v, n in users.items() if v not in experiment.variants and v != MULTIPLE_VARIANTS)
    exposed = sum(users.values())
    try:
        srm: SrmResult | None = srm_check(
            {v: n for v, n in users.items() if v in experiment.variants}, experiment.variants
        )
    except InsufficientDataError:
        srm = None
    return ExposureHealth(srm, multiple, multiple / exposed if exposed else 0.0, unknown)
