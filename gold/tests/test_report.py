"""The HTML report, rendered by headless Chromium: metric rows, verdict colours, banners and tabs.

The screenshot is kept as the test's output (`report.png` in the test's folder, its path
recorded as a property) so that it can be looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from accord.gold.browser import ensure_chromium, rendered_dom, screenshot
from accord.gold.chart import VERDICT_COLOURS
from accord.gold.experiments_config import ExperimentConfig, Metric
from accord.gold.metric_values import ALL_USERS, OVERALL, SliceSums
from accord.gold.report import LedgerSummary, render_report, write_report
from accord.gold.results import Completeness, analyse_experiment

pytestmark = pytest.mark.integration

CHECKOUT = ExperimentConfig(
    experiment_id="new_checkout",
    control="control",
    variants={"control": 0.5, "treatment": 0.5},
    dimensions=("platform",),
    metrics=(
        Metric(name="conversion_rate", kind="binomial", event="purchase", role="goal"),
        Metric(name="revenue_per_user", kind="sum", event="purchase", field="amount"),
        Metric(name="page_views_per_user", kind="count", event="page_view", role="guardrail"),
    ),
)


def _sums(
    metric: str, variant: str, dimension: str, value: str, users: int, total: float, squares: float
) -> SliceSums:
    return SliceSums(metric, variant, dimension, value, users, total, squares, 0, 0, 0, 0, 0, 0, 1)


def _slice(dimension: str, value: str, users: int) -> list[SliceSums]:
    # treatment converts more (significantly better) and views fewer pages (significantly worse)
    return [
        _sums("conversion_rate", "control", dimension, value, users, 0.10 * users, 0.10 * users),
        _sums("conversion_rate", "treatment", dimension, value, users, 0.13 * users, 0.13 * users),
        _sums("revenue_per_user", "control", dimension, value, users, 5.0 * users, 500.0 * users),
        _sums("revenue_per_user", "treatment", dimension, value, users, 5.1 * users, 520.0 * users),
        _sums("page_views_per_user", "control", dimension, value, users, 6.0 * users, 45.0 * users),
        _sums("page_views_per_user", "treatment", dimension, value, users, 5.4 * users, 38.0 * users),
    ]


def _rows(experiment: ExperimentConfig = CHECKOUT) -> list[dict[str, Any]]:
    sums = (
        _slice(OVERALL, ALL_USERS, 5_000)
        + _slice("platform", "WEB", 3_000)
        + _slice("platform", "IOS", 2_000)
    )
    completeness = Completeness(
        datetime(2026, 3, 9, 11, 50), datetime(2026, 3, 9, 12), 7, datetime(2026, 3, 9, 12, 5)
    )
    rows = analyse_experiment(experiment, sums, completeness, datetime(2026, 3, 2, 9))
    return [asdict(r) for r in rows]


LEDGER = LedgerSummary(
    rows=[("accepted by the gateway", 10_000), ("in Silver", 9_800)],
    reconciles=True,
    verdict="the ledger reconciles",
)


def _report(tmp_path: Path, rows: list[dict[str, Any]], ledger: LedgerSummary | None = LEDGER) -> Path:
    html = render_report(rows, ledger, {"new_checkout": {"treatment": "+30.0%"}})
    return write_report(html, tmp_path / "report.html")


class _Collector(HTMLParser):
    """The text of each table row, the labels of the tabs and the banners."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.labels: list[str] = []
        self.banners: list[str] = []
        self._where: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "tr" and "metric-row" in classes:
            self.rows.append([])
            self._where = "row"
        elif tag == "label":
            self._where = "label"
        elif tag == "div" and "banner" in classes:
            self._where = "banner"
            self.banners.append(" ".join(classes))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("tr", "label", "div"):
            self._where = None

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text:
            return
        if self._where == "row":
            self.rows[-1].append(text)
        elif self._where == "label":
            self.labels.append(text)
        elif self._where == "banner":
            self.banners[-1] += f": {text}"


def test_the_report_has_one_row_per_metric_with_its_verdict_and_a_tab_per_dimension_value(
    tmp_path: Path,
) -> None:
    ensure_chromium()
    collector = _Collector()
    collector.feed(rendered_dom(_report(tmp_path, _rows())))

    assert collector.labels == ["All users", "platform: IOS", "platform: WEB"]
    overall = collector.rows[:3]
    assert [row[0] for row in overall] == ["conversion_rate", "page_views_per_user", "revenue_per_user"]
    assert overall[0][1:3] == ["goal", "treatment"]
    assert "significantly better" in overall[0]
    assert "+30.0%" in overall[0]
    assert "significantly worse" in overall[1]
    assert "inconclusive" in overall[2]
    assert len(collector.rows) == 9
    assert any("ok: Sample ratio OK" in banner for banner in collector.banners)


def test_a_bayesian_report_shows_the_chance_to_win(tmp_path: Path) -> None:
    rows = _rows(CHECKOUT.model_copy(update={"engine": "bayesian"}))
    collector = _Collector()
    collector.feed(rendered_dom(_report(tmp_path, rows)))
    assert any(cell.endswith("chance to win") and cell.startswith("100.0%") for cell in collector.rows[0])


def test_a_sample_ratio_mismatch_is_an_alarm_banner(tmp_path: Path) -> None:
    skewed = [
        row | {"srm_mismatch": True, "srm_p_value": 1e-9} if row["dimension"] == OVERALL else row
        for row in _rows()
    ]
    collector = _Collector()
    collector.feed(rendered_dom(_report(tmp_path, skewed)))
    assert any(banner.startswith("banner alarm: Sample ratio mismatch") for banner in collector.banners)


def _colour_pixels(image: Image.Image, colour: str) -> list[tuple[int, int]]:
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    rgb = image.convert("RGB")
    width, height = rgb.size
    pixels = rgb.load()
    assert pixels is not None
    return [
        (x, y)
        for y in range(height)
        for x in range(width)
        if all(abs(a - b) <= 12 for a, b in zip(pixels[x, y], target, strict=True))  # type: ignore[arg-type]
    ]


def test_a_screenshot_shows_the_verdicts_in_their_colours(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    # without the ledger, whose verdict is green text too
    page = _report(tmp_path, _rows(), ledger=None)
    png = screenshot(page, tmp_path / "report.png", width=1400, height=900)
    record_property("screenshot", str(png))
    image = Image.open(png)
    assert image.size == (1400, 900)

    better, worse = (
        _colour_pixels(image, VERDICT_COLOURS["better"]),
        _colour_pixels(image, VERDICT_COLOURS["worse"]),
    )
    # the goal's dot and verdict text are green, the guardrail's red
    assert len(better) > 60
    assert len(worse) > 60
    # the worse lift's dot sits left of the better one's bar: the bars share one axis around zero
    assert min(x for x, _ in worse) < min(x for x, _ in better)
    assert sum(y for _, y in better) / len(better) < sum(y for _, y in worse) / len(worse)
