"""Inline SVG charts for the HTML report: pure functions from numbers to markup.

No script, no external font or image: each chart is one ``<svg role="img">`` with a ``<title>``
and an ``aria-label``, every number also written as text (colour is never the only signal), and
every piece of text passed through `markupsafe.escape` (section titles come from the bank, which
may be anyone's). Output is deterministic: coordinates are formatted to fixed decimals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

RATING_ORDER = ("low", "moderate", "high", "critical")
# Fill colour and the text colour readable on it.
RATING_COLOURS: dict[str, tuple[str, str]] = {
    "low": ("#1a7f37", "#ffffff"),
    "moderate": ("#d29922", "#1f2328"),
    "high": ("#e8590c", "#ffffff"),
    "critical": ("#c92a2a", "#ffffff"),
}
DEFAULT_BANDS: dict[str, float] = {"moderate": 25.0, "high": 50.0, "critical": 75.0}
_INK = "#1f2328"
_MUTED = "#59636e"
_TRACK = "#eaeef2"
_GRID = "#afb8c1"


def _f(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _score(x: float) -> str:
    """A score as the tables print it: one decimal."""
    return f"{float(x):.1f}"


def _num(x: float) -> str:
    """A threshold as people write it: 25, 37.5."""
    return _f(float(x))


def band_ranges(bands: Mapping[str, float]) -> list[tuple[str, float, float]]:
    """(rating, from, to) for the four rating bands on the 0-100 scale."""
    edges = [0.0, float(bands["moderate"]), float(bands["high"]), float(bands["critical"]), 100.0]
    return [(RATING_ORDER[i], edges[i], edges[i + 1]) for i in range(4)]


def band_label(rating: str, bands: Mapping[str, float]) -> str:
    for name, lo, hi in band_ranges(bands):
        if name == rating:
            if name == "low":
                return f"below {_num(hi)}"
            if name == "critical":
                return f"{_num(lo)} and above"
            return f"{_num(lo)} to below {_num(hi)}"
    raise ValueError(f"unknown rating {rating!r}")


def _clamp(score: float) -> float:
    if math.isnan(score):
        return 0.0
    return max(0.0, min(100.0, float(score)))


def _polar(cx: float, cy: float, radius: float, value: float) -> tuple[float, float]:
    """Point on the gauge's upper half-circle: value 0 at the left, 100 at the right."""
    theta = math.pi * (1.0 - value / 100.0)
    return cx + radius * math.cos(theta), cy - radius * math.sin(theta)


def _sector(cx: float, cy: float, outer: float, inner: float, a: float, b: float) -> str:
    x1, y1 = _polar(cx, cy, outer, a)
    x2, y2 = _polar(cx, cy, outer, b)
    x3, y3 = _polar(cx, cy, inner, b)
    x4, y4 = _polar(cx, cy, inner, a)
    return (
        f"M{_f(x1)} {_f(y1)} A{_f(outer)} {_f(outer)} 0 0 1 {_f(x2)} {_f(y2)} "
        f"L{_f(x3)} {_f(y3)} A{_f(inner)} {_f(inner)} 0 0 0 {_f(x4)} {_f(y4)} Z"
    )


