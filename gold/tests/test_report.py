"""The HTML report, rendered by headless Chromium: its table and its chart are on the screen."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from accord.gold.browser import ensure_chromium, rendered_dom, screenshot
from accord.gold.chart import CONTROL_COLOUR, VARIANT_COLOUR
from accord.gold.experiments_config import ExperimentConfig
from accord.gold.report import LedgerSummary, render_report, write_report
from accord.gold.results import Completeness, VariantSums, analyse_experiment

pytestmark = pytest.mark.integration

CHECKOUT = ExperimentConfig(
    experiment_id="new_checkout", control="control", variants={"control": 0.5, "treatment": 0.5}
)


class _Collector(HTMLParser):
    """Counts the elements the page is made of, and the text of the results table's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.circles: list[dict[str, str | None]] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "circle":
            self.circles.append(dict(attrs))
        if tag == "td":
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell and data.strip():
            self.cells.append(data.strip())


def _report(tmp_path: Path) -> Path:
    sums = [
        VariantSums("new_checkout", "control", 5_000, 500.0, 25_000.0, 2_500_000.0, 3),
        VariantSums("new_checkout", "treatment", 5_000, 650.0, 33_000.0, 3_400_000.0, 4),
        VariantSums("new_checkout", "__multiple__", 20, 2.0, 100.0, 5_000.0, 0),
    ]
    completeness = Completeness(
        datetime(2026, 3, 2, 11, 50), datetime(2026, 3, 2, 12), 7, datetime(2026, 3, 2, 12, 5)
    )
    rows = [asdict(r) for r in analyse_experiment(CHECKOUT, sums, completeness)]
    ledger = LedgerSummary(
        rows=[("accepted by the gateway", 10_000), ("in Silver", 9_800)],
        reconciles=True,
        verdict="the ledger reconciles",
    )
    html = render_report(
        rows, {"new_checkout": "purchase"}, ledger, {"new_checkout": {"treatment": "+3.00%"}}
    )
    return write_report(html, tmp_path / "report.html")


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


def test_the_report_has_its_table_and_chart_in_the_browser_dom(tmp_path: Path) -> None:
    ensure_chromium()
    page = _report(tmp_path)
    collector = _Collector()
    collector.feed(rendered_dom(page))

    assert collector.tags["svg"] == 1
    assert len(collector.circles) == 2
    assert {"control", "(baseline)", "treatment", "+3.00%", "accepted by the gateway", "10000"} <= set(
        collector.cells
    )
    assert "10.00% [9.17%, 10.83%]" in collector.cells
    assert "13.00% [12.07%, 13.93%]" in collector.cells


def test_a_screenshot_shows_the_table_and_both_variants_on_the_chart(tmp_path: Path) -> None:
    page = _report(tmp_path)
    image = Image.open(screenshot(page, tmp_path / "report.png", width=1280, height=1000))
    assert image.size == (1280, 1000)

    control, treatment = _colour_pixels(image, CONTROL_COLOUR), _colour_pixels(image, VARIANT_COLOUR)
    # each rate dot is a 6-pixel-radius disc (about 110 pixels)
    assert len(control) > 60
    assert len(treatment) > 60
    # the treatment converts more, so its dot sits to the right of the control's
    assert sum(x for x, _ in treatment) / len(treatment) > sum(x for x, _ in control) / len(control)
    # the table above the chart is drawn: dark text pixels in the top half of the page
    grey = image.convert("L").crop((0, 0, 1280, 500))
    assert sum(grey.histogram()[:80]) > 2_000
