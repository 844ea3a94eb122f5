"""The experiment results as a rich table for the terminal: every metric, all users."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from accord.gold.experiments_config import CONVERSION_RATE
from accord.gold.metric_values import OVERALL

_VERDICT_STYLE = {"better": "[green]better[/]", "worse": "[red]worse[/]", "inconclusive": "inconclusive"}


def _interval(row: Mapping[str, Any]) -> str:
    if row["relative_lift"] is None:
        return row["analysis_note"] or ""
    return f"{row['relative_lift']:+.1%} [{row['relative_ci_low']:+.1%}, {row['relative_ci_high']:+.1%}]"


def _value(row: Mapping[str, Any]) -> str:
    return f"{row['mean']:.2%}" if row["metric_kind"] == "binomial" else f"{row['mean']:,.2f}"


def _evidence(row: Mapping[str, Any]) -> str:
    if row["chance_to_win"] is not None:
        return f"P(win) {row['chance_to_win']:.1%}"
    return "" if row["adjusted_p_value"] is None else f"p {row['adjusted_p_value']:.4f}"


def _srm(row: Mapping[str, Any]) -> str:
    if row["srm_p_value"] is None:
        return "n/a"
    return (
        f"[red]{row['srm_p_value']:.2g} MISMATCH[/]" if row["srm_mismatch"] else f"{row['srm_p_value']:.2f}"
    )


def results_table(rows: Sequence[Mapping[str, Any]], true_lifts: Mapping[tuple[str, str], float]) -> Table:
    """Per experiment, metric and variant (all users): values, relative lift with its interval, verdict.

    `true_lifts` maps (experiment, variant) to the known relative lift in conversion rate (from a
    simulation's truth file); the last column says whether the interval holds it.
    """
    table = Table(title="experiment results (all users; lift relative to control)")
    columns = (
        "experiment", "metric", "role", "variant", "users", "value", "control", "rel. lift [interval]",
        "verdict", "evidence", "SRM p", "multiple", "true rel. lift", "truth in CI",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in columns[:4] else "right")
    overall = [r for r in rows if r["dimension"] == OVERALL]
    controls = {(r["experiment_id"], r["metric"]): r for r in overall if r["is_control"]}
    for row in sorted(
        overall, key=lambda r: (r["experiment_id"], r["role"] != "goal", r["metric"], r["variant"])
    ):
        if row["is_control"]:
            continue
        truth = (
            true_lifts.get((row["experiment_id"], row["variant"]))
            if row["metric"] == CONVERSION_RATE
            else None
        )
        covered = ""
        if truth is not None and row["relative_ci_low"] is not None:
            inside = row["relative_ci_low"] <= truth <= row["relative_ci_high"]
            covered = "[green]yes[/]" if inside else "[red]no[/]"
        table.add_row(
            row["experiment_id"],
            row["metric"],
            row["role"],
            row["variant"],
            f"{row['users']:,}",
            _value(row),
            _value(controls[row["experiment_id"], row["metric"]]),
            _interval(row),
            _VERDICT_STYLE.get(row["verdict"] or "", ""),
            _evidence(row),
            _srm(row),
            f"{row['multiple_exposure_users']:,}",
            "" if truth is None else f"{truth:+.1%}",
            covered,
        )
    return table
