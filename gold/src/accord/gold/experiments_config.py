"""The experiments file: a JSON list read by Gold and by the traffic simulator, with one set of rules.

[{"experiment_id": "new_checkout", "control": "control",
  "variants": {"control": 0.5, "treatment": 0.5},
  "conversion_event": "purchase", "window_hours": 72,
  "engine": "bayesian", "cuped": true, "dimensions": ["platform"],
  "metrics": [
    {"name": "purchase_rate", "kind": "binomial", "event": "purchase", "role": "goal"},
    {"name": "revenue_per_user", "kind": "sum", "event": "purchase", "field": "amount"},
    {"name": "revenue_per_order", "kind": "ratio",
     "numerator": {"kind": "sum", "event": "purchase", "field": "amount"},
     "denominator": {"kind": "count", "event": "purchase"}},
    {"name": "page_views_per_user", "kind": "count", "event": "page_view", "role": "guardrail"}]}]

Every key but `experiment_id`, `control` and `variants` may be left out; any other key is
refused, so a misspelt one is not silently replaced by its default. Without `metrics`, an
experiment is judged on its `conversion_event` (a binomial goal) and the revenue per user it
brings (a purchase's `amount`, a named conversion's `value`).
`accord schemas lint` checks every metric's event, fields and filters, and every dimension,
against the contracts (`accord.gold.lint`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from accord.gold.corrections import Correction
from accord.gold.errors import ExperimentConfigError

Weight = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
FilterValue = str | int | float | bool
Hours = Annotated[float, Field(gt=0, allow_inf_nan=False)]

CONVERSION_RATE = "conversion_rate"
REVENUE_PER_USER = "revenue_per_user"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Aggregate(_Strict):
    """A per-user value: how many events (`count`) or the total of a numeric `field` (`sum`).

    `event` is an event type (snake_case, e.g. `purchase`); the events of type `conversion` also
    answer to their `name`, so `"event": "trial_started"` counts `conversion` events of that name.
    `filters` keep the events whose field equals the value (or one of the values of a list).
    """

    kind: Literal["count", "sum"]
    event: str = Field(min_length=1)
    field: str | None = Field(default=None, min_length=1, description="numeric field summed (`sum` only)")
    filters: dict[str, FilterValue | list[FilterValue]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _field_matches_kind(self) -> Aggregate:
        if self.kind == "sum" and self.field is None:
            raise ValueError("a `sum` names the `field` it adds up")
        if self.kind == "count" and self.field is not None:
            raise ValueError("a `count` counts events and takes no `field`")
        return self


class Metric(_Strict):
    """One metric an experiment is judged on, computed per exposed user within its window.

    - `binomial`: 1 when the user did `event` (matching `filters`) within the window, else 0;
    - `count`: how many such events; `sum`: the total of `field` over them (revenue per user);
    - `ratio`: sum of `numerator` over sum of `denominator` across users (revenue per order),
      analysed with the delta method.

    `window_hours` counts from the user's first exposure (default: the experiment's).
    `role`: `goal` metrics decide, `guardrail` ones must not get worse, `secondary` inform.
    `higher_is_better: false` marks a metric whose decrease is good (errors, latency).
    """

    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["binomial", "count", "sum", "ratio"]
    event: str | None = Field(default=None, min_length=1)
    field: str | None = Field(default=None, min_length=1)
    filters: dict[str, FilterValue | list[FilterValue]] = Field(default_factory=dict)
    numerator: Aggregate | None = None
    denominator: Aggregate | None = None
    window_hours: Hours | None = None
    role: Literal["goal", "secondary", "guardrail"] = "secondary"
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _parts_match_kind(self) -> Metric:
        if self.kind == "ratio":
            if self.numerator is None or self.denominator is None:
                raise ValueError("a `ratio` has a `numerator` and a `denominator`")
            if self.event is not None or self.field is not None or self.filters:
                raise ValueError(
                    "a `ratio` puts `event`, `field` and `filters` in its numerator and denominator"
                )
            return self
        if self.numerator is not None or self.denominator is not None:
            raise ValueError(f"a `{self.kind}` metric has no numerator or denominator")
        if self.event is None:
            raise ValueError(f"a `{self.kind}` metric names its `event`")
        if (self.kind == "sum") != (self.field is not None):
            raise ValueError("a `sum` names the `field` it adds up, and only a `sum` has one")
        return self

    def aggregates(self) -> list[Aggregate]:
        """The per-user values the metric needs: one, or a ratio's numerator and denominator."""
        if self.numerator is not None and self.denominator is not None:
            return [self.numerator, self.denominator]
        assert self.event is not None  # the validator guarantees it
        kind: Literal["count", "sum"] = "sum" if self.kind == "sum" else "count"
        return [Aggregate(kind=kind, event=self.event, field=self.field, filters=self.filters)]


