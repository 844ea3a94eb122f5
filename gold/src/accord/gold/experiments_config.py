"""The experiments file: a JSON list read by Gold and by the traffic simulator, with one set of rules.

[{"experiment_id": "new_checkout", "control": "control",
  "variants": {"control": 0.5, "treatment": 0.5},
  "conversion_event": "purchase", "window_hours": 72}]

`conversion_event` (default `purchase`) and `window_hours` (default 72) may be left out; any
other key is refused, so a misspelt one is not silently replaced by its default.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from accord.gold.errors import ExperimentConfigError

Weight = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]


class ExperimentConfig(BaseModel):
    """One experiment: its variants with their configured weights and the metric it is judged on.

    `conversion_event` names an event type in snake_case (`purchase`, `signup`, ...) or, for any
    other name, a `conversion` event of that `name`; a user converts when it happens within
    `window_hours` of their first exposure. Variants keep the file's order (assignment relies on it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

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

    @field_validator("control")
    @classmethod
    def _control_is_a_variant(cls, control: str, info: ValidationInfo) -> str:
        variants = info.data.get("variants")
        if variants is not None and control not in variants:
            raise ValueError(f"{control!r} is not one of the variants {', '.join(variants)}")
        return control


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
