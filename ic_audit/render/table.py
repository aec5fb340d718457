"""Plain-text tables for the terminal and for logs: aligned columns, colour only on a TTY."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ic_audit.bank import Bank, Question
from ic_audit.errors import one_line
from ic_audit.result import AuditResult

if TYPE_CHECKING:
    from ic_audit.render.registry import RenderOptions

_COLOURS = {"low": "32", "moderate": "33", "high": "38;5;208", "critical": "1;31"}


def use_colour(stream: object = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def rating_text(rating: str, colour: bool) -> str:
    return f"\x1b[{_COLOURS[rating]}m{rating}\x1b[0m" if colour else rating


def _clean(text: str) -> str:
    # Terminal output must not let a user's text move the cursor or recolour the screen.
    return one_line(text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], colour: bool) -> str:
    """Columns sized to their longest visible cell; ANSI codes do not count toward width."""
    import re

    ansi = re.compile(r"\x1b\[[0-9;]*m")

    def width(s: str) -> int:
        return len(ansi.sub("", s))

    widths = [max([len(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(parts).rstrip()

    head = line(headers)
    if colour:
        head = f"\x1b[1m{head}\x1b[0m"
    out = [head, line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out) + "\n"


def render(results: Sequence[AuditResult], options: RenderOptions) -> str:
    return render_score_table(results, colour=options.colour, bank=options.bank)


def metric_columns(results: Sequence[AuditResult], bank: Bank | None) -> list[tuple[str, str]]:
    """(metric id, heading) for each key metric: the bank's, else the results' own ids."""
    if bank is not None:
        return [(m.id, m.heading) for m in bank.metrics]
    return [(key, key) for key in (results[0].metrics if results else {})]


def render_score_table(
    results: Sequence[AuditResult], colour: bool = False, bank: Bank | None = None
) -> str:
    columns = metric_columns(results, bank)
    headers = [
        "file",
        "system",
        "rating",
        "score",
        *(heading for _, heading in columns),
        "flags",
        "answered",
    ]
    rows = []
    for r in results:
        m = r.metrics
        rows.append(
            [
                _clean(r.answers_file),
                _clean(_shorten(str(r.system.get("name", "")), 40)),
                rating_text(r.overall.rating, colour),
                f"{r.overall.score:.1f}",
                *(f"{m[key].score:.1f}" if key in m else "-" for key, _ in columns),
                str(len(r.red_flags)),
                f"{r.counts.answered}/{r.counts.applicable}"
                + ("" if r.complete else " (incomplete)"),
            ]
        )
    return format_table(headers, rows, colour)


def render_questions_table(
    bank: Bank, colour: bool = False, questions: Sequence[Question] | None = None
) -> str:
    """The bank's questions (or those chosen) as a plain table; all of them, byte for byte as
    scripts have always read it."""
    chosen = bank.questions if questions is None else questions
    headers = ["id", "section", "type", "metric", "weight", "applies when", "question"]
    rows = [
        [
            _clean(q.id),
            _clean(q.section),
            q.type,
            q.metric or "-",
            f"{q.weight:g}",
            _clean(q.when.describe()) if q.when else "always",
            _clean(_shorten(q.text, 80)),
        ]
        for q in chosen
    ]
    title = (
        _clean(f"{bank.title} ({bank.id} {bank.version}): {_count(bank, chosen)}.") + " "
        "The rubric (risk per answer, red flags, advice): ic-audit questions --format json\n\n"
    )
    return title + format_table(headers, rows, colour)


def _shorten(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _count(bank: Bank, chosen: Sequence[Question]) -> str:
    total = len(bank.questions)
    return f"{total} questions" if len(chosen) == total else f"{len(chosen)} of {total} questions"
