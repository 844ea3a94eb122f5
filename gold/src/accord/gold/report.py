"""The experiment report as one self-contained HTML page, written for the person who decides.

Per experiment: its dates and days running, the health banners (sample ratio, users in several
variants), then one tab per slice (every user, then each value of each dimension) holding one
row per metric and variant: goal, secondary and guardrail metrics, control and variant values,
the relative lift with its interval drawn against zero, the verdict in colour, the p-value or
the chance to win, and the users behind it. Tabs are radio buttons and CSS: no script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from accord.gold.chart import VERDICT_COLOURS, axis_scale, lift_bar
from accord.gold.experiments_config import CONVERSION_RATE
from accord.gold.metric_values import OVERALL


@dataclass(frozen=True)
class LedgerSummary:
    """The ledger's totals as the report shows them."""

    rows: list[tuple[str, int | str]]
    reconciles: bool
    verdict: str


MISSING = "n/a"
ROLE_ORDER = {"goal": 0, "guardrail": 1, "secondary": 2}
VERDICT_TEXT = {
    "better": "significantly better",
    "worse": "significantly worse",
    "inconclusive": "inconclusive",
}


def _value(row: Mapping[str, Any]) -> str:
    if row["metric_kind"] == "binomial":
        return f"{row['mean']:.2%}"
    return f"{row['mean']:,.2f}"


def _p(value: float | None) -> str:
    if value is None:
        return MISSING
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _evidence(row: Mapping[str, Any]) -> str:
    if row["chance_to_win"] is not None:
        return f"{row['chance_to_win']:.1%} chance to win"
    if row["p_value"] is None:
        return MISSING
    adjusted = row["adjusted_p_value"]
    text = _p_text(row["p_value"])
    if adjusted is not None and adjusted != row["p_value"]:
        text += f" (adjusted: {_p_text(adjusted)})"
    return text


def _p_text(value: float) -> str:
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.4f}"


def _metric_rows(rows: Sequence[Mapping[str, Any]], true_lifts: Mapping[str, str]) -> list[dict[str, Any]]:
    """One view per (metric, non-control variant) of one slice, goals first."""
    controls = {r["metric"]: r for r in rows if r["is_control"]}
    compared = [r for r in rows if not r["is_control"]]
    scale = axis_scale(
        [b for r in compared for b in (r["relative_ci_low"], r["relative_ci_high"]) if b is not None]
    )
    views = []
    for row in sorted(compared, key=lambda r: (ROLE_ORDER.get(r["role"], 3), r["metric"], r["variant"])):
        control = controls[row["metric"]]
        verdict = row["verdict"] or "inconclusive"
        has_lift = row["relative_lift"] is not None
        views.append(
            {
                "metric": row["metric"],
                "role": row["role"],
                "direction": "" if row["higher_is_better"] else "lower is better",
                "variant": row["variant"],
                "control_value": _value(control),
                "variant_value": _value(row),
                "lift": f"{row['relative_lift']:+.1%}" if has_lift else MISSING,
                "interval": (
                    f"[{row['relative_ci_low']:+.1%}, {row['relative_ci_high']:+.1%}]" if has_lift else ""
                ),
                "bar": (
                    lift_bar(
                        row["relative_ci_low"], row["relative_ci_high"], row["relative_lift"], verdict, scale
                    )
                    if has_lift
                    else ""
                ),
                "verdict": VERDICT_TEXT[verdict] if has_lift else (row["analysis_note"] or MISSING),
                "verdict_class": verdict if has_lift else "inconclusive",
                "evidence": _evidence(row),
                "users": f"{control['users']:,} / {row['users']:,}",
                "true_lift": true_lifts.get(row["variant"], "") if row["metric"] == CONVERSION_RATE else "",
            }
        )
    return views


