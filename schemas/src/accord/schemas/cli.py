"""`accord schemas ...`: lint, check, register and codegen for the `.avsc` contracts."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from accord.schemas.catalog import RULES_SUFFIX, SCHEMA_SUFFIX, Catalog, load_catalog
from accord.schemas.check import Status, Verdict
from accord.schemas.settings import SchemasSettings

_VERDICT_STYLE = {
    Status.NEW: "cyan",
    Status.COMPATIBLE: "green",
    Status.BREAKING: "bold red",
    Status.REMOVED: "yellow",
}


def _console() -> Console:
    # CI logs are not terminals; a wide console keeps each table row on one line there.
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _settings(schemas_dir: Path | None) -> SchemasSettings:
    settings = SchemasSettings()
    return settings.model_copy(update={"schemas_dir": schemas_dir}) if schemas_dir else settings


def _catalog(settings: SchemasSettings) -> Catalog:
    return load_catalog(settings.schemas_dir, settings.events_topic)


_dir_option = click.option(
    "--dir",
    "schemas_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="root of the .avsc files [default: the repository's schemas/avro, or ACCORD_SCHEMAS_DIR]",
)


@click.group()
def schemas() -> None:
    """The event contracts: lint, check compatibility, register, generate SDK classes."""


@schemas.command()
@_dir_option
def lint(schemas_dir: Path | None) -> None:
    """Check every .avsc against the contract rules; print `file:field: rule: message` per violation.

    When the contracts load, the Segment mapping and the `accord.lint` hooks (the experiments
    file's metrics) are checked against them too.
    """
    from accord.schemas.errors import SchemaFilesError
    from accord.schemas.lint import hook_findings, lint_catalog
    from accord.schemas.segment_mapping import lint_segment_mapping

    settings = _settings(schemas_dir)
    try:
        catalog = load_catalog(settings.schemas_dir, settings.events_topic)
    except SchemaFilesError as exc:
        findings = exc.findings
    else:
        findings = lint_catalog(catalog) + hook_findings(catalog)
        if settings.segment_mapping.is_file():
            findings += lint_segment_mapping(settings.segment_mapping, catalog)
    for finding in findings:
        click.echo(str(finding))
    if findings:
        files = len({finding.file for finding in findings})
        click.echo(f"{len(findings)} problem(s) in {files} file(s)", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"all schemas in {settings.schemas_dir} pass lint")


@schemas.command()
@_dir_option
@click.option("--against", "ref", metavar="REF", help="compare with the same files at this git ref")
@click.option("--registry", "registry_url", metavar="URL", help="compare with what this registry holds")
def check(schemas_dir: Path | None, ref: str | None, registry_url: str | None) -> None:
    """Judge every schema against its subject's compatibility level; exit 1 on a breaking change.

    With --against REF the levels come from schemas/compatibility.json (default BACKWARD);
    with --registry URL they are the registry's own, and a registered subject whose registry
    level differs from compatibility.json is reported as a `level-mismatch` (exit 1 too).
    """
    if (ref is None) == (registry_url is None):
        raise click.UsageError("give exactly one of --against REF or --registry URL")
    settings = _settings(schemas_dir)
    catalog = _catalog(settings)
    mismatches = []
    if ref is not None:
        verdicts = _check_against_ref(catalog, settings, ref)
    else:
        from accord.registry_client import RegistryClient
        from accord.schemas.check import check_against_registry, level_mismatches
        from accord.schemas.levels import load_levels

        levels = load_levels(settings.compatibility_file)
        verdicts = check_against_registry(catalog, RegistryClient(str(registry_url)))
        mismatches = level_mismatches(verdicts, levels, str(settings.compatibility_file))
    _print_verdicts(verdicts)
    for mismatch in mismatches:
        click.echo(str(mismatch))
    breaking = [verdict for verdict in verdicts if verdict.status is Status.BREAKING]
    if breaking:
        click.echo(f"{len(breaking)} subject(s) break their compatibility level", err=True)
    if mismatches:
        click.echo(f"{len(mismatches)} subject(s) have another level in the registry", err=True)
    if breaking or mismatches:
        raise click.exceptions.Exit(1)


def _check_against_ref(catalog: Catalog, settings: SchemasSettings, ref: str) -> list[Verdict]:
    from accord.schemas.catalog import load_texts
    from accord.schemas.check import check_against_catalog
    from accord.schemas.errors import GitRefError, SchemaFilesError
    from accord.schemas.gitref import schema_texts_at
    from accord.schemas.levels import load_levels

    levels = load_levels(settings.compatibility_file)
    texts = schema_texts_at(ref, settings.schemas_dir)
    try:
        old = load_texts(texts, catalog.topic, shown_as=lambda rel: f"{ref}:{rel}")
    except SchemaFilesError as exc:
        raise GitRefError(f"the schemas at {ref} do not load, so nothing can be compared:\n{exc}") from exc
    return check_against_catalog(catalog, old, levels.level, ref)


def _print_verdicts(verdicts: list[Verdict]) -> None:
    table = Table(title="schema compatibility")
    for column in ("subject", "against", "level", "verdict", "reason"):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        reasons = "\n".join([*(problem.message for problem in verdict.problems), *verdict.rule_changes])
        style = _VERDICT_STYLE[verdict.status]
        table.add_row(
            verdict.subject,
            verdict.against,
            verdict.level.value,
            f"[{style}]{verdict.status.value}[/]",
            reasons,
        )
    _console().print(table)
    for verdict in verdicts:
        for problem in verdict.problems:
            detail = problem.message.removeprefix(f"{problem.rule} at '{problem.path}': ")
            click.echo(f"{verdict.file}:{problem.path}: {problem.rule}: {detail}")
        rules_file = verdict.file.removesuffix(SCHEMA_SUFFIX) + RULES_SUFFIX
        for change in verdict.rule_changes:
            click.echo(f"{rules_file}:ruleSet: rule-change: {change}")


@schemas.command()
@_dir_option
@click.option(
    "--registry", "registry_url", metavar="URL", help="registry to register with [ACCORD_REGISTRY_URL]"
)
def register(schemas_dir: Path | None, registry_url: str | None) -> None:
    """Set each subject's level from compatibility.json, then register every schema, references first.

    A second run changes nothing. Every file is validated and checked against the registry (at
    the declared levels) first, so a bad file or a breaking change registers nothing at all.
    """
    from accord.registry_client import RegistryClient
    from accord.schemas.levels import load_levels
    from accord.schemas.register import register_catalog

    settings = _settings(schemas_dir)
    catalog = _catalog(settings)
    levels = load_levels(settings.compatibility_file)
    results = register_catalog(catalog, RegistryClient(registry_url or settings.registry_url), levels)
    table = Table(title="registered schemas")
    for column in ("subject", "version", "id", "status", "level"):
        table.add_column(column)
    for result in results:
        colour = "green" if result.created else "dim"
        level = (
            f"[green]{result.level.value} (set)[/]" if result.level_set else f"[dim]{result.level.value}[/]"
        )
        table.add_row(
            result.subject,
            str(result.version),
            str(result.schema_id),
            f"[{colour}]{result.status}[/]",
            level,
        )
    _console().print(table)


@schemas.command()
@_dir_option
@click.option(
    "--lang",
    "languages",
    type=click.Choice(["python", "ts"]),
    multiple=True,
    help="which SDK to generate (repeatable) [default: both]",
)
@click.option("--check", "check_only", is_flag=True, help="fail when the committed output is stale")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Python package directory to write [default: the SDK's accord/sdk/events]",
)
@click.option(
    "--ts-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TypeScript file to write [default: sdk-ts/src/events.ts, or ACCORD_SDK_TS_EVENTS_FILE]",
)
def codegen(
    schemas_dir: Path | None,
    languages: tuple[str, ...],
    check_only: bool,
    out: Path | None,
    ts_out: Path | None,
) -> None:
    """Generate the SDKs' typed events from the .avsc files: the Python classes (accord.sdk.events)
    and the TypeScript types and builders (sdk-ts/src/events.ts)."""
    from accord.schemas.codegen import stale_files, write
    from accord.schemas.codegen_ts import stale_ts, write_ts

    settings = _settings(schemas_dir)
    catalog = _catalog(settings)
    chosen = set(languages or ("python", "ts"))
    target = out or settings.sdk_events_dir
    ts_target = ts_out or settings.sdk_ts_events_file
    if check_only:
        stale = stale_files(catalog, target) if "python" in chosen else {}
        for name, why in stale.items():
            click.echo(f"{target / name}: stale: {why}")
        ts_stale = stale_ts(catalog, ts_target) if "ts" in chosen else None
        if ts_stale is not None:
            click.echo(f"{ts_target}: stale: {ts_stale}")
        if stale or ts_stale is not None:
            click.echo("run `accord schemas codegen` and commit the result", err=True)
            raise click.exceptions.Exit(1)
        checked = [str(path) for lang, path in (("python", target), ("ts", ts_target)) if lang in chosen]
        click.echo(f"{' and '.join(checked)} up to date with {len(catalog)} schemas")
        return
    written = write(catalog, target) if "python" in chosen else []
    if "ts" in chosen and write_ts(catalog, ts_target):
        written.append(ts_target)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"{len(written)} file(s) changed")