class ExperimentConfig(_Strict):
    """One experiment: its variants with their configured weights, its metrics and its analysis.

    `conversion_event` names an event type in snake_case (`purchase`, `signup`, ...) or, for any
    other name, a `conversion` event of that `name`; a user converts when it happens within
    `window_hours` of their first exposure (the simulator makes users convert on it). Variants
    keep the file's order (assignment relies on it).

    Analysis: `engine` (`frequentist` or `bayesian`), `sequential` (always-valid intervals,
    frequentist only), `cuped` (adjust by the same metric over `cuped_lookback_hours` before
    exposure), `correction` of p-values across variants and metrics (`none`, `holm`,
    `benjamini_hochberg`), `alpha`, and `dimensions`: fields of the events' context
    (`platform`, `locale`, ...) to break results down by, taken at the user's first exposure.
    """

    experiment_id: str = Field(min_length=1)
    # declared before `control`, which is checked against it
    variants: dict[str, Weight] = Field(min_length=2, description="variant name → positive weight")
    control: str = Field(min_length=1)
    conversion_event: str = Field(
        default="purchase", min_length=1, description="an event type, or the name of a `conversion` event"
    )
    window_hours: float = Field(
        default=72.0, gt=0, allow_inf_nan=False, description="conversion window after first exposure"
    )
    metrics: tuple[Metric, ...] = Field(
        default=(), description="default: conversion rate and revenue per user"
    )
    engine: Literal["frequentist", "bayesian"] = "frequentist"
    sequential: bool = False
    cuped: bool = False
    cuped_lookback_hours: Hours = 14 * 24.0
    correction: Correction = "none"
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    dimensions: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ...] = ()

    @field_validator("control")
    @classmethod
    def _control_is_a_variant(cls, control: str, info: ValidationInfo) -> str:
        variants = info.data.get("variants")
        if variants is not None and control not in variants:
            raise ValueError(f"{control!r} is not one of the variants {', '.join(variants)}")
        return control

    @model_validator(mode="after")
    def _consistent_analysis(self) -> ExperimentConfig:
        names = [metric.name for metric in self.metrics]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"metric names appear more than once: {', '.join(duplicated)}")
        if self.sequential and self.engine != "frequentist":
            raise ValueError("sequential testing is a frequentist engine: set `engine` to `frequentist`")
        return self

    def analysed_metrics(self) -> tuple[Metric, ...]:
        """The configured metrics, or the conversion rate and revenue per user when none are."""
        if self.metrics:
            return self.metrics
        return (
            Metric(name=CONVERSION_RATE, kind="binomial", event=self.conversion_event, role="goal"),
            # a purchase's value is its amount, a named conversion's its `value`
            Metric(
                name=REVENUE_PER_USER,
                kind="sum",
                event=self.conversion_event,
                field="amount" if self.conversion_event == "purchase" else "value",
            ),
        )

    def window_of(self, metric: Metric) -> float:
        """The metric's conversion window in hours (its own, else the experiment's)."""
        return metric.window_hours if metric.window_hours is not None else self.window_hours


_CONFIG_LIST = TypeAdapter(list[ExperimentConfig])


def default_experiments_file() -> Path:
    """The experiments file shipped for the demo."""
    return Path(str(resources.files("accord.gold") / "experiments.json"))


def _problems(error: ValidationError) -> str:
    """One line per problem, naming the entry and the field: `experiment [0] control: ...`."""
    lines = []
    for problem in error.errors(include_url=False):
        location: tuple[Any, ...] = problem["loc"]
        where = f"experiment [{location[0]}]" if location and isinstance(location[0], int) else "the file"
        field = ".".join(str(part) for part in location[1:])
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{where} {field}: {message}" if field else f"{where}: {message}")
    return "\n".join(lines)


def load_experiments(path: Path | None = None) -> list[ExperimentConfig]:
    """Read and validate the experiments file (the shipped default when `path` is None).

    Raises:
        ExperimentConfigError: the file is missing, not JSON, or an entry is invalid; the message
            names the entry and the field.
    """
    path = path or default_experiments_file()
    try:
        text = path.read_text()
    except OSError as exc:
        raise ExperimentConfigError(f"cannot read experiments file {path}: {exc.strerror}") from exc
    try:
        experiments = _CONFIG_LIST.validate_json(text)
    except ValidationError as exc:
        raise ExperimentConfigError(f"invalid experiments file {path}:\n{_problems(exc)}") from exc
    ids = [experiment.experiment_id for experiment in experiments]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ExperimentConfigError(f"experiment ids appear more than once in {path}: {duplicated}")
    return experiments
