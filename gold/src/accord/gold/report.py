"""The experiment report as one self-contained HTML page: tables, and an SVG chart per experiment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from accord.gold.chart import RatePoint, conversion_chart
from accord.gold.errors import InsufficientDataError
from accord.gold.results import CONVERSION_RATE, REVENUE_PER_USER
from accord.gold.stats import SufficientStats, mean_interval


@dataclass(frozen=True)
class LedgerSummary:
    """The ledger's totals as the report shows them."""

    rows: list[tuple[str, int | str]]
    reconciles: bool
    verdict: str


MISSING = "n/a"


def _pct(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2%}"


def _interval(value: float | None, low: float | None, high: float | None, fmt: str = "{:+.2%}") -> str:
    if value is None or low is None or high is None:
        return MISSING
    return f"{fmt.format(value)} [{fmt.format(low)}, {fmt.format(high)}]"


def _p(value: float | None) -> str:
    if value is None:
        return MISSING
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _variant_view(
    conversion: Mapping[str, Any], revenue: Mapping[str, Any], true_lift: str
) -> dict[str, Any]:
    stats = SufficientStats(conversion["users"], conversion["main_sum"], conversion["main_sum_squares"])
    try:
        low, high = mean_interval(stats)
    except InsufficientDataError:
        low = high = stats.mean if stats.n else 0.0
    return {
        "variant": conversion["variant"],
        "is_control": conversion["is_control"],
        "users": f"{conversion['users']:,}",
        "conversions": f"{int(conversion['main_sum']):,}",
        "rate": f"{_pct(conversion['mean'])} [{_pct(low)}, {_pct(high)}]",
        "absolute": _interval(
            conversion["absolute_lift"], conversion["absolute_ci_low"], conversion["absolute_ci_high"]
        ),
        "relative": _interval(
            conversion["relative_lift"], conversion["relative_ci_low"], conversion["relative_ci_high"]
        ),
        "p_value": _p(conversion["p_value"]),
        "revenue": f"{revenue['mean']:.2f}",
        "revenue_lift": _interval(
            revenue["absolute_lift"], revenue["absolute_ci_low"], revenue["absolute_ci_high"], "{:+.2f}"
        ),
        "revenue_p_value": _p(revenue["p_value"]),
        "true_lift": true_lift,
        "point": RatePoint(conversion["variant"], conversion["mean"], low, high, conversion["is_control"]),
    }


def _experiment_view(
    rows: Sequence[Mapping[str, Any]], conversion_event: str, true_lifts: Mapping[str, str]
) -> dict[str, Any]:
    by_key = {(r["variant"], r["metric"]): r for r in rows}
    variants = [r for r in rows if r["metric"] == CONVERSION_RATE]
    views = [
        _variant_view(r, by_key[r["variant"], REVENUE_PER_USER], true_lifts.get(r["variant"], MISSING))
        for r in sorted(variants, key=lambda r: (not r["is_control"], r["variant"]))
    ]
    first = rows[0]
    srm = first["srm_p_value"]
    experiment_id = first["experiment_id"]
    return {
        "experiment_id": experiment_id,
        "conversion_event": conversion_event,
        "window_hours": f"{first['window_hours']:g}",
        "late_events": first["late_events"],
        "srm_mismatch": first["srm_mismatch"],
        "srm_verdict": (
            "not enough users to check"
            if srm is None
            else f"{'MISMATCH' if first['srm_mismatch'] else 'ok'} (chi-square p = {_p(srm)} "
            "against the configured split; flagged below 0.001)"
        ),
        "multiple_warning": first["multiple_exposure_warning"],
        "multiple_text": (
            f"{first['multiple_exposure_users']:,} user(s) seen in more than one variant "
            f"({first['multiple_exposure_share']:.2%}) were excluded"
            + (
                "; at 1% or more this deserves a look at the assignment."
                if first["multiple_exposure_warning"]
                else "."
            )
        ),
        "has_truth": bool(true_lifts),
        "variants": views,
        "chart": conversion_chart([v["point"] for v in views], f"{experiment_id}: conversion rate, 95% CI"),
    }


def render_report(
    results: Sequence[Mapping[str, Any]],
    conversion_events: Mapping[str, str],
    ledger: LedgerSummary | None = None,
    true_lifts: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The report page for the rows of `gold/experiment_results`.

    `conversion_events` names each experiment's conversion event; `true_lifts` (from a
    simulation's truth file) adds a column per experiment and variant.
    """
    environment = Environment(
        loader=PackageLoader("accord.gold", ""), autoescape=select_autoescape(["j2", "html"])
    )
    template = environment.get_template("report.html.j2")
    experiment_ids = sorted({r["experiment_id"] for r in results})
    experiments = [
        _experiment_view(
            [r for r in results if r["experiment_id"] == experiment_id],
            conversion_events.get(experiment_id, "?"),
            (true_lifts or {}).get(experiment_id, {}),
        )
        for experiment_id in experiment_ids
    ]
    first = results[0] if results else {}
    return template.render(
        experiments=experiments,
        ledger=ledger,
        computed_at=_when(first.get("computed_at")),
        silver_version=first.get("silver_version", MISSING),
        complete_up_to=_when(first.get("complete_up_to")),
        max_event_time=_when(first.get("max_event_time")),
    )


def _when(moment: datetime | None) -> str:
    return MISSING if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def write_report(html: str, path: Path) -> Path:
    """Write the page (creating its folder) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
