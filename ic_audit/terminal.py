"""Rich terminal output for people: the demo summary (and later the walkthrough's screens)."""

from __future__ import annotations

from pathlib import Path

from ic_audit.errors import one_line
from ic_audit.result import AuditResult

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
        line += f"  [dim](score alone: {o.score_rating}; raised by {o.escalated_by})[/]"
    return line


def print_summary(result: AuditResult, source: Path | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape as markup_escape
    from rich.table import Table

    def escape(text: str) -> str:
        # File text can neither open rich markup nor drive the terminal (escape sequences,
        # line breaks that fake a line of our own).
        return markup_escape(one_line(text))

    console = Console(highlight=False)
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
        console.print(
            f"Exposure: [bold]{escape(e.title)}[/] ({escape(e.level)}, score {e.score:.1f}/100)"
        )
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
        for flag in result.red_flags:
            console.print(f"  [red]•[/] {escape(flag.question_id)}: {escape(flag.reason)}")
    if result.findings:
        console.print("\n[bold]What to do first[/]")
        for i, f in enumerate(result.findings[:3], 1):
            console.print(
                f"  {i}. [{RATING_STYLE[f.severity]}]{f.severity}[/] {escape(f.title)} "
                f"[dim]({escape(f.question_id)})[/]\n     {escape(f.recommendation)}"
            )