def overall_gauge(
    score: float, rating: str, score_rating: str, bands: Mapping[str, float]
) -> Markup:
    """A half-circle gauge of the overall score over the four rating bands.

    The band the score falls in is drawn solid, the others faded; the overall rating (which red
    flags may have raised above the score's band) is written under the number.
    """
    cx, cy, outer, inner = 150.0, 150.0, 124.0, 86.0
    value = _clamp(score)
    label = (
        f"Overall risk score {_score(score)} out of 100, rated {rating}"
        + (f" (the score alone is {score_rating})" if rating != score_rating else "")
        + ". Bands: "
        + "; ".join(f"{name} {band_label(name, bands)}" for name in RATING_ORDER)
        + "."
    )
    parts = [
        f'<svg class="chart gauge" viewBox="0 0 300 178" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    for name, lo, hi in band_ranges(bands):
        if hi <= lo:
            continue
        fill = RATING_COLOURS[name][0]
        opacity = "1" if name == score_rating else "0.28"
        parts.append(
            f'<path d="{_sector(cx, cy, outer, inner, lo, hi)}" fill="{fill}" '
            f'fill-opacity="{opacity}" stroke="#ffffff" stroke-width="1.5"/>'
        )
    for _name, lo, _hi in band_ranges(bands)[1:]:
        x, y = _polar(cx, cy, outer + 11, lo)
        anchor = "end" if lo < 45 else "start" if lo > 55 else "middle"
        parts.append(
            f'<text x="{_f(x)}" y="{_f(y + 3)}" text-anchor="{anchor}" font-size="10" '
            f'fill="{_MUTED}">{escape(_num(lo))}</text>'
        )
    for text, v in (("0", 0.0), ("100", 100.0)):
        x, _y = _polar(cx, cy, (outer + inner) / 2, v)
        parts.append(
            f'<text x="{_f(x)}" y="{_f(cy + 15)}" text-anchor="middle" font-size="10" '
            f'fill="{_MUTED}">{text}</text>'
        )
    x1, y1 = _polar(cx, cy, inner - 8, value)
    x2, y2 = _polar(cx, cy, outer + 4, value)
    parts.append(
        f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{_INK}" '
        f'stroke-width="4" stroke-linecap="round"/>'
    )
    colour = RATING_COLOURS[rating][0] if rating in RATING_COLOURS else _INK
    parts.append(
        f'<text x="{_f(cx)}" y="{_f(cy - 22)}" text-anchor="middle" font-size="38" '
        f'font-weight="700" fill="{_INK}">{escape(_score(score))}</text>'
        f'<text x="{_f(cx)}" y="{_f(cy - 4)}" text-anchor="middle" font-size="12" '
        f'fill="{_MUTED}">out of 100</text>'
        f'<text x="{_f(cx)}" y="{_f(cy + 20)}" text-anchor="middle" font-size="14" '
        f'font-weight="700" letter-spacing="1" fill="{colour}">{escape(rating.upper())}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def score_bars(
    rows: Sequence[tuple[str, float, str]],
    bands: Mapping[str, float],
    title: str,
    label_chars: int = 70,
) -> Markup:
    """Horizontal bars on a 0-100 scale, one per (label, score, rating), coloured by rating.

    Each row has its label above the bar and "score / 100 · rating" at the right, so the chart
    reads without colour; faint lines mark the band thresholds.
    """
    width, left, row_h, top = 640.0, 0.0, 44.0, 4.0
    plot = width - left
    height = top + row_h * len(rows) + 22
    summary = (
        f"{title}: "
        + "; ".join(
            f"{label} {_score(score)} out of 100, {rating}" for label, score, rating in rows
        )
        + "."
    )
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
        f'aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
    ]
    thresholds = [float(bands["moderate"]), float(bands["high"]), float(bands["critical"])]
    for i, (label, score, rating) in enumerate(rows):
        y0 = top + i * row_h
        fill = RATING_COLOURS.get(rating, (_INK, "#ffffff"))[0]
        bar_w = plot * _clamp(score) / 100.0
        value_text = f"{_score(score)} / 100 \u00b7 {rating}"
        parts.append(
            f"<g><title>{escape(f'{label}: {_score(score)} out of 100, {rating}')}</title>"
            f'<text x="{_f(left)}" y="{_f(y0 + 13)}" font-size="13" fill="{_INK}">'
            f"{escape(_truncate(label, label_chars))}</text>"
            f'<text x="{_f(width)}" y="{_f(y0 + 13)}" font-size="13" font-weight="700" '
            f'text-anchor="end" fill="{_INK}">{escape(value_text)}</text>'
            f'<rect x="{_f(left)}" y="{_f(y0 + 19)}" width="{_f(plot)}" height="14" rx="3" '
            f'fill="{_TRACK}"/>'
            f'<rect x="{_f(left)}" y="{_f(y0 + 19)}" width="{_f(bar_w)}" height="14" rx="3" '
            f'fill="{fill}"/>'
        )
        for t in thresholds:
            x = left + plot * t / 100.0
            parts.append(
                f'<line x1="{_f(x)}" y1="{_f(y0 + 17)}" x2="{_f(x)}" y2="{_f(y0 + 35)}" '
                f'stroke="{_GRID}" stroke-width="1" stroke-dasharray="2 2"/>'
            )
        parts.append("</g>")
    axis_y = top + row_h * len(rows) + 12
    for t in [0.0, *thresholds, 100.0]:
        x = left + plot * t / 100.0
        anchor = "start" if t <= 0 else "end" if t >= 100 else "middle"
        parts.append(
            f'<text x="{_f(x)}" y="{_f(axis_y)}" font-size="10" text-anchor="{anchor}" '
            f'fill="{_MUTED}">{escape(_num(t))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
