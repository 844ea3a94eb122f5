"""The component graph, enforced: who may import whom, and who declares what it imports.

Every component is a folder with `src/accord/<name>/` and a `pyproject.toml`. The checker reads
the source with `ast` (nothing is imported), maps each `import accord.<x>` to a component and
reports:

* a component folder missing from `COMPONENTS` (declare it, with its allowed imports, first);
* an edge the graph does not allow. The one exception: a component's pytest plugin module
  `accord.<comp>.testing` may import another component's `accord.<x>.testing`, to start the
  servers it needs; nothing else imports a server's internals;
* accord distributions imported but not declared, or declared but not imported: the
  `[project] dependencies` must list exactly the components imported outside the test
  support modules, and the `testing` extra exactly the further ones those import;
* third-party modules whose distribution is not declared by the component itself. A module
  installed only as the dependency of a declared distribution (`pydantic` through
  `pydantic-settings`, `confluent_kafka` through `accord-runtime`) does not count: the
  component would break the day that dependency changes its own. Import names map to
  distributions with `importlib.metadata.packages_distributions()`.

Test support modules are the pytest plugin `accord.<comp>.testing` and the Hypothesis
strategies `accord.<comp>.strategies`: they may also use what the `testing` extra declares.

The allowed graph is the one CONTRIBUTING.md shows; change both together.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Component:
    """One row of the component graph."""

    folder: str
    distribution: str
    may_import: frozenset[str]


def _component(folder: str, distribution: str, *may_import: str) -> Component:
    return Component(folder, distribution, frozenset(may_import))


# import name -> folder, distribution, the components it may import
COMPONENTS: Mapping[str, Component] = {
    "wire": _component("wire", "accord-wire"),
    "runtime": _component("runtime", "accord-runtime", "wire"),
    "registry_client": _component("registry-client", "accord-registry-client", "wire", "runtime"),
    "registry": _component("registry", "accord-registry", "wire", "runtime", "registry_client"),
    "schemas": _component("schemas", "accord-schemas", "wire", "runtime", "registry_client"),
    "sdk": _component("sdk", "accord-sdk", "wire"),
    "gateway": _component("gateway", "accord-gateway", "wire", "runtime", "registry_client"),
    "streaming": _component("streaming", "accord-streaming", "wire", "runtime", "registry_client", "schemas"),
    "gold": _component("gold", "accord-gold", "wire", "runtime", "schemas", "streaming"),
    "demo": _component(
        "demo", "accord-demo", "wire", "runtime", "registry_client", "schemas", "sdk", "streaming", "gold"
    ),
}
BY_DISTRIBUTION = {component.distribution: name for name, component in COMPONENTS.items()}


# reported by `test_pending_violations_are_reported` until their owners move the code
@dataclass(frozen=True)
class Import:
    """One absolute import in a component's source."""

    module: str
    file: str
    in_plugin: bool


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if found:
            names.add(_canonical(found.group(1)))
    return names


