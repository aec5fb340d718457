"""The end of a walkthrough: the review screen with the scores so far, and the what-next menu
(write a Markdown or HTML report, answer what is left, list every unanswered question)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from ic_audit.atomic import atomic_write
from ic_audit.walkthrough.screens import REVIEW_UNANSWERED_SHOWN

if TYPE_CHECKING:
    from ic_audit.result import AuditResult
    from ic_audit.walkthrough.engine import Walkthrough


def review(w: Walkthrough) -> bool:
    """The review screen and what-next menu; True to go back to unanswered questions."""
    s = w.session
    if not s.has_name:
        return False
    from ic_audit.scoring import score_audit

    result = score_audit(w.bank, s.parsed())
    w.p.review(result, w.bank, s.display)
    applies = w.applies()
    todo = [q.id for q in w.walk if applies.get(q.id, True) and not s.is_answered(q.id)]
    base = s.path.with_name(s.path.stem + "-report")
    show_menu = True
    while True:
        if show_menu:
            required = sum(1 for qid in todo if w.bank.by_id[qid].is_required)
            w.p.next_menu(str(base), len(todo), required, len(result.unanswered))
            elsewhere = len(result.unanswered) - sum(
                1 for qid in todo if w.bank.by_id[qid].is_required
            )
            if w.section_filter and elsewhere > 0:
                w.p.info(
                    f"{elsewhere} unanswered required question"
                    f"{'s are' if elsewhere != 1 else ' is'} in sections outside --section; "
                    f"answer {'them' if elsewhere != 1 else 'it'} with: "
                    f"ic-audit run {shlex.quote(s.display)}"
                )
            w.p.info("Enter or q: finish (everything is saved)")
            show_menu = False
        raw = w.read("choice> ").strip().lower()
        if raw in ("", "q", "quit", "exit"):
            w.p.finished(s.display, w.score_hint, w.resume_hint)
            return False
        if raw in ("1", "2", "md", "html"):
            fmt = "md" if raw in ("1", "md") else "html"
            write_report(w, result, Path(f"{base}.{fmt}"), fmt)
            show_menu = True
            continue
        if raw == "3" and todo:
            return True
        if raw in ("4", "list") and len(result.unanswered) > REVIEW_UNANSWERED_SHOWN:
            w.p.unanswered_list(result.unanswered, w.bank)
            show_menu = True
            continue
        if raw in ("?", "help"):
            w.p.info(
                "Type 1 or 2 to write a report next to the answers file"
                + (", 3 to answer what is left" if todo else "")
                + (
                    ", 4 to list every unanswered required question"
                    if len(result.unanswered) > REVIEW_UNANSWERED_SHOWN
                    else ""
                )
                + "; Enter to finish."
            )
            continue
        listed = len(result.unanswered) > REVIEW_UNANSWERED_SHOWN
        w.p.error(
            f"{raw[:40]!r} is not a choice; type 1, 2{', 3' if todo else ''}"
            f"{', 4' if listed else ''} or press Enter"
        )


def write_report(w: Walkthrough, result: AuditResult, target: Path, fmt: str) -> None:
    from ic_audit.render import REPORT_FORMATS

    try:
        text = REPORT_FORMATS[fmt](result)
    except Exception as exc:  # a renderer bug must not end the session
        w.p.error(
            f"could not render the {fmt} report ({type(exc).__name__}: {exc}); the "
            f"answers are saved: try `{w.score_hint.replace(' score ', ' report ', 1)} "
            f"-o {target}`"
        )
        return
    try:
        atomic_write(target, text)
    except OSError as exc:
        w.p.error(f"could not write {target}: {exc.strerror or exc}")
        return
    w.p.ok(f"Wrote {target}")
