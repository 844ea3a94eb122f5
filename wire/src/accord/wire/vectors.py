"""The shared test vectors of the wire contract: every component checks its code against them.

The vectors are data (`vectors.json`, shipped in the package), so that an implementation in
another language, or in Spark SQL, can be checked against the same cases.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def wire_vectors() -> dict[str, Any]:
    """The test vectors: framing, batch bodies, headers, subject and event-type names, rule verdicts."""
    loaded: dict[str, Any] = json.loads(files("accord.wire").joinpath("vectors.json").read_text("utf-8"))
    return loaded
