"""Rich terminal output for people: the summary of one audit (`demo`, `score` on a terminal), the
table of several, and the question bank (`questions` on a terminal). Every view fits the
console's width and wraps only at spaces; piped output is `ic_audit.render.table`'s."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ic_audit.errors import one_line
from ic_audit.render.evidence_view import ref_label
from ic_audit.result import AuditResult, held_note

if TYPE_CHECKING:
    from rich.console import Console

    from ic_audit.bank import Bank, Question

RATING_STYLE = {
    "low": "bold green",
    "moderate": "bold yellow",
    "high": "bold dark_orange",
    "critical": "bold red",
}


def rating_line(result: AuditResult, label: str) -> str:
    """The rating in rich markup, with the escalation when red flags raised it."""
    o = result.overall
    line = f"{label}: [{RATING_STYLE[o.rating]}]{o.rating.upper()}[/]  score {o.score:.1f}/100"
    if o.escalated_by:
        line += (
            f"  [dim](score alone: {o.score_rating}; "
            f"{held_note(o.rating, o.score_rating, o.escalated_by)})[/]"
        )
    return line


def escape(text: str) -> str:
    """File text made inert: it can neither open rich markup nor drive the terminal (escape
    sequences, line breaks that fake a line of our own)."""
    from rich.markup import escape as markup_escape

    return markup_escape(one_line(text))


def _console(console: Console | None) -> Console:
    from rich.console import Console

    return console if console is not None else Console(highlight=False)


def _items(console: Console, rows: Sequence[tuple[str, str]], indent: int = 2) -> None:
    """A list whose continuation lines hang under the text, not under the marker."""
    from rich.padding import Padding
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="ellipsis")
    for marker, text in rows:
        grid.add_row(marker, text)
    console.print(Padding(grid, (0, 0, 0, indent)))


def print_summary(
    result: AuditResult, source: Path | None = None, console: Console | None = None
) -> None:
    from rich.table import Table

    console = _console(console)
    name = escape(str(result.system.get("name", "")))
    console.print(f"[bold]Instrumental convergence risk: {name}[/]")
    meta = [f"bank {escape(result.bank.id)} {escape(result.bank.version)}"]
    if result.audit_date:
        meta.append(f"audit date {result.audit_date}")
    if source is not None:
        meta.append(f"answers {escape(str(source))}")
    console.print("[dim]" + " · ".join(meta) + "[/]\n")
    console.print(rating_line(result, "Overall rating"))
    if result.exposure is not None:
        e = result.exposure
        console.print(f"Exposure: [bold]{escape(e.title)}[/] (exposure score {e.score:.1f}/100)")
        if result.roles is not None:
            console.print(
                "[dim]"
                + " · ".join(
                    f"{role} {r.score:.1f} ({r.rating})" for role, r in result.roles.items()
                )
                + "[/]"
            )
    c = result.counts
    console.print(
        f"[dim]{c.answered} of {c.applicable} applicable questions answered"
        + ("" if result.complete else f"; {c.unanswered} required unanswered")
        + "[/]\n"
    )

    metrics = Table(title="Key metrics", title_justify="left", show_edge=False)
    metrics.add_column("metric")
    metrics.add_column("score", justify="right")
    metrics.add_column("rating")
    for m in result.metrics.values():
        metrics.add_row(
            escape(m.title), f"{m.score:.1f}", f"[{RATING_STYLE[m.rating]}]{m.rating}[/]"
        )
    console.print(metrics)

    if result.red_flags:
        console.print(f"\n[bold red]Red flags ({len(result.red_flags)})[/]")
        _items(
            console,
            [
                ("[red]•[/]", f"{escape(flag.question_id)}: {escape(flag.reason)}")
                for flag in result.red_flags
            ],
        )
    if result.findings:
        console.print("\n[bold]What to do first[/]")
        _items(
            console,
            [
                (
                    f"{i}.",
                    f"[{RATING_STYLE[f.severity]}]{f.severity}[/] {escape(f.title)} "
                    f"[dim]({escape(ref_label(f.question_id))})[/]\n{escape(f.recommendation)}",
                )
                for i, f in enumerate(result.findings[:3], 1)
            ],
        )


def print_score_table(
    results: Sequence[AuditResult], bank: Bank | None = None, console: Console | None = None
) -> None:
    """Several audits, one row each, then every red flag under the file it came from."""
    from rich import box
    from rich.table import Table

    from ic_audit.render.table import metric_columns

    console = _console(console)
    columns = metric_columns(results, bank)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    # Paths are the one cell that may break anywhere (they hold no spaces to break at); the
    # rest wrap at spaces, and a word longer than its column is cut with "…", never split.
    table.add_column("file", overflow="fold", min_width=12)
    table.add_column("system", overflow="ellipsis", min_width=10, max_width=30)
    table.add_column("rating", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    # Metric columns only on a wide window: below that, the file and system columns need the
    # room more (each file's metrics are in its own `ic-audit score FILE` summary).
    shown = columns if console.width >= 120 else []
    for _, heading in shown:
        table.add_column(escape(heading), justify="right", no_wrap=True, overflow="ellipsis")
    table.add_column("flags", justify="right", no_wrap=True)
    table.add_column("answered", overflow="ellipsis")
    for r in results:
        m = r.metrics
        table.add_row(
            escape(r.answers_file),
            escape(str(r.system.get("name", ""))),
            f"[{RATING_STYLE[r.overall.rating]}]{r.overall.rating}[/]",
            f"{r.overall.score:.1f}",
            *(f"{m[key].score:.1f}" if key in m else "-" for key, _ in shown),
            str(len(r.red_flags)),
            f"{r.counts.answered}/{r.counts.applicable}"
            + ("" if r.complete else " [yellow]incomplete[/]"),
        )
    console.print(table)
    flagged = [r for r in results if r.red_flags]
    if flagged:
        total = sum(len(r.red_flags) for r in flagged)
        console.print(f"\n[bold red]Red flags ({total})[/]")
        for r in flagged:
            console.print(f"[bold]{escape(r.answers_file)}[/]", overflow="fold")
            _items(
                console,
                [
                    ("[red]•[/]", f"{escape(flag.question_id)}: {escape(flag.reason)}")
                    for flag in r.red_flags
                ],
            )


def print_questions(
    bank: Bank, questions: Sequence[Question], console: Console | None = None
) -> None:
    """The bank as a table that fits the terminal; the question text wraps at spaces."""
    from rich import box
    from rich.table import Table

    console = _console(console)
    console.print(
        f"[bold]{escape(bank.title)}[/] [dim]({escape(bank.id)} {escape(bank.version)}): "
        f"{len(questions)} of {len(bank.questions)} questions[/]"
    )
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("id", no_wrap=True)
    wide = console.width >= 90
    if wide:
        table.add_column("section", overflow="ellipsis", max_width=16)
        table.add_column("type", no_wrap=True)
        table.add_column("role", overflow="ellipsis")
        table.add_column("metric", overflow="ellipsis", max_width=16)
    table.add_column("weight", justify="right", no_wrap=True)
    table.add_column("question", overflow="ellipsis", min_width=20)
    for q in questions:
        detail = [escape(q.section), q.type, q.role_or_default, escape(q.metric or "-")]
        table.add_row(escape(q.id), *(detail if wide else []), f"{q.weight:g}", escape(q.text))
    console.print(table)
    console.print(
        "[dim]One question with its rubric: ic-audit questions --id ID; all of it as JSON: "
        "ic-audit questions --format json[/]"
    )


def print_question(bank: Bank, q: Question, console: Console | None = None) -> None:
    """One question in full: its text, help, condition, rubric, finding, advice, references."""
    from rich import box
    from rich.table import Table

    from ic_audit.catalogue import question_json

    console = _console(console)
    data = question_json(q)
    console.print(f"[bold]{escape(q.id)}[/]  {escape(q.text)}")
    facts = [
        f"section {escape(q.section)}",
        f"type {q.type}",
        f"role {q.role_or_default}",
        f"metric {escape(q.metric or '-')}",
        f"weight {q.weight:g}",
        "required" if q.is_required else "optional",
    ]
    console.print("[dim]" + " · ".join(facts) + "[/]")
    if q.when:
        console.print(f"[dim]Asked when {escape(q.when.describe())}[/]")
    if q.help:
        console.print(f"\n{escape(q.help)}")
    rows: list[dict[str, Any]] = data.get("options") or data.get("bands") or []
    if rows:
        rubric = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
        rubric.title = "Rubric"
        rubric.add_column("answer", overflow="ellipsis", ratio=2)
        rubric.add_column("risk", justify="right", no_wrap=True)
        rubric.add_column("red flag", overflow="ellipsis", ratio=2)
        for row in rows:
            if "value" in row:
                answer = f"{escape(str(row['value']))}: {escape(str(row.get('label') or ''))}"
            else:
                lower = "" if row.get("min") is None else f"{row['min']:g}"
                upper = "" if row.get("max") is None else f"{row['max']:g}"
                answer = f"{lower} to {upper}: {escape(str(row.get('label') or ''))}"
            flag = escape(str(row.get("red_flag_reason") or "")) if row.get("red_flag") else ""
            rubric.add_row(answer, f"{row['risk']:g}", f"[red]{flag}[/]" if flag else "-")
        console.print()
        console.print(rubric)
    if data.get("finding"):
        console.print(f"\n[bold]Finding[/] {escape(data['finding'])}")
    advice = list(
        dict.fromkeys(
            text
            for text in (data.get("recommendation"), *(row.get("recommendation") for row in rows))
            if text
        )
    )
    if advice:
        console.print("\n[bold]Recommendations[/]")
        _items(console, [("•", escape(text)) for text in advice])
    if q.references:
        console.print("\n[bold]References[/]")
        _items(console, [("•", escape(ref)) for ref in q.references])
