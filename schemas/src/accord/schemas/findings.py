"""A problem found in a schema file, printed as `file:place: rule: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in one `.avsc` file.

    `place` is the dotted field path inside the file's record (`campaign.source`), the record's
    name for problems of the record itself, or `line:column` for JSON syntax errors.
    """

    file: str
    place: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.place}: {self.rule}: {self.message}"
