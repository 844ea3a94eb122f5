"""The TypeScript SDK's own unit tests (node's test runner, a fake fetch), run from the Python suite."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .conftest import npm

pytestmark = pytest.mark.unit

GOLDEN_TS = Path(__file__).resolve().parents[2] / "schemas" / "tests" / "golden" / "toy.ts.golden"


def test_typescript_unit_tests_pass(sdk_ts: Path) -> None:
    done = npm("test")
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.MULTILINE)
    assert passed is not None, done.stdout
    assert int(passed.group(1)) > 0, "the TypeScript test runner found no test"
    assert re.search(r"^# fail 0$", done.stdout, re.MULTILINE), done.stdout


def test_build_makes_one_bundle_for_pages(sdk_ts: Path) -> None:
    bundle = (sdk_ts / "dist" / "accord.iife.js").read_text()
    assert "\nvar Accord = (() => {" in bundle, bundle[:80]
    assert not re.search(r"^(import|export) ", bundle, re.MULTILINE), "a page loads it without modules"


def test_every_generated_shape_compiles(sdk_ts: Path) -> None:
    """The toy golden file holds every shape codegen writes (maps and unions of records, enum
    defaults, timestamps); strict tsc must accept it beside the SDK's `values.ts`."""
    folder = sdk_ts / ".test-build" / "golden"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(GOLDEN_TS, folder / "events.ts")
    shutil.copy(sdk_ts / "src" / "values.ts", folder / "values.ts")
    config = {"extends": "../../tsconfig.json", "compilerOptions": {"noEmit": True, "rootDir": "."}}
    (folder / "tsconfig.json").write_text(json.dumps({**config, "include": ["."]}))
    npm("exec", "--", "tsc", "-p", str(folder / "tsconfig.json"))
