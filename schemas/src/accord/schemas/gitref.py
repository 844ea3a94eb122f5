"""Read the schema files as they are at a git ref, for `check --against <ref>`."""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

from accord.schemas.catalog import CONTRACT_SUFFIXES
from accord.schemas.errors import GitRefError


def _git(args: list[str], cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GitRefError(f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def schema_texts_at(ref: str, root: Path) -> dict[str, str]:
    """The `.avsc` and `.rules.json` texts below `root` at `ref`, by path relative to `root`.

    Empty when none existed there.
    """
    root = root.resolve()
    toplevel = Path(_git(["rev-parse", "--show-toplevel"], root).strip())
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], toplevel)
    prefix = PurePosixPath(root.relative_to(toplevel).as_posix())
    listing = _git(["ls-tree", "-r", "--name-only", ref, "--", str(prefix)], toplevel)
    texts: dict[str, str] = {}
    for line in sorted(listing.splitlines()):
        if line.endswith(CONTRACT_SUFFIXES):
            texts[PurePosixPath(line).relative_to(prefix).as_posix()] = _git(
                ["show", f"{ref}:{line}"], toplevel
            )
    return texts
