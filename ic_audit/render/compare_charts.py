"""Inline SVG trend charts for the comparison report (`ic-audit compare --format html`).

Same rules as `render.charts`: no script, one ``<svg role="img">`` with a ``<title>`` and an
``aria-label`` that spell out every value, every number also written as text, every piece of
text through `markupsafe.escape`, coordinates at fixed decimals so output is byte-identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from ic_audit.render.charts import RATING_COLOURS, band_ranges

_INK = "#1f2328"
_MUTED = "#59636e"
_GRID = "#afb8c1"
# Line colours and dash patterns for the per-metric chart: told apart without colour too.
SERIES_STYLES: tuple[tuple[str, str, str], ...] = (
    ("#0550ae", "", "circle"),
    ("#8250df", "7 4", "square"),
    ("#1b7c83", "2 3", "diamond"),
    ("#953800", "10 3 2 3", "circle"),
)

WIDTH, HEIGHT = 860.0, 300.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 230.0, 16.0, 40.0
# Points sit inside the plot, clear of the band names at its left edge and of its right edge.
INSET_LEFT, INSET_RIGHT = 70.0, 30.0


def _f(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _x(i: int, n: int) -> float:
    start, end = LEFT + INSET_LEFT, WIDTH - RIGHT - INSET_RIGHT
    return start + ((end - start) * i / (n - 1) if n > 1 else (end - start) / 2)


def _y(score: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return TOP + plot * (1.0 - max(0.0, min(100.0, float(score))) / 100.0)


def _frame(dates: Sequence[str], bands: Mapping[str, float], label: str) -> list[str]:
    """The svg opening, the rating bands as faint stripes with their names, and the axes."""
    parts = [
        f'<svg class="chart trend" viewBox="0 0 {_f(WIDTH)} {_f(HEIGHT)}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    right = WIDTH - RIGHT
    for name, lo, hi in band_ranges(bands):
        if hi <= lo:
            continue
        y_top, y_bottom = _y(hi), _y(lo)
        parts.append(
            f'<rect x="{_f(LEFT)}" y="{_f(y_top)}" width="{_f(right - LEFT)}" '
            f'height="{_f(y_bottom - y_top)}" fill="{RATING_COLOURS[name][0]}" '
            'fill-opacity="0.1"/>'
            f'<text x="{_f(LEFT + 6)}" y="{_f(y_top + 13)}" font-size="10" '
            f'fill="{_MUTED}">{escape(name)}</text>'
        )
    for tick in (
        0.0,
        float(bands["moderate"]),
        float(bands["high"]),
        float(bands["critical"]),
        100.0,
    ):
        y = _y(tick)
        parts.append(
            f'<line x1="{_f(LEFT)}" y1="{_f(y)}" x2="{_f(right)}" y2="{_f(y)}" stroke="{_GRID}" '
            'stroke-width="1" stroke-dasharray="2 3"/>'
            f'<text x="{_f(LEFT - 6)}" y="{_f(y + 3)}" text-anchor="end" font-size="10" '
            f'fill="{_MUTED}">{escape(_f(tick))}</text>'
        )
    for i, date in enumerate(dates):
        x = _x(i, len(dates))
        parts.append(
            f'<text x="{_f(x)}" y="{_f(HEIGHT - BOTTOM + 18)}" text-anchor="middle" '
            f'font-size="11" fill="{_INK}">{escape(date)}</text>'
        )
    return parts


def _marker(shape: str, x: float, y: float, fill: str) -> str:
    if shape == "square":
        return f'<rect x="{_f(x - 4)}" y="{_f(y - 4)}" width="8" height="8" fill="{fill}"/>'
    if shape == "diamond":
        return (
            f'<path d="M{_f(x)} {_f(y - 5.5)} L{_f(x + 5.5)} {_f(y)} L{_f(x)} {_f(y + 5.5)} '
            f'L{_f(x - 5.5)} {_f(y)} Z" fill="{fill}"/>'
        )
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4.5" fill="{fill}"/>'


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{_f(x)} {_f(y)}" for i, (x, y) in enumerate(points))


def overall_trend(
    dates: Sequence[str],
    scores: Sequence[float],
    ratings: Sequence[str],
    bands: Mapping[str, float],
    held: Sequence[str | None] | None = None,
) -> Markup:
    """The overall score per audit over the four rating bands; each point coloured (and
    labelled) with the audit's overall rating, which red flags may put above its score's band:
    `held` says, per audit, what held it there ("held at high by 1 red flag") or None."""
    notes = list(held) if held is not None else [None] * len(scores)
    label = (
        "Overall risk score per audit: "
        + "; ".join(
            f"{d} {s:.1f}, {r}" + (f" ({n})" if n else "")
            for d, s, r, n in zip(dates, scores, ratings, notes, strict=True)
        )
        + "."
    )
    parts = _frame(dates, bands, label)
    points = [(_x(i, len(dates)), _y(s)) for i, s in enumerate(scores)]
    parts.append(f'<path d="{_path(points)}" fill="none" stroke="{_INK}" stroke-width="2.5"/>')
    for (x, y), score, rating, note in zip(points, scores, ratings, notes, strict=True):
        colour = RATING_COLOURS.get(rating, (_INK, "#ffffff"))[0]
        parts.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="6" fill="{colour}" stroke="#ffffff" '
            'stroke-width="2"/>'
            f'<text x="{_f(x)}" y="{_f(y - 12)}" text-anchor="middle" font-size="12" '
            f'font-weight="700" fill="{_INK}">{escape(f"{score:.1f}")}</text>'
            f'<text x="{_f(x)}" y="{_f(y + 20)}" text-anchor="middle" font-size="10" '
            f'fill="{_MUTED}">{escape(rating)}</text>'
        )
        if note:
            # The reason under the rating, so a point above its band is never unexplained.
            reason = note.split(" by ", 1)[-1]
            parts.append(
                f'<text x="{_f(x)}" y="{_f(y + 33)}" text-anchor="middle" font-size="10" '
                f'fill="{_MUTED}">{escape(f"held by {_truncate(reason, 24)}")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def metric_trends(
    dates: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    bands: Mapping[str, float],
) -> Markup:
    """One line per key metric (its score per audit), each with its own colour, dash pattern
    and marker, named at the right-hand end with its latest score."""
    label = (
        "Key metric scores per audit: "
        + "; ".join(
            f"{title}: "
            + ", ".join(
                f"{d} {'no score' if v is None else f'{v:.1f}'}"
                for d, v in zip(dates, vs, strict=True)
            )
            for title, vs in series
        )
        + "."
    )
    parts = _frame(dates, bands, label)
    ends: list[tuple[float, str, str]] = []
    for k, (title, values) in enumerate(series):
        colour, dash, shape = SERIES_STYLES[k % len(SERIES_STYLES)]
        points = [(_x(i, len(dates)), _y(v)) for i, v in enumerate(values) if v is not None]
        if not points:
            continue
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<g><title>{escape(title)}</title><path d="{_path(points)}" fill="none" '
            f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        parts.extend(_marker(shape, x, y, colour) for x, y in points)
        parts.append("</g>")
        last = [v for v in values if v is not None][-1]
        ends.append((points[-1][1], f"{_truncate(title, 30)} {last:.1f}", colour))
    # End labels in the right margin, pushed apart so lines that end close stay readable.
    ends.sort()
    placed: list[float] = []
    for y, text, colour in ends:
        y = max(y, placed[-1] + 14) if placed else y
        placed.append(y)
        parts.append(
            f'<text x="{_f(WIDTH - RIGHT + 8)}" y="{_f(y + 4)}" font-size="11" '
            f'fill="{colour}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"
