"""Settings of the schema tooling, read from `ACCORD_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.addresses import registry_url
from accord.wire.naming import EVENTS_TOPIC

_PACKAGE_DIR = Path(__file__).resolve().parent
# A wheel carries the contracts inside the package; an editable install reads them from the checkout.
_SOURCE_ROOT = _PACKAGE_DIR if (_PACKAGE_DIR / "avro").is_dir() else _PACKAGE_DIR.parents[2]


class SchemasSettings(BaseSettings):
    """Where the contracts live and where their tooling writes or talks to.

    The defaults point at the contracts shipped with the package (the checkout's `schemas/`
    folder for an editable install), so the commands work from any directory.
    """

    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    schemas_dir: Path = Field(
        default=_SOURCE_ROOT / "avro", description="root of the .avsc files, one folder per namespace part"
    )
    compatibility_file: Path = Field(
        default=_SOURCE_ROOT / "compatibility.json",
        description="per-subject compatibility levels: set by `register`, used by `check`",
    )
    segment_mapping: Path = Field(
        default=_SOURCE_ROOT / "segment.json",
        description="the Segment mapping the gateway reads; `lint` checks it against the contracts",
    )
    sdk_events_dir: Path = Field(
        default=_SOURCE_ROOT.parent / "sdk" / "src" / "accord" / "sdk" / "events",
        description="where `codegen` writes the generated event classes",
    )
    sdk_ts_events_file: Path = Field(
        default=_SOURCE_ROOT.parent / "sdk-ts" / "src" / "events.ts",
        description="where `codegen --lang ts` writes the TypeScript SDK's event types",
    )
    registry_url: str = Field(default_factory=registry_url)
    events_topic: str = EVENTS_TOPIC