def imports_of(package: Path) -> Iterator[Import]:
    """Every absolute import under `package` (lazy ones in functions included)."""
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent.parent)
        parts = path.relative_to(package).parts
        in_plugin = parts[0] in ("testing.py", "testing", "strategies.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(alias.name, relative.as_posix(), in_plugin)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "accord":
                for alias in node.names:
                    yield Import(f"accord.{alias.name}", relative.as_posix(), in_plugin)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield Import(node.module, relative.as_posix(), in_plugin)


def _edge_problem(name: str, item: Import, target: str) -> str | None:
    if target == name:
        return None
    if target not in COMPONENTS:
        return f"{name}: {item.file} imports {item.module}, which is no declared component"
    if item.in_plugin and (item.module == f"accord.{target}.testing"):
        return None
    if target not in COMPONENTS[name].may_import:
        return f"{name}: {item.file} imports {item.module}, which {name} may not import"
    return None


def check(root: Path, modules: Mapping[str, list[str]] | None = None) -> list[str]:
    """Every violation of the component rules in the workspace at `root`, as sentences."""
    modules = packages_distributions() if modules is None else modules
    problems: list[str] = []
    for package in sorted(root.glob("*/src/accord/*")):
        if not package.is_dir() or package.name == "__pycache__":
            continue
        name, folder = package.name, package.parents[2]
        component = COMPONENTS.get(name)
        if component is None:
            problems.append(f"{folder.name}/: component accord.{name} is not in the component graph")
            continue
        project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        if folder.name != component.folder or project["name"] != component.distribution:
            problems.append(
                f"{name}: expected folder {component.folder}/ and distribution {component.distribution}, "
                f"found {folder.name}/ and {project['name']}"
            )
        declared = _requirement_names(project.get("dependencies", []))
        for_plugin = declared | _requirement_names(
            project.get("optional-dependencies", {}).get("testing", [])
        )
        used: dict[bool, set[str]] = {False: set(), True: set()}
        for item in imports_of(package):
            top = item.module.split(".")[0]
            if top == "accord":
                target = item.module.split(".")[1] if "." in item.module else ""
                problem = _edge_problem(name, item, target)
                if problem:
                    problems.append(problem)
                elif target != name:
                    used[item.in_plugin].add(COMPONENTS[target].distribution)
                continue
            if top in sys.stdlib_module_names:
                continue
            distributions = {_canonical(d) for d in modules.get(top, [])}
            allowed = for_plugin if item.in_plugin else declared
            if not distributions & allowed:
                owner = ", ".join(sorted(distributions)) or "no installed distribution"
                problems.append(
                    f"{name}: {item.file} imports {top}, which {component.distribution} does not declare"
                    + ("" if distributions == {_canonical(top)} else f" ({owner})")
                )
        accord_declared = {d for d in declared if d in BY_DISTRIBUTION}
        accord_testing = {d for d in for_plugin - declared if d in BY_DISTRIBUTION}
        if accord_declared != used[False]:
            problems.append(
                f"{name}: dependencies name accord distributions {sorted(accord_declared)}, "
                f"its modules import {sorted(used[False])}"
            )
        if accord_testing != used[True] - used[False]:
            problems.append(
                f"{name}: the testing extra names accord distributions {sorted(accord_testing)}, "
                f"its pytest plugin imports {sorted(used[True] - used[False])} besides the dependencies"
            )
    return sorted(set(problems))


def test_the_workspace_follows_the_component_graph() -> None:
    assert check(ROOT) == []


def write_component(
    root: Path, folder: str, name: str, distribution: str, deps: list[str], code: str
) -> None:
    package = root / folder / "src" / "accord" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core.py").write_text(code)
    dependencies = ", ".join(f'"{dep}"' for dep in deps)
    (root / folder / "pyproject.toml").write_text(
        f'[project]\nname = "{distribution}"\nversion = "0"\ndependencies = [{dependencies}]\n'
    )


def test_a_forbidden_import_is_reported(tmp_path: Path) -> None:
    write_component(tmp_path, "runtime", "runtime", "accord-runtime", [], "import json\n")
    write_component(tmp_path, "registry", "registry", "accord-registry", ["accord-runtime"], "")
    write_component(
        tmp_path,
        "sdk",
        "sdk",
        "accord-sdk",
        [],
        "def send() -> None:\n"
        "    from accord.runtime import errors\n"
        "    from accord.registry.app import create_app\n",
    )
    assert check(tmp_path, {}) == [
        "registry: dependencies name accord distributions ['accord-runtime'], its modules import []",
        "sdk: accord/sdk/core.py imports accord.registry.app, which sdk may not import",
        "sdk: accord/sdk/core.py imports accord.runtime, which sdk may not import",
    ]


def test_undeclared_and_unknown_are_reported(tmp_path: Path) -> None:
    write_component(tmp_path, "wire", "wire", "accord-wire", [], "import httpx\nfrom accord import sdk\n")
    write_component(tmp_path, "extra", "extra", "accord-extra", [], "")
    problems = check(tmp_path, {"httpx": ["httpx"]})
    assert problems == [
        "extra/: component accord.extra is not in the component graph",
        "wire: accord/wire/core.py imports accord.sdk, which wire may not import",
        "wire: accord/wire/core.py imports httpx, which accord-wire does not declare",
    ]


def test_the_pytest_plugin_may_start_other_components_servers(tmp_path: Path) -> None:
    write_component(tmp_path, "registry", "registry", "accord-registry", [], "")
    write_component(tmp_path, "gateway", "gateway", "accord-gateway", [], "")
    plugin = tmp_path / "gateway" / "src" / "accord" / "gateway" / "testing.py"
    plugin.write_text("from accord.registry.testing import RegistryHandle\n")
    problems = check(tmp_path, {})
    assert problems == [
        "gateway: the testing extra names accord distributions [], "
        "its pytest plugin imports ['accord-registry'] besides the dependencies"
    ]
    (tmp_path / "gateway" / "pyproject.toml").write_text(
        '[project]\nname = "accord-gateway"\nversion = "0"\ndependencies = []\n'
        '[project.optional-dependencies]\ntesting = ["accord-registry"]\n'
    )
    assert check(tmp_path, {}) == []
    plugin.write_text("from accord.registry.app import create_app\n")
    assert check(tmp_path, {}) == [
        "gateway: accord/gateway/testing.py imports accord.registry.app, which gateway may not import",
        "gateway: the testing extra names accord distributions ['accord-registry'], "
        "its pytest plugin imports [] besides the dependencies",
    ]