def _slices(rows: Sequence[Mapping[str, Any]], true_lifts: Mapping[str, str]) -> list[dict[str, Any]]:
    keys = sorted({(r["dimension"], r["dimension_value"]) for r in rows}, key=lambda k: (k[0] != OVERALL, k))
    slices = []
    for dimension, value in keys:
        in_slice = [r for r in rows if (r["dimension"], r["dimension_value"]) == (dimension, value)]
        slices.append(
            {
                "label": "All users" if dimension == OVERALL else f"{dimension}: {value}",
                "overall": dimension == OVERALL,
                "srm_mismatch": in_slice[0]["srm_mismatch"],
                "metrics": _metric_rows(in_slice, true_lifts if dimension == OVERALL else {}),
            }
        )
    return slices


def _experiment_view(rows: Sequence[Mapping[str, Any]], true_lifts: Mapping[str, str]) -> dict[str, Any]:
    overall = [r for r in rows if r["dimension"] == OVERALL]
    first = overall[0]
    started = first["started_at"]
    srm = first["srm_p_value"]
    last = first["max_event_time"]
    running = _running(started, last)
    engine = (
        first["engine"]
        + (", sequential" if first["sequential"] else "")
        + (", CUPED" if first["cuped"] else "")
    )
    users = {r["variant"]: r["users"] for r in overall if r["metric"] == first["metric"]}
    return {
        "experiment_id": first["experiment_id"],
        "dates": f"{_day(started)} to {_day(last)}" + (f" ({running} running)" if running else ""),
        "engine": engine,
        "users": ", ".join(f"{variant} {n:,}" for variant, n in users.items()),
        "srm_mismatch": first["srm_mismatch"],
        "srm_text": (
            "Sample ratio: not enough users to check yet."
            if srm is None
            else (
                f"Sample ratio mismatch: the split of users (p = {_p(srm)}) does not match the configured "
                "weights. Results are not trustworthy until the assignment is fixed."
                if first["srm_mismatch"]
                else f"Sample ratio OK: users are split as configured (p = {_p(srm)})."
            )
        ),
        "multiple_warning": first["multiple_exposure_warning"],
        "multiple_text": (
            f"{first['multiple_exposure_users']:,} user(s) ({first['multiple_exposure_share']:.2%}) saw more "
            "than one variant and are excluded"
            + (": at 1% or more, check the assignment." if first["multiple_exposure_warning"] else ".")
        ),
        "late_events": sum(r["late_events"] for r in overall if r["metric"] == first["metric"]),
        "has_truth": bool(true_lifts),
        "slices": _slices(rows, true_lifts),
    }


def render_report(
    results: Sequence[Mapping[str, Any]],
    ledger: LedgerSummary | None = None,
    true_lifts: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The report page for the rows of `gold/experiment_results`.

    `true_lifts` (from a simulation's truth file) adds the known lift of each experiment's
    conversion rate.
    """
    environment = Environment(
        loader=PackageLoader("accord.gold", ""), autoescape=select_autoescape(["j2", "html"])
    )
    template = environment.get_template("report.html.j2")
    experiment_ids = sorted({r["experiment_id"] for r in results})
    experiments = [
        _experiment_view(
            [r for r in results if r["experiment_id"] == experiment_id],
            (true_lifts or {}).get(experiment_id, {}),
        )
        for experiment_id in experiment_ids
    ]
    first = results[0] if results else {}
    return template.render(
        experiments=experiments,
        ledger=ledger,
        colours=VERDICT_COLOURS,
        computed_at=_when(first.get("computed_at")),
        silver_version=first.get("silver_version", MISSING),
        complete_up_to=_when(first.get("complete_up_to")),
    )


def _when(moment: datetime | None) -> str:
    return MISSING if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _running(started: datetime | None, last: datetime | None) -> str:
    if started is None or last is None:
        return ""
    hours = (last - started).total_seconds() / 3_600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def _day(moment: datetime | None) -> str:
    return MISSING if moment is None else f"{moment:%Y-%m-%d}"


def write_report(html: str, path: Path) -> Path:
    """Write the page (creating its folder) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
