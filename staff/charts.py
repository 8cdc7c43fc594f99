"""Small SVG charts drawn on the server: the admin's CSP allows no inline script, and needs none.

Every text that reaches the markup (titles, labels, series names) is escaped here; each bar and
point carries a <title> (the browser's tooltip) and data-* attributes saying what it shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

__all__ = ["PALETTE", "bars_svg", "lines_svg", "nice_ceiling"]

PALETTE = ["#417690", "#e0a030", "#70a050", "#c05050", "#8060b0", "#50a0a0", "#909090"]
WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 44, 36
MAX_X_LABELS = 10


def _number(value: float) -> str:
    """1234 → '1,234'; 0.5 → '0.5': what a tooltip or an axis shows."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value`, so axis ticks are round."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _scale(highest: float, *, whole: bool) -> tuple[float, int]:
    """The top of the axis and its number of steps: round steps, never a fraction of a count."""
    top = nice_ceiling(highest)
    if whole and top < 5:
        top = math.ceil(top)
        return top, top
    mantissa = top / 10 ** math.floor(math.log10(top))
    return top, 4 if mantissa == 2 else 5


@dataclass(frozen=True)
class _Frame:
    """The plot area and the scale shared by the bars, lines and axes of one chart."""

    count: int
    top: float
    ticks: int = 4

    @property
    def plot_width(self) -> float:
        return WIDTH - LEFT - RIGHT

    @property
    def plot_height(self) -> float:
        return HEIGHT - TOP - BOTTOM

    @property
    def slot(self) -> float:
        return self.plot_width / max(self.count, 1)

    def x(self, index: int) -> float:
        return LEFT + self.slot * index

    def y(self, value: float) -> float:
        return TOP + self.plot_height - self.height(value)

    def height(self, value: float) -> float:
        return self.plot_height * max(value, 0) / self.top


def _f(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _open(title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" font-family="sans-serif" '
        f'font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text class="chart-title" x="{LEFT}" y="16" font-size="13" font-weight="bold">'
        f"{escape(title)}</text>",
    ]


def _axes(frame: _Frame, labels: Sequence[str], fmt: Callable[[float], str]) -> list[str]:
    parts = []
    base = TOP + frame.plot_height
    for tick in range(frame.ticks + 1):
        value = frame.top * tick / frame.ticks
        y = _f(frame.y(value))
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" '
            f'stroke="#ddd" stroke-width="1"/>'
            f'<text class="y-label" x="{LEFT - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(fmt(value))}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" '
        f'stroke="#666" stroke-width="1"/>'
    )
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    for index, label in enumerate(labels):
        if index % every == 0 or index == len(labels) - 1:
            x = _f(frame.x(index) + frame.slot / 2)
            parts.append(
                f'<text class="x-label" x="{x}" y="{base + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return parts


def _legend(names: Sequence[str], extra: str = "") -> list[str]:
    parts = []
    x = LEFT
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect class="legend" x="{x}" y="24" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="33">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    if extra:
        parts.append(
            f'<line x1="{x}" x2="{x + 14}" y1="29" y2="29" stroke="#c00" stroke-width="2" '
            f'stroke-dasharray="4 2"/><text x="{x + 18}" y="33">{escape(extra)}</text>'
        )
    return parts


def bars_svg(
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    limit: float | None = None,
    limit_label: str = "limit",
    fmt: Callable[[float], str] = _number,
) -> SafeString:
    """One bar per label, its series stacked bottom-up; `limit` draws a dashed line across."""
    names = list(series)
    totals = [sum(series[name][i] for name in names) for i in range(len(labels))]
    whole = all(float(v).is_integer() for name in names for v in series[name])
    top, ticks = _scale(max([*totals, limit or 0, 0]), whole=whole)
    frame = _Frame(count=len(labels), top=top, ticks=ticks)
    parts = _open(title) + _legend(names if len(names) > 1 else [], limit_label if limit else "")
    parts += _axes(frame, labels, fmt)
    width = frame.slot * 0.7
    for index, label in enumerate(labels):
        stacked = 0.0
        for number, name in enumerate(names):
            value = series[name][index]  # drawn even when 0: one rect per day and series
            x = frame.x(index) + (frame.slot - width) / 2
            y = frame.y(stacked + value)
            stacked += value
            tip = f"{label} · {name}: {fmt(value)}" if len(names) > 1 else f"{label}: {fmt(value)}"
            parts.append(
                f'<rect class="bar" data-label="{escape(label)}" data-series="{escape(name)}" '
                f'data-value="{escape(str(value))}" x="{_f(x)}" y="{_f(y)}" width="{_f(width)}" '
                f'height="{_f(frame.height(value))}" fill="{PALETTE[number % len(PALETTE)]}">'
                f"<title>{escape(tip)}</title></rect>"
            )
    if limit:
        limit_y = _f(frame.y(limit))
        parts.append(
            f'<line class="limit" data-value="{escape(str(limit))}" x1="{LEFT}" '
            f'x2="{WIDTH - RIGHT}" y1="{limit_y}" y2="{limit_y}" stroke="#c00" stroke-width="2" '
            f'stroke-dasharray="6 3"><title>{escape(f"{limit_label}: {fmt(limit)}")}</title>'
            f"</line>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def lines_svg(
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    fmt: Callable[[float], str] = _number,
) -> SafeString:
    """One line per series, a point per label."""
    names = list(series)
    values = [value for name in names for value in series[name]]
    top, ticks = _scale(max([*values, 0]), whole=all(float(v).is_integer() for v in values))
    frame = _Frame(count=len(labels), top=top, ticks=ticks)
    parts = _open(title) + _legend(names) + _axes(frame, labels, fmt)
    for number, name in enumerate(names):
        colour = PALETTE[number % len(PALETTE)]
        points = [
            (frame.x(i) + frame.slot / 2, frame.y(value)) for i, value in enumerate(series[name])
        ]
        path = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        parts.append(
            f'<polyline class="line" data-series="{escape(name)}" points="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        for (x, y), label, value in zip(points, labels, series[name], strict=True):
            parts.append(
                f'<circle class="point" data-label="{escape(label)}" '
                f'data-series="{escape(name)}" data-value="{escape(str(value))}" cx="{_f(x)}" '
                f'cy="{_f(y)}" r="3" fill="{colour}">'
                f"<title>{escape(f'{label} · {name}: {fmt(value)}')}</title></circle>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()
