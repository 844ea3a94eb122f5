"""Inline SVG interval bars: a metric's lift and its interval against zero (no script needed)."""

from __future__ import annotations

from html import escape

VERDICT_COLOURS = {"better": "#1a7f37", "worse": "#c62828", "inconclusive": "#6b7280"}
"""The colour of a row's bar and verdict: significantly better, significantly worse, not yet clear."""

_WIDTH, _HEIGHT, _PAD = 220, 30, 10


def lift_bar(low: float, high: float, lift: float, verdict: str, scale: float) -> str:
    """A bar over [low, high] with a dot at `lift`, on an axis from -scale to +scale with zero marked.

    All rows of a table share `scale`, so their bars can be compared by eye.
    """
    colour = VERDICT_COLOURS.get(verdict, VERDICT_COLOURS["inconclusive"])
    plot = _WIDTH - 2 * _PAD

    def x(value: float) -> float:
        clipped = max(-scale, min(scale, value))
        return _PAD + plot * (clipped + scale) / (2 * scale)

    middle = _HEIGHT / 2
    label = f"lift {lift:+.1%}, interval {low:+.1%} to {high:+.1%}"
    return (
        f'<svg class="lift-bar" role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{_WIDTH}" height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}">'
        f'<line x1="{_PAD}" y1="{middle}" x2="{_WIDTH - _PAD}" y2="{middle}" '
        'stroke="#e3e5ea" stroke-width="1"/>'
        f'<line class="zero" x1="{x(0):.1f}" y1="3" x2="{x(0):.1f}" y2="{_HEIGHT - 3}" stroke="#1d2330" '
        'stroke-width="1.5"/>'
        f'<rect class="interval" x="{x(low):.1f}" y="{middle - 6:.1f}" '
        f'width="{max(x(high) - x(low), 2):.1f}" height="12" rx="3" fill="{colour}" opacity="0.35"/>'
        f'<circle class="lift" cx="{x(lift):.1f}" cy="{middle:.1f}" r="5" fill="{colour}"/>'
        "</svg>"
    )


def axis_scale(bounds: list[float]) -> float:
    """A round half-width covering every bound: 1%, 2%, 5%, 10%, 20%, 50%, 100%, ..."""
    widest = max([abs(b) for b in bounds] + [0.01])
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0):
        if widest <= step:
            return step
    return widest
