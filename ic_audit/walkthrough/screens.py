"""What the walkthrough shows: every screen and message, the only module that knows rich.

Input is one line at a time from a ``read`` function (``input`` by default), so tests pass a
scripted one. The engine hands over data (a `QuestionView`, a message and its kind); markup and
escaping of text that came from a file or the bank happen here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ic_audit.bank import Bank, Question, Section
from ic_audit.errors import one_line
from ic_audit.terminal import RATING_STYLE, rating_line

if TYPE_CHECKING:
    from rich.console import Console

    from ic_audit.result import AuditResult


def _safe(text: str, keep_newlines: bool = False) -> str:
    """User or bank text made harmless for the terminal: no escape sequences, no rich markup."""
    from rich.markup import escape

    lines = str(text).split("\n") if keep_newlines else [str(text)]
    return escape("\n".join(one_line(line) for line in lines))


def _flag(reason: str | None) -> str:
    return f"  [bold red]RED FLAG:[/] [red]{_safe(reason)}[/]" if reason else ""


@dataclass
class QuestionView:
    """Everything one question screen shows."""

    question: Question
    section: Section
    number: int  # k in "question k of n"
    total: int
    answered: int
    current: Any
    note: str | None
    evidence: list[str]
    condition: str | None  # why a follow-up is asked


class Prompter:
    """Terminal I/O: rich for output, one `input()` line at a time for input."""

    def __init__(
        self,
        console: Console | None = None,
        read: Callable[[str], str] | None = None,
    ) -> None:
        if console is None:
            from rich.console import Console

            console = Console(highlight=False)
        self.console = console
        self._read = read or input
        self.metric_titles: dict[str, str] = {}  # the bank's, from `welcome`

    # -- basic

    def ask(self, prompt: str) -> str:
        """One line of input; EOFError / OSError / KeyboardInterrupt propagate to the engine."""
        # Prompts echo text from the answers file (current values, notes); `input()` prints
        # them as they are, so they are cleaned here, once for every prompt.
        prompt = one_line(prompt)
        while True:
            try:
                return self._read(prompt)
            except UnicodeDecodeError:
                self.error("that was not readable as UTF-8 text; type it again")

    def say(self, markup: str = "") -> None:
        self.console.print(markup, highlight=False)

    def info(self, text: str) -> None:
        self.console.print(f"[dim]{_safe(text)}[/]", highlight=False)

    def ok(self, text: str) -> None:
        self.console.print(f"[green]{_safe(text)}[/]", highlight=False)

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]! {_safe(text)}[/]", highlight=False)

    def metadata_intro(self) -> None:
        self.say("\n[bold]About this audit[/]")
        self.info("Enter accepts the value in [brackets]; b goes back; q saves and quits.")

    def error(self, text: str) -> None:
        self.console.print(f"[bold red]✗[/] [red]{_safe(text)}[/]", highlight=False)

    # -- screens

    def welcome(self, bank: Bank, display: str, new: bool) -> None:
        self.metric_titles = {m.id: m.title for m in bank.metrics}
        self.console.rule(f"[bold]ic-audit[/] · {_safe(bank.title)}")
        if new:
            self.say(
                f"New audit: answers will be saved to [bold]{_safe(display)}[/] after every answer."
            )
        self.info("At any prompt: ? help · s skip · b back · q save and quit · Ctrl-C also saves")

    def resume(
        self, display: str, answered: int, total: int, where: str | None, revisit: bool = False
    ) -> None:
        self.say(f"Resuming [bold]{_safe(display)}[/]: {answered} of {total} questions answered.")
        if where:
            verb = "Going through every answer again from" if revisit else "Continuing at"
            self.say(f"{verb} {_safe(where)}.")

    def section_intro(self, section: Section, index: int, count: int, questions: int) -> None:
        from rich.panel import Panel

        body = _safe(" ".join(section.intro.split())) if section.intro else ""
        n = f"{questions} question{'s' if questions != 1 else ''}"
        self.console.print()
        self.console.print(
            Panel(
                body or f"[dim]{n}[/]",
                title=f"[bold]Section {index} of {count}: {_safe(section.title)}[/]",
                subtitle=f"[dim]{n}[/]" if body else None,
                title_align="left",
                subtitle_align="right",
                expand=True,
            )
        )

    def question(self, v: QuestionView) -> None:
        q = v.question
        self.console.print()
        self.console.rule(style="dim")
        self.say(
            f"[bold cyan]Section: {_safe(v.section.title)} · question {v.number} of {v.total}[/]"
        )
        tags = [q.id, q.kind.label]
        tags.append("required" if q.is_required else "optional")
        if q.metric:
            tags.append(f"metric: {self.metric_titles.get(q.metric, q.metric).lower()}")
        tags.append(f"{v.answered} answered so far")
        self.info(" · ".join(tags))
        if v.condition:
            self.say(f"[magenta]Follow-up: asked because {_safe(v.condition)}[/]")
        self.console.print()
        self.say(f"[bold]{_safe(' '.join(q.text.split()))}[/]")
        self.console.print()
        if q.options:
            for i, o in enumerate(q.options, 1):
                note = q.kind.option_note(q, o)
                mark = f" [dim]({_safe(note)})[/]" if note else ""
                self.say(f"  [bold]{i}.[/] {_safe(o.label)}{mark}")
            self.console.print()
        hint = self.input_hint(q)
        if not q.is_required:
            hint += " Optional: Enter alone skips it."
        self.say(f"[dim]{_safe(hint)}[/]")
        if v.current is not None:
            self.say(
                f"Current answer: [bold]{_safe(self.current_text(q, v.current))}[/]"
                "  [dim](Enter keeps it)[/]"
            )
        if v.note:
            self.say(f"[dim]Note: {_safe(v.note)}[/]")
        if v.evidence:
            self.say(f"[dim]Evidence: {_safe(', '.join(v.evidence))}[/]")
        self.info("? help · ?? rubric · s skip · b back · note edit note/evidence · q quit")

    @staticmethod
    def input_hint(q: Question) -> str:
        return q.kind.input_hint(q)

    @staticmethod
    def current_text(q: Question, value: Any) -> str:
        return q.kind.current_text(q, value)

    def help(self, q: Question) -> None:
        self.console.print()
        self.say(f"[bold]Help for {_safe(q.id)}[/]")
        self.say(_safe(" ".join(q.help.split())))
        if q.concept:
            self.say(f"[dim]Concept: {_safe(q.concept)}[/]")
        if q.references:
            self.say(f"[dim]References: {_safe('; '.join(q.references))}[/]")
        if q.when:
            self.say(f"[dim]Follow-up: applies when {_safe(q.when.describe())}.[/]")
        self.say(
            "[dim]Commands: s skip (leave unanswered) · b back · ?? rubric · note edit the "
            "note/evidence · clear remove the answer · q save and quit. To type text that "
            r"looks like a command, start it with a backslash (\b).[/]"
        )

    def rubric(self, q: Question) -> None:
        self.console.print()
        if not q.scored:
            self.say(f"[bold]{_safe(q.id)}[/] is not scored: it is kept for the report.")
            return
        self.say(f"[bold]Rubric for {_safe(q.id)}[/] (risk 0.00 = safest, 1.00 = riskiest)")
        intro = q.kind.rubric_intro(q)
        if intro:
            self.info(intro)
        for answer, risk, red_flag in q.kind.rubric_rows(q):
            self.say(f"  {_safe(answer)}  [dim]risk {risk:.2f}[/]{_flag(red_flag)}")
        if q.finding:
            self.say(f"[dim]A risky answer is reported as: {_safe(q.finding)}[/]")

    def _bullets(self, items: list[tuple[str, str]], colour: str) -> None:
        """`• ID: text` lines whose text wraps under itself, not under the bullet."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for qid, text in items:
            grid.add_row(f"  [{colour}]•[/] {_safe(qid)}:", _safe(text))
        self.console.print(grid)

    def review(self, result: AuditResult, bank: Bank, display: str) -> None:
        from rich.table import Table

        self.console.print()
        self.console.rule("[bold]Review[/]")
        self.say(rating_line(result, "Rating preview"))
        c = result.counts
        self.info(
            f"{c.answered} of {c.applicable} applicable questions answered; answers saved in "
            f"{display}"
        )
        metrics = Table(show_edge=False, box=None, pad_edge=False)
        metrics.add_column("key metric")
        metrics.add_column("score", justify="right")
        metrics.add_column("rating")
        for m in result.metrics.values():
            metrics.add_row(
                _safe(m.title), f"{m.score:.1f}", f"[{RATING_STYLE[m.rating]}]{m.rating}[/]"
            )
        self.console.print()
        self.console.print(metrics)
        self.console.print()
        if result.red_flags:
            self.say(f"[bold red]Red flags ({len(result.red_flags)})[/]")
            self._bullets([(flag.question_id, flag.reason) for flag in result.red_flags], "red")
        else:
            self.say("[green]No red flags.[/]")
        self.console.print()
        if result.unanswered:
            self.say(
                f"[bold yellow]Unanswered required questions ({len(result.unanswered)})[/] "
                "[dim]— counted as their riskiest answer until answered[/]"
            )
            self._bullets(
                [(qid, " ".join(bank.by_id[qid].text.split())) for qid in result.unanswered],
                "yellow",
            )
        else:
            self.say("[green]Every required question that applies is answered.[/]")

    # -- the menu after the review, and leaving

    def next_menu(self, base: str, unanswered: int, required: int) -> None:
        self.say("\n[bold]What next?[/]")
        self.say(f"  [bold]1.[/] Write the Markdown report ({_safe(base)}.md)")
        self.say(f"  [bold]2.[/] Write the HTML report ({_safe(base)}.html)")
        if unanswered:
            self.say(
                f"  [bold]3.[/] Go through the {unanswered} unanswered question"
                f"{'s' if unanswered != 1 else ''} now ({required} required)"
            )

    def finished(self, display: str, score_hint: str, resume_hint: str) -> None:
        self.say(
            f"Saved [bold]{_safe(display)}[/]. Score it with "
            f"[bold]{_safe(score_hint)}[/]; change answers with "
            f"[bold]{_safe(resume_hint)} --revisit[/]."
        )

    def nothing_saved(self, reason: str, hint: str) -> None:
        self.console.print(
            f"\n{reason}: nothing saved yet (no system name given); start again with: "
            f"{_safe(hint)}",
            highlight=False,
        )

    def unsaved(self, error: str, text: str) -> None:
        """Saving failed at the end: the file's text on the screen, so nothing is lost."""
        self.error(f"{error}; here is the file, copy it:")
        self.console.out(text, highlight=False)

    def left(self, reason: str, answers: int, display: str, hint: str) -> None:
        self.console.print(
            f"\n{reason}: {answers} answer{'s' if answers != 1 else ''} saved in "
            f"{_safe(display)}; resume with: {_safe(hint)}",
            highlight=False,
            soft_wrap=True,
        )
