"""The experiment results as a rich table for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from accord.gold.results import CONVERSION_RATE, REVENUE_PER_USER


def _interval(row: Mapping[str, Any], fmt: str, kind: str = "absolute") -> str:
    if row[f"{kind}_lift"] is None:
        return row["analysis_note"] or ""
    low, high = row[f"{kind}_ci_low"], row[f"{kind}_ci_high"]
    return f"{fmt.format(row[f'{kind}_lift'])} [{fmt.format(low)}, {fmt.format(high)}]"


def _srm(p_value: float | None, mismatch: bool) -> str:
    if p_value is None:
        return "n/a"
    return f"[red]{p_value:.2g} MISMATCH[/]" if mismatch else f"{p_value:.2f}"


def results_table(rows: Sequence[Mapping[str, Any]], true_lifts: Mapping[tuple[str, str], float]) -> Table:
    """Experiment results per variant: rates, lifts with their CI, p-value, revenue, SRM, the truth.

    `true_lifts` maps (experiment, variant) to the known relative lift in conversion rate (from a
    simulation's truth file); the last column says whether the relative interval holds it.
    """
    table = Table(title="experiment results (95% confidence intervals)")
    columns = (
        "experiment", "variant", "users", "conv. rate", "abs. lift [95% CI]", "rel. lift [95% CI]",
        "p-value", "rev/user", "rev. lift [95% CI]", "SRM p", "multiple", "true rel. lift", "truth in CI",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("experiment", "variant") else "right")
    by_key = {(r["experiment_id"], r["variant"], r["metric"]): r for r in rows}
    for row in sorted(rows, key=lambda r: (r["experiment_id"], not r["is_control"], r["variant"])):
        if row["metric"] != CONVERSION_RATE:
            continue
        revenue = by_key[row["experiment_id"], row["variant"], REVENUE_PER_USER]
        truth = true_lifts.get((row["experiment_id"], row["variant"]))
        covered = ""
        if truth is not None and row["relative_ci_low"] is not None:
            inside = row["relative_ci_low"] <= truth <= row["relative_ci_high"]
            covered = "[green]yes[/]" if inside else "[red]no[/]"
        table.add_row(
            row["experiment_id"],
            row["variant"] + (" (control)" if row["is_control"] and row["variant"] != "control" else ""),
            f"{row['users']:,}",
            f"{row['mean']:.2%}",
            _interval(row, "{:+.2%}"),
            _interval(row, "{:+.1%}", "relative"),
            "" if row["p_value"] is None else f"{row['p_value']:.4f}",
            f"{revenue['mean']:.2f}",
            _interval(revenue, "{:+.2f}"),
            _srm(row["srm_p_value"], row["srm_mismatch"]),
            f"{row['multiple_exposure_users']:,}",
            "" if truth is None else f"{truth:+.1%}",
            covered,
        )
    return table
