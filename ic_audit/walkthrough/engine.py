"""The walkthrough's logic: navigation (next, back, skip, resume position, revisit),
applicability of follow-ups through `scoring.applicability`, and turning typed text into answers
through `Question.coerce`, the same validation the file loader uses.

All I/O goes through the `Prompter` (`screens`), with data, never markup.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ic_audit.answers import Answer
from ic_audit.bank import Question, Section
from ic_audit.limits import EVIDENCE_COUNT_MAX, EVIDENCE_ITEM_MAX, LONG_TEXT_MAX
from ic_audit.loading import refused_character
from ic_audit.walkthrough.metadata import META_FIELDS, MetaField, ask_metadata
from ic_audit.walkthrough.review import review
from ic_audit.walkthrough.screens import Prompter, QuestionView
from ic_audit.walkthrough.session import Session
from ic_audit.walkthrough.signals import _SIGHUP, EXIT_OK, Interrupted, Quit
from ic_audit.walkthrough.typed import (
    answer_command,
    note_key,
    parse_answer,
    section_ids,
    split_command,
)

if TYPE_CHECKING:
    pass


Action = Literal["next", "back"]


class Walkthrough:
    """The walkthrough's logic; all I/O goes through the `Prompter`."""

    def __init__(
        self,
        session: Session,
        prompter: Prompter,
        *,
        sections: Sequence[str] = (),
        revisit: bool = False,
        today: dt.date | None = None,
        resume_hint: str = "",
        score_hint: str = "",
    ) -> None:
        self.session = session
        self.bank = session.bank
        self.p = prompter
        self.revisit = revisit
        self.today = today or dt.date.today()
        self.resume_hint = resume_hint or f"ic-audit run {shlex.quote(session.display)}"
        self.score_hint = score_hint or f"ic-audit score {shlex.quote(session.display)}"
        chosen = set(section_ids(self.bank, sections))
        self.sections = [s for s in self.bank.sections if not chosen or s.id in chosen]
        self.section_filter = bool(chosen)
        self.walk: list[Question] = [q for s in self.sections for q in s.questions]
        self.high_water = -1
        self.last_section: str | None = None

    # -- navigation (pure logic)

    def applies(self) -> dict[str, bool]:
        return self.session.applicable()

    def applicable_walk(self) -> list[int]:
        applies = self.applies()
        return [i for i, q in enumerate(self.walk) if applies.get(q.id, True)]

    def start_position(self) -> int | None:
        """Where to begin: the first applicable question (revisit) or first unanswered one."""
        for i in self.applicable_walk():
            if self.revisit or not self.session.is_answered(self.walk[i].id):
                return i
        return None

    def resume_position(self) -> int | None:
        """Where a resumed walkthrough continues: after the furthest question answered.

        Not at the first unanswered one: that is usually a question the person skipped on
        purpose, and they would meet it again on every resume. What was skipped is offered
        at the end (the review's "go through the unanswered questions").
        """
        if self.revisit:
            return self.start_position()
        items = self.applicable_walk()
        answered = [i for i in items if self.session.is_answered(self.walk[i].id)]
        later = [i for i in items if answered and i > answered[-1]]
        return later[0] if later else self.start_position()

    def next_position(self, pos: int) -> int | None:
        for i in self.applicable_walk():
            if i <= pos:
                continue
            if (
                self.revisit
                or i <= self.high_water
                or not self.session.is_answered(self.walk[i].id)
            ):
                return i
        return None

    def previous_position(self, pos: int) -> int | None:
        earlier = [i for i in self.applicable_walk() if i < pos]
        return earlier[-1] if earlier else None

    def progress(self, pos: int) -> tuple[int, int, int]:
        """(k, n, answered) for "question k of n" over the applicable walked questions."""
        items = self.applicable_walk()
        k = sum(1 for i in items if i <= pos)
        answered = sum(1 for i in items if self.session.is_answered(self.walk[i].id))
        return k, len(items), answered

    # -- running

    def run(self) -> int:
        s = self.session
        self.p.welcome(self.bank, s.display, new=not s.existed)
        for warning in s.warnings:
            self.p.warn(f"warning: {warning}")
        if not s.existed:
            self.ask_metadata(list(META_FIELDS))
        else:
            missing = [f for f in META_FIELDS if s.get_meta(f.path) is None]
            if s.get_meta(("audit_date",)) is None:
                # Interrupted during the metadata questions last time: finish them.
                self.ask_metadata(missing)
            elif self.revisit and not self.section_filter:
                self.ask_metadata(list(META_FIELDS))
            items = self.applicable_walk()
            answered = sum(1 for i in items if s.is_answered(self.walk[i].id))
            start = self.resume_position()
            where = None
            if start is not None:
                k, n, _ = self.progress(start)
                where = f"{self.walk[start].id} (question {k} of {n})"
            self.p.resume(s.display, answered, len(items), where, self.revisit)
            skipped = [
                self.walk[i].id
                for i in items
                if start is not None and i < start and not s.is_answered(self.walk[i].id)
            ]
            if skipped:
                shown = ", ".join(skipped[:5])
                more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
                self.p.info(f"Left unanswered earlier: {shown}{more}; offered again at the end.")
        pos = self.resume_position()
        if pos is None and self.walk:
            self.p.info(
                "Every question in scope is answered; use --revisit to go through them again."
            )
        while True:
            self.walk_from(pos)
            if not review(self):
                return EXIT_OK
            self.revisit = False  # "answer the unanswered ones now"
            self.high_water = -1
            pos = self.start_position()

    def walk_from(self, pos: int | None) -> None:
        while pos is not None:
            self.high_water = max(self.high_water, pos)
            q = self.walk[pos]
            section = self.bank.section_by_id[q.section]
            if section.id != self.last_section:
                if self._forward_into(section):
                    self.p.section_intro(
                        section,
                        self.sections.index(section) + 1,
                        len(self.sections),
                        len(section.questions),
                    )
                self.last_section = section.id
            action = self.ask_question(pos)
            if action == "back":
                prev = self.previous_position(pos)
                if prev is None:
                    self.p.info("This is the first question.")
                else:
                    pos = prev
                continue
            pos = self.next_position(pos)

    def _forward_into(self, section: Section) -> bool:
        if self.last_section is None:
            return True
        ids = [s.id for s in self.sections]
        return ids.index(section.id) > ids.index(self.last_section)

    # -- metadata

    def ask_metadata(self, fields: list[MetaField]) -> None:
        ask_metadata(self, fields)

    # -- one question

    def ask_question(self, pos: int) -> Action:
        q = self.walk[pos]
        s = self.session
        while True:
            answer = s.answers.get(q.id)
            k, n, answered = self.progress(pos)
            condition = None
            if q.when is not None:
                parent = s.value(q.when.question)
                pq = self.bank.by_id.get(q.when.question)
                if parent is None or pq is None:
                    condition = (
                        f"{q.when.question} is unanswered (it applies when {q.when.describe()})"
                    )
                else:
                    condition = f"{q.when.question} is {pq.display(parent)}"
            self.p.question(
                QuestionView(
                    question=q,
                    section=self.bank.section_by_id[q.section],
                    number=k,
                    total=n,
                    answered=answered,
                    current=answer.value if answer else None,
                    note=answer.note if answer else None,
                    evidence=list(answer.evidence) if answer else [],
                    condition=condition,
                    note_key=note_key(q),
                )
            )
            result = self._answer_loop(q)
            if result == "again":
                continue
            return result

    def _answer_loop(self, q: Question) -> Action | Literal["again"]:
        s = self.session
        while True:
            raw = self.read("answer> ")
            cmd = answer_command(q, raw)
            if raw.strip().startswith("\\"):
                cmd = None
                raw = raw.strip()[1:]
            current = s.value(q.id)
            if cmd == "help":
                self.p.help(q, note_key(q))
                continue
            if cmd == "rubric":
                self.p.rubric(q)
                continue
            if cmd == "quit":
                raise Quit()
            if cmd == "back":
                return "back"
            if cmd == "skip":
                if current is None:
                    self.p.info(f"Skipped {q.id}: left unanswered.")
                else:
                    self.p.info(f"Skipped {q.id}: answer kept.")
                return "next"
            if cmd == "clear":
                old = s.answers.get(q.id)
                if old is None or old.value is None:
                    self.p.info(f"{q.id} has no answer to clear.")
                    continue
                s.set_answer(q.id, old.model_copy(update={"value": None}))
                self.save()
                self.p.info(f"Cleared the answer to {q.id}.")
                return "next"
            if cmd in ("note", "evidence"):
                # On request only; the answer prompt comes back, the screen is not redrawn.
                self.ask_note_evidence(q, (cmd,))
                continue
            if not raw.strip():
                if current is not None:
                    return "next"
                if not q.is_required:
                    self.p.info(f"Skipped {q.id} (optional).")
                    return "next"
                self.p.error(
                    f"no answer typed; {Prompter.input_hint(q)[0].lower()}"
                    f"{Prompter.input_hint(q)[1:]} Or s to skip."
                )
                continue
            try:
                value = self.parse(q, raw)
            except ValueError as exc:
                self.p.error(str(exc))
                continue
            old = s.answers.get(q.id)
            changed = old is None or old.value != value
            update: dict[str, Any] = {"value": value}
            if q.declares_not_applicable(value) and not (old and old.note):
                # The loader refuses such an answer without a note, so it is asked for before
                # anything is saved: a saved file must always load again.
                why = self.ask_why_not_applicable(q)
                if why is None:
                    continue
                update["note"] = why
            new = (old or Answer()).model_copy(update=update)
            s.set_answer(q.id, new)
            self.save()
            flag = q.red_flag_for(value) if q.scored else None
            risk = q.value_risk(value) if q.scored else 0.0
            if flag:
                self.p.red_flag(q.id, q.display(value), flag)
            else:
                self.p.ok(f"✓ {q.id}: {q.display(value)}")
            # A note is offered where it helps the reviewer most: a red flag or a high risk.
            # Elsewhere `n` / `e` add one on request.
            if not flag and risk < self.bank.severity.high:
                return "next"
            fresh = old is not None and old.note is None and not old.evidence
            if changed or fresh:
                self.p.offer_note(flag is not None, risk)
                if self.ask_note_evidence(q) == "back":
                    return "again"
            return "next"

    def ask_why_not_applicable(self, q: Question) -> str | None:
        """The note a not-applicable declaration needs; None to choose another answer."""
        self.p.info(
            "This answer declares that the question does not apply. Say why in a note: the "
            "report lists every such claim for the reviewer. (b chooses another answer.)"
        )
        while True:
            raw = self.read("Why does it not apply? ")
            cmd, text = split_command(raw)
            if cmd == "quit":
                raise Quit()
            if cmd in ("back", "skip"):
                return None
            if not text:
                self.p.error("a note is required when a question is declared not applicable")
                continue
            if len(text) > LONG_TEXT_MAX:
                self.p.error(
                    f"the note is {len(text):,} characters; the limit is {LONG_TEXT_MAX:,}"
                )
                continue
            return text

    def parse(self, q: Question, raw: str) -> Any:
        """Typed text -> a clean value, through `Question.coerce` and the check against the
        audit date that the file loader makes too (raises ValueError)."""
        value = parse_answer(q, raw, self.today)
        problem = q.kind.dated_problem(q, value, self.audit_date(), self.today)
        if problem is not None:
            raise ValueError(problem)
        return value

    def audit_date(self) -> dt.date | None:
        value = self.session.get_meta(("audit_date",))
        return value if isinstance(value, dt.date) else None

    def ask_note_evidence(
        self, q: Question, kinds: Sequence[str] = ("note", "evidence")
    ) -> Literal["done", "back"]:
        """The optional note and evidence for the answer to ``q``; saved after each."""
        s = self.session
        for kind in kinds:
            while True:
                answer = s.answers.get(q.id) or Answer()
                if kind == "note":
                    cur = answer.note
                    label = (
                        f"Note — Enter keeps “{_short(cur)}”, - removes it: "
                        if cur
                        else "Note (Enter to skip): "
                    )
                else:
                    items = list(answer.evidence)
                    label = (
                        f"Evidence — Enter keeps {_short(', '.join(items))}, - removes, "
                        "+ITEM adds: "
                        if items
                        else "Evidence: links, ticket ids, file paths, comma-separated "
                        "(Enter to skip): "
                    )
                raw = self.read(label)
                cmd, text = split_command(raw)
                if cmd == "quit":
                    raise Quit()
                if cmd == "back":
                    return "back"
                if cmd in ("help", "rubric"):
                    self.p.info(
                        "A note explains the answer (one line). Evidence is where to check "
                        "it: links, ticket ids or file paths, separated by commas. Both go "
                        "into the report."
                    )
                    continue
                if cmd == "skip" or not text:
                    break
                if kind == "note":
                    if (
                        text == "-"
                        and answer.value is not None
                        and q.declares_not_applicable(answer.value)
                    ):
                        self.p.error(
                            "this answer declares the question not applicable, which needs a "
                            "note: change the note, or choose another answer first"
                        )
                        continue
                    if text == "-":
                        s.set_answer(q.id, answer.model_copy(update={"note": None}))
                    elif len(text) > LONG_TEXT_MAX:
                        self.p.error(
                            f"the note is {len(text):,} characters; the limit is {LONG_TEXT_MAX:,}"
                        )
                        continue
                    else:
                        s.set_answer(q.id, answer.model_copy(update={"note": text}))
                else:
                    if text == "-":
                        s.set_answer(q.id, answer.model_copy(update={"evidence": []}))
                    else:
                        add = text.startswith("+")
                        parts = [p.strip() for p in text.lstrip("+").split(",") if p.strip()]
                        long = [p for p in parts if len(p) > EVIDENCE_ITEM_MAX]
                        if long:
                            self.p.error(
                                f"an evidence reference is longer than "
                                f"{EVIDENCE_ITEM_MAX} characters; shorten it"
                            )
                            continue
                        merged = list(answer.evidence) + parts if add else parts
                        merged = list(dict.fromkeys(merged))[:EVIDENCE_COUNT_MAX]
                        s.set_answer(q.id, answer.model_copy(update={"evidence": merged}))
                self.save()
                # Said, so a person who typed `n` or `e` knows it took (nothing is redrawn).
                removed = text == "-"
                self.p.info(f"{q.id}: {kind} {'removed' if removed else 'saved'}")
                break
        return "done"

    # -- end

    # -- helpers

    def read(self, prompt: str) -> str:
        while True:
            try:
                text = self.p.ask(prompt)
            except EOFError:
                raise Quit("end of input") from None
            except OSError:
                # The terminal went away under us: same as a hang-up.
                raise Interrupted(_SIGHUP) from None
            # Typed text holds only what the file loader accepts (an arrow key's escape
            # sequence, bytes the terminal could not decode): nothing saved is refused later.
            bad = refused_character(text)
            if bad is None:
                return text
            self.p.error(f"that holds {bad}, which an answers file cannot hold; type it again")

    def save(self) -> None:
        ok = self.session.save()
        for notice in self.session.notices:
            self.p.warn(notice)
        self.session.notices.clear()
        if not ok and self.session.save_error:
            self.p.error(
                f"{self.session.save_error}; your answers are kept and saving is retried "
                "after the next one"
            )


def _short(text: str | None, width: int = 40) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"
