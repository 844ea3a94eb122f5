"""An inline SVG chart of conversion rate per variant with its confidence interval (no script needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CONTROL_COLOUR = "#3b6fb6"
VARIANT_COLOUR = "#e07b24"

_WIDTH, _LEFT, _RIGHT, _TOP, _ROW = 860, 150, 190, 30, 44


@dataclass(frozen=True)
class RatePoint:
    """One variant's conversion rate and its interval, as fractions."""

    variant: str
    rate: float
    low: float
    high: float
    is_control: bool


def _nice_step(top: float) -> float:
    """The smallest round tick step that spans `top` in at most six ticks."""
    for step in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25):
        if top / step <= 6:
            return step
    return 0.25


def conversion_chart(points: Sequence[RatePoint], title: str) -> str:
    """SVG markup: one row per variant, a dot at the rate and a bar over its 95% interval."""
    top = max([p.high for p in points] + [0.01])
    step = _nice_step(top)
    axis_max = step * (int(top / step) + 1)
    plot = _WIDTH - _LEFT - _RIGHT
    height = _TOP + _ROW * len(points) + 40

    def x(value: float) -> float:
        return _LEFT + plot * max(value, 0.0) / axis_max

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}">',
        f'<text x="{_LEFT}" y="16" font-weight="600">{escape(title)}</text>',
    ]
    axis_y = _TOP + _ROW * len(points)
    tick = 0.0
    while tick <= axis_max + 1e-12:
        parts.append(f'<line class="grid" x1="{x(tick):.1f}" y1="{_TOP}" x2="{x(tick):.1f}" y2="{axis_y}"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{axis_y + 18}" text-anchor="middle">{tick:.1%}</text>')
        tick += step
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{axis_y}" x2="{_LEFT + plot}" y2="{axis_y}"/>')
    for i, point in enumerate(points):
        y = _TOP + _ROW * i + _ROW / 2
        colour = CONTROL_COLOUR if point.is_control else VARIANT_COLOUR
        parts += [
            f'<text x="{_LEFT - 10}" y="{y + 4:.1f}" text-anchor="end">{escape(point.variant)}</text>',
            f'<rect class="interval" x="{x(point.low):.1f}" y="{y - 5:.1f}" '
            f'width="{max(x(point.high) - x(point.low), 2):.1f}" height="10" '
            f'fill="{colour}" opacity="0.35"/>',
            f'<circle class="rate" cx="{x(point.rate):.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>',
            f'<text x="{x(point.high) + 8:.1f}" y="{y + 4:.1f}">{point.rate:.2%} '
            f"[{point.low:.2%}, {point.high:.2%}]</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts)
