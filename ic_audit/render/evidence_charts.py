"""Inline SVG time-series charts of operational evidence for the HTML report: goal-drift rate per
review window with its Wilson 95 % interval, and evaluation scores per suite over time.

The same rules as `ic_audit.render.charts`: one ``<svg role="img">`` with a title and an
aria-label that state every number, all text through `markupsafe.escape` (suite names are the
user's), fixed-decimal coordinates so output is deterministic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from ic_audit.render.charts import _f

_INK = "#1f2328"
_MUTED = "#59636e"
_GRID = "#d0d7de"
_LINE = "#0969da"
_SERIES = ("#0969da", "#8250df", "#bf3989", "#1a7f37", "#9a6700", "#cf222e")


def _frame(width: float, height: float, label: str, css: str) -> list[str]:
    return [
        f'<svg class="chart {css}" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]


def _nice_max(value: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if value <= step:
            return float(step)
    return float(value)


def drift_windows_chart(windows: Sequence[Mapping[str, Any]]) -> Markup:
    """One point per review window (rate per 1,000) with a bar for its 95 % interval."""
    rows = [w for w in windows if w.get("rate_per_1000") is not None]
    width, height, left, right, top, bottom = 640.0, 220.0, 48.0, 12.0, 12.0, 40.0
    label = "Goal-drift incidents per 1,000 reviewed actions by review window, with 95 % " + (
        "intervals: "
        + "; ".join(
            f"{w['start']} to {w['end']}: {w['rate_per_1000']:.2f} "
            f"({w['lower_95_per_1000']:.2f} to {w['upper_95_per_1000']:.2f})"
            for w in rows
        )
        + "."
        if rows
        else "none."
    )
    parts = _frame(width, height, label, "drift-series")
    top_value = _nice_max(max([float(w["upper_95_per_1000"]) for w in rows] or [1.0]))
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(v: float) -> float:
        return top + plot_h * (1.0 - v / top_value)

    for tick in (0.0, top_value / 2, top_value):
        parts.append(
            f'<line x1="{_f(left)}" y1="{_f(y(tick))}" x2="{_f(width - right)}" '
            f'y2="{_f(y(tick))}" stroke="{_GRID}" stroke-width="1"/>'
            f'<text x="{_f(left - 6)}" y="{_f(y(tick) + 4)}" font-size="10" text-anchor="end" '
            f'fill="{_MUTED}">{escape(_f(tick))}</text>'
        )
    step = plot_w / max(1, len(rows))
    for i, w in enumerate(rows):
        x = left + step * (i + 0.5)
        lo, hi, rate = (
            float(w["lower_95_per_1000"]),
            float(w["upper_95_per_1000"]),
            float(w["rate_per_1000"]),
        )
        start, end = str(w["start"]), str(w["end"])
        tip = f"{start} to {end}: {rate:.2f} per 1,000 ({lo:.2f} to {hi:.2f})"
        parts.append(
            f"<g><title>{escape(tip)}</title>"
            f'<line x1="{_f(x)}" y1="{_f(y(lo))}" x2="{_f(x)}" y2="{_f(y(hi))}" '
            f'stroke="{_MUTED}" stroke-width="2"/>'
            f'<line x1="{_f(x - 6)}" y1="{_f(y(hi))}" x2="{_f(x + 6)}" y2="{_f(y(hi))}" '
            f'stroke="{_MUTED}" stroke-width="2"/>'
            f'<line x1="{_f(x - 6)}" y1="{_f(y(lo))}" x2="{_f(x + 6)}" y2="{_f(y(lo))}" '
            f'stroke="{_MUTED}" stroke-width="2"/>'
            f'<circle cx="{_f(x)}" cy="{_f(y(rate))}" r="4.5" fill="{_LINE}"/>'
            f'<text x="{_f(x + 9)}" y="{_f(y(rate) + 4)}" font-size="11" fill="{_INK}">'
            f"{escape(f'{rate:.2f}')}</text>"
            f'<text x="{_f(x)}" y="{_f(height - bottom + 16)}" font-size="10" '
            f'text-anchor="middle" fill="{_MUTED}">{escape(start)}</text>'
            f'<text x="{_f(x)}" y="{_f(height - bottom + 29)}" font-size="10" '
            f'text-anchor="middle" fill="{_MUTED}">{escape("to " + end)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def evaluation_chart(series: Mapping[str, Sequence[Mapping[str, Any]]]) -> Markup:
    """Each suite's scores over time, one line per suite, on a shared date axis."""
    points = [
        (suite, dt.date.fromisoformat(p["date"]), float(p["score"]))
        for suite, runs in series.items()
        for p in runs
    ]
    width, height, left, right, top, bottom = 640.0, 240.0, 48.0, 12.0, 12.0, 58.0
    label = (
        "Evaluation scores per suite over time: "
        + "; ".join(
            f"{suite}: " + ", ".join(f"{p['date']} {float(p['score']):g}" for p in runs)
            for suite, runs in series.items()
        )
        + "."
    )
    parts = _frame(width, height, label, "evaluation-series")
    if not points:
        parts.append("</svg>")
        return Markup("".join(parts))
    first = min(d for _, d, _ in points)
    last = max(d for _, d, _ in points)
    span = max(1, (last - first).days)
    lo = min(s for _, _, s in points)
    hi = max(s for _, _, s in points)
    pad = max(0.01, (hi - lo) * 0.15)
    lo, hi = lo - pad, hi + pad
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(d: dt.date) -> float:
        return left + plot_w * (d - first).days / span

    def y(v: float) -> float:
        return top + plot_h * (1.0 - (v - lo) / (hi - lo))

    for tick in (lo, (lo + hi) / 2, hi):
        parts.append(
            f'<line x1="{_f(left)}" y1="{_f(y(tick))}" x2="{_f(width - right)}" '
            f'y2="{_f(y(tick))}" stroke="{_GRID}" stroke-width="1"/>'
            f'<text x="{_f(left - 6)}" y="{_f(y(tick) + 4)}" font-size="10" text-anchor="end" '
            f'fill="{_MUTED}">{escape(f"{tick:.2f}")}</text>'
        )
    for d in sorted({first, last}):
        parts.append(
            f'<text x="{_f(x(d))}" y="{_f(top + plot_h + 16)}" font-size="10" '
            f'text-anchor="{"start" if d == first else "end"}" fill="{_MUTED}">'
            f"{escape(d.isoformat())}</text>"
        )
    for i, (suite, runs) in enumerate(series.items()):
        colour = _SERIES[i % len(_SERIES)]
        coords = [(x(dt.date.fromisoformat(p["date"])), y(float(p["score"]))) for p in runs]
        path = " ".join(
            f"{'M' if j == 0 else 'L'}{_f(a)} {_f(b)}" for j, (a, b) in enumerate(coords)
        )
        parts.append(
            f"<g><title>{escape(suite)}</title>"
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            + "".join(
                f'<circle cx="{_f(a)}" cy="{_f(b)}" r="3.5" fill="{colour}"/>' for a, b in coords
            )
            + f'<rect x="{_f(left + 160 * (i % 3))}" y="{_f(top + plot_h + 28 + 14 * (i // 3))}" '
            f'width="10" height="10" fill="{colour}"/>'
            f'<text x="{_f(left + 160 * (i % 3) + 14)}" '
            f'y="{_f(top + plot_h + 37 + 14 * (i // 3))}" font-size="11" fill="{_INK}">'
            f"{escape(suite[:24])}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
