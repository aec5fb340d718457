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


def _inline(text: str) -> str:
    """`_safe` text with `code` spans (help texts, hints) shown in a code style, without the
    backticks a Markdown reader would hide."""
    import re

    return re.sub(r"`([^`\n]+)`", r"[bold cyan]\1[/]", _safe(text))


# How many unanswered questions the review lists before offering the whole list.
REVIEW_UNANSWERED_SHOWN = 5


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
    note_key: str = "n"  # what adds a note here: `note` where `n` is an answer (yes/no)


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
        self.console.print(f"[bold red]✗[/] [red]{_inline(text)}[/]", highlight=False)

    def red_flag(self, qid: str, answer: str, reason: str) -> None:
        """A red-flag answer: saved, but never shown as a success."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        grid.add_row(
            "[bold white on red] RED FLAG [/]",
            f"[bold red]{_safe(qid)}: {_safe(answer)}[/] [dim](saved)[/]\n[red]{_safe(reason)}[/]",
        )
        self.console.print(grid)

    def offer_note(self, red_flag: bool, risk: float) -> None:
        why = "a red flag" if red_flag else f"a high-risk answer (risk {risk:.2f})"
        self.info(f"This is {why}: a note and evidence help the reviewer. Enter skips each prompt.")

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
        self.say(f"[dim]{_inline(hint)}[/]")
        if v.current is not None:
            self.say(
                f"Current answer: [bold]{_safe(self.current_text(q, v.current))}[/]"
                "  [dim](Enter keeps it)[/]"
            )
        if v.note:
            self.say(f"[dim]Note: {_safe(v.note)}[/]")
        if v.evidence:
            self.say(f"[dim]Evidence: {_safe(', '.join(v.evidence))}[/]")
        self.info(f"? help · ?? rubric · s skip · b back · {v.note_key} note · e evidence · q quit")

    @staticmethod
    def input_hint(q: Question) -> str:
        return q.kind.input_hint(q)

    @staticmethod
    def current_text(q: Question, value: Any) -> str:
        return q.kind.current_text(q, value)

    def help(self, q: Question, note_key: str = "n") -> None:
        self.console.print()
        self.say(f"[bold]Help for {_safe(q.id)}[/]")
        self.say(_inline(" ".join(q.help.split())))
        extra = [
            ("Concept", q.concept),
            ("References", "; ".join(q.references)),
            ("Follow-up", f"applies when {q.when.describe()}." if q.when else ""),
        ]
        if any(text for _, text in extra):
            self.console.print()
            self._pairs([(label, text) for label, text in extra if text], "dim")
        self.console.print()
        self.say("[bold]Commands[/]")
        self._pairs(
            [
                ("s", "skip: leave it unanswered (or keep the current answer)"),
                ("b", "back to the previous question"),
                ("??", "the rubric: the risk of each answer"),
                (note_key, "add or change the note (- removes it)"),
                ("e", "add or change the evidence: links, ticket ids, file paths"),
                ("clear", "remove the answer"),
                ("q", "save and quit"),
            ],
            "bold",
        )
        self.info("To type text that looks like a command, start it with a backslash (\\b).")

    def _pairs(self, rows: list[tuple[str, str]], style: str) -> None:
        """`label  text` rows whose text wraps under itself."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style=style)
        grid.add_column()
        for label, text in rows:
            grid.add_row(f"  {_safe(label)}", _inline(text))
        self.console.print(grid)

    def rubric(self, q: Question) -> None:
        self.console.print()
        if not q.scored:
            self.say(f"[bold]{_safe(q.id)}[/] is not scored: it is kept for the report.")
            return
        from rich.table import Table

        self.say(f"[bold]Rubric for {_safe(q.id)}[/] [dim](risk 0.00 = safest, 1.00 = riskiest)[/]")
        intro = q.kind.rubric_intro(q)
        if intro:
            self.say(f"[dim]{_inline(intro)}[/]")
        self.console.print()
        # Columns: an option's number, the answer (wrapping under itself, not under the
        # number) and its risk, right-aligned. Each row is its own grid with the same widths,
        # so a red flag can take a whole line under its answer without widening a column.
        import re

        from rich.padding import Padding

        rows: list[tuple[str, str, str, str | None]] = []
        for answer, risk, red_flag in q.kind.rubric_rows(q):
            m = re.match(r"(\d+\.) (.*)", answer, flags=re.S)
            number, label = (m.group(1), m.group(2)) if m else ("", answer)
            rows.append((number, label, f"risk {risk:.2f}", red_flag))
        indent = 2
        w_number = max(len(r[0]) for r in rows) if rows else 0
        w_risk = max(len(r[2]) for r in rows) if rows else 0
        gaps = (1 if w_number else 0) + 3
        room = max(10, self.console.width - indent - w_number - w_risk - gaps)
        w_label = min(max((len(r[1]) for r in rows), default=0), room)
        for number, label, risk_text, red_flag in rows:
            grid = Table.grid(padding=(0, 1))
            if w_number:
                grid.add_column(justify="right", no_wrap=True, width=w_number)
            grid.add_column(overflow="fold", width=w_label)
            grid.add_column(justify="right", no_wrap=True, width=w_risk + 2)
            cells = [_safe(number)] if w_number else []
            grid.add_row(*cells, _safe(label), f"[dim]{risk_text}[/]")
            self.console.print(Padding(grid, (0, 0, 0, indent), expand=False))
            if red_flag:
                flag_indent = indent + (w_number + 1 if w_number else 0)
                self.console.print(
                    Padding(
                        f"[bold red]RED FLAG:[/] [red]{_safe(red_flag)}[/]",
                        (0, 0, 0, flag_indent),
                        expand=False,
                    )
                )
        if q.finding:
            self.console.print()
            self.say(f"[dim]A risky answer is reported as: {_safe(q.finding)}[/]")

    def _bullets(self, items: list[tuple[str, str]], colour: str, one_line: bool = False) -> None:
        """`• ID: text` lines whose text wraps under itself, not under the bullet (or, with
        ``one_line``, is cut at the terminal's width)."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 1), expand=one_line)
        # The id's column keeps its width: only the text is wrapped or cut.
        heads = [f"  • {qid}:" for qid, _ in items]
        grid.add_column(no_wrap=True, width=max((len(h) for h in heads), default=0))
        if one_line:
            grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        else:
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
        sections = Table(show_edge=False, box=None, pad_edge=False)
        sections.add_column("section", overflow="fold")
        sections.add_column("answered", justify="right", no_wrap=True)
        sections.add_column("red flags", justify="right", no_wrap=True)
        for sec in result.sections:
            applicable = sec.questions - sec.not_applicable
            done = "[green]✓[/] " if sec.answered >= applicable else ""
            flags = f"[bold red]{sec.red_flags}[/]" if sec.red_flags else "[dim]0[/]"
            sections.add_row(_safe(sec.title), f"{done}{sec.answered} / {applicable}", flags)
        self.console.print(sections)
        self.console.print()
        if result.red_flags:
            self.say(f"[bold red]Red flags ({len(result.red_flags)})[/]")
            self._bullets([(flag.question_id, flag.reason) for flag in result.red_flags], "red")
        else:
            self.say("[green]No red flags.[/]")
        self.console.print()
        if result.unanswered:
            n = len(result.unanswered)
            self.say(
                f"[bold yellow]Unanswered required questions ({n})[/] "
                "[dim]— counted as their riskiest answer until answered[/]"
            )
            shown = result.unanswered[:REVIEW_UNANSWERED_SHOWN]
            self._bullets(
                [(qid, " ".join(bank.by_id[qid].text.split())) for qid in shown],
                "yellow",
                one_line=True,
            )
            if n > len(shown):
                self.info(f"  … and {n - len(shown)} more (choice 4 lists them all)")
        else:
            self.say("[green]Every required question that applies is answered.[/]")

    def unanswered_list(self, ids: list[str], bank: Bank) -> None:
        """Every unanswered required question, with its section and full text."""
        self.console.print()
        self.say(f"[bold yellow]Unanswered required questions ({len(ids)})[/]")
        self._bullets([(qid, " ".join(bank.by_id[qid].text.split())) for qid in ids], "yellow")

    # -- the menu after the review, and leaving

    def next_menu(self, base: str, unanswered: int, required: int, listed: int = 0) -> None:
        self.say("\n[bold]What next?[/]")
        self.say(f"  [bold]1.[/] Write the Markdown report ({_safe(base)}.md)")
        self.say(f"  [bold]2.[/] Write the HTML report ({_safe(base)}.html)")
        if unanswered:
            self.say(
                f"  [bold]3.[/] Go through the {unanswered} unanswered question"
                f"{'s' if unanswered != 1 else ''} now ({required} required)"
            )
        if listed > REVIEW_UNANSWERED_SHOWN:
            self.say(f"  [bold]4.[/] List all {listed} unanswered required questions")

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
