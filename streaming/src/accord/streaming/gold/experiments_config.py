"""The experiments configuration: a JSON list shared by the traffic simulator and Gold.

[{"experiment_id": "new_checkout", "control": "control",
  "variants": {"control": 0.5, "treatment": 0.5},
  "conversion_event": "purchase", "window_hours": 72}]
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from accord.streaming.gold.errors import ExperimentConfigError


class ExperimentConfig(BaseModel):
    """One experiment: its variants with their configured weights and the metric it is judged on."""

    experiment_id: str = Field(min_length=1)
    control: str
    variants: dict[str, float]
    conversion_event: str = Field(
        default="purchase", description="an event type, or the name of a `conversion` event"
    )
    window_hours: float = Field(default=72.0, gt=0, description="conversion window after first exposure")

    @model_validator(mode="after")
    def _control_is_a_variant(self) -> ExperimentConfig:
        if len(self.variants) < 2:
            raise ValueError("an experiment needs at least two variants")
        if self.control not in self.variants:
            raise ValueError(f"control {self.control!r} is not one of the variants {sorted(self.variants)}")
        if any(weight <= 0 for weight in self.variants.values()):
            raise ValueError("variant weights must be positive")
        return self


_CONFIG_LIST = TypeAdapter(list[ExperimentConfig])


def default_experiments_file() -> Path:
    """The experiments file shipped for the demo."""
    return Path(str(resources.files("accord.streaming.gold") / "experiments.json"))


def load_experiments(path: Path | None = None) -> list[ExperimentConfig]:
    """Read and validate the experiments file (the shipped default when `path` is None).

    Raises:
        ExperimentConfigError: the file is missing, not JSON, or an entry is invalid.
    """
    path = path or default_experiments_file()
    try:
        text = path.read_text()
    except OSError as exc:
        raise ExperimentConfigError(f"cannot read experiments file {path}: {exc.strerror}") from exc
    try:
        experiments = _CONFIG_LIST.validate_json(text)
    except ValidationError as exc:
        raise ExperimentConfigError(f"invalid experiments file {path}:\n{exc}") from exc
    ids = [experiment.experiment_id for experiment in experiments]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ExperimentConfigError(f"experiment ids appear more than once in {path}: {duplicated}")
    return experiments
