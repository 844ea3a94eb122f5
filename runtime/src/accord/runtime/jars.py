"""Java, Maven and the jars the JVM services run on, resolved from Maven Central once and cached."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from accord.runtime.errors import JarResolutionError, MissingToolError

log = logging.getLogger(__name__)

_JAVA_HINT = "Install a Java 17+ runtime, e.g. `apt-get install openjdk-17-jre-headless`."
_MAVEN_HINT = "Install Apache Maven, e.g. `apt-get install maven`."


def require_tool(name: str, hint: str) -> str:
    """Return the absolute path of `name` on PATH, or raise `MissingToolError` with `hint`."""
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(name, hint)
    return path


def java_executable() -> str:
    """The `java` launcher, which every JVM service needs."""
    return require_tool("java", _JAVA_HINT)


def resolve_jars(
    pom: Path,
    dest: Path,
    *,
    profiles: Sequence[str] = (),
    exclude_group_ids: Sequence[str] = (),
    exclude_artifact_ids: Sequence[str] = (),
) -> list[Path]:
    """Copy the runtime dependencies of `pom` into `dest` with Maven and return the jar paths.

    The copy is skipped when `dest` already holds the result of the same pom and options (a stamp
    file records their hash), so a warm start needs no network and no Maven at all.
    """
    args = [
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={dest.resolve()}",
    ]
    if profiles:
        args.append("-P" + ",".join(profiles))
    if exclude_group_ids:
        args.append("-DexcludeGroupIds=" + ",".join(exclude_group_ids))
    if exclude_artifact_ids:
        args.append("-DexcludeArtifactIds=" + ",".join(exclude_artifact_ids))
    digest = hashlib.sha256(pom.read_bytes() + "\0".join(args[:1] + args[2:]).encode()).hexdigest()
    stamp = dest / ".resolved"
    if stamp.exists() and stamp.read_text() == digest:
        return sorted(dest.glob("*.jar"))
    mvn = require_tool("mvn", _MAVEN_HINT)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    log.info("resolving jars with maven", extra={"pom": str(pom), "dest": str(dest)})
    _run_maven(mvn, pom, args, f"resolve {pom.name}")
    stamp.write_text(digest)
    return sorted(dest.glob("*.jar"))


def build_jar(project: Path, dest: Path) -> Path:
    """Build the Maven project in `project` (a pom and its sources) and return its jar in `dest`.

    The build runs on a copy under `dest`, so the sources' folder stays untouched; it is skipped
    when `dest` holds the jar of the same sources (a stamp file records their hash).
    """
    sources = sorted(path for path in project.rglob("*") if path.is_file())
    digest = hashlib.sha256()
    for path in sources:
        digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    stamp = dest / ".built"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return next(dest.glob("*.jar"))
    mvn = require_tool("mvn", _MAVEN_HINT)
    if dest.exists():
        shutil.rmtree(dest)
    build = dest / "build"
    shutil.copytree(project, build)
    log.info("building a jar with maven", extra={"project": str(project), "dest": str(dest)})
    _run_maven(mvn, build / "pom.xml", ["package"], f"build {project.name}")
    (jar,) = (build / "target").glob("*.jar")
    built = dest / jar.name
    shutil.move(jar, built)
    shutil.rmtree(build)
    stamp.write_text(digest.hexdigest())
    return built


def _run_maven(mvn: str, pom: Path, args: Sequence[str], what: str) -> None:
    """Run Maven quietly on `pom`; a failure raises `JarResolutionError` with its first errors."""
    done = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        errors = [line for line in done.stdout.splitlines() if "ERROR" in line][:5]
        raise JarResolutionError(f"maven could not {what}:\n" + "\n".join(errors))
