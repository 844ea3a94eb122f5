"""The error-code enum and the documented table rendered from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from accord.wire.error_codes import ErrorCode, FailureType, error_code_table

pytestmark = pytest.mark.unit

CONTRIBUTING = Path(__file__).resolve().parents[2] / "CONTRIBUTING.md"
BEGIN, END = "<!-- error-codes:begin -->", "<!-- error-codes:end -->"


def test_the_documented_table_is_the_one_rendered_from_the_enum() -> None:
    text = CONTRIBUTING.read_text()
    documented = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip("\n") + "\n"
    assert documented == error_code_table(), "run `python -m accord.wire.error_codes` and paste its table"


def test_the_module_prints_the_table() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "accord.wire.error_codes"], capture_output=True, text=True, check=True
    )
    assert printed.stdout == error_code_table()


def test_every_code_is_answered_with_a_status_or_a_failure_type() -> None:
    failure_types = {str(f) for f in FailureType}
    for code in ErrorCode:
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", code.value)
        assert re.fullmatch(r"[45]\d\d", code.answered) or code.answered in failure_types, code
        assert code.description
        assert "\n" not in code.description
        assert "|" not in code.description


def test_codes_are_read_back_from_their_text() -> None:
    assert ErrorCode.parse("rate_limited") is ErrorCode.RATE_LIMITED
    assert ErrorCode.parse("unauthorized") is None
    assert str(ErrorCode.RATE_LIMITED) == "rate_limited"
