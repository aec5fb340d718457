"""The questions about the audit at the top of the answers file: system, auditor, date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ic_audit.limits import TEXT_MAX
from ic_audit.walkthrough.signals import Quit
from ic_audit.walkthrough.typed import split_command

if TYPE_CHECKING:
    from ic_audit.walkthrough.engine import Walkthrough


@dataclass(frozen=True)
class MetaField:
    path: tuple[str, ...]
    label: str
    required: bool = False
    is_date: bool = False


META_FIELDS = (
    MetaField(("system", "name"), "Name of the AI system under audit", required=True),
    MetaField(("system", "owner"), "Team that owns it"),
    MetaField(("auditor", "name"), "Your name (the auditor)"),
    MetaField(("auditor", "team"), "Your team"),
    MetaField(("audit_date",), "Audit date", is_date=True),
)


def ask_metadata(w: Walkthrough, fields: list[MetaField]) -> None:
    """The questions about the audit (system, auditor, date); saved after each answer."""
    s = w.session
    if not fields:
        return
    w.p.metadata_intro()

    def unasked(f: MetaField) -> bool:
        # A team without an auditor's name would not be a valid file: not asked.
        return f.path == ("auditor", "team") and s.get_meta(("auditor", "name")) is None

    i = 0
    while i < len(fields):
        f = fields[i]
        if unasked(f):
            i += 1
            continue
        current = s.get_meta(f.path)
        default: Any = current
        if f.is_date and default is None:
            default = w.today
        shown = default.isoformat() if isinstance(default, dt.date) else default
        if shown:
            hint = f" [{shown}]" + ("" if f.required or f.is_date else " (- removes)")
        else:
            hint = "" if f.required else " (Enter to skip)"
        raw = w.read(f"{f.label}{hint}: ")
        cmd, text = split_command(raw)
        if cmd == "quit":
            raise Quit()
        if cmd == "back":
            i = max(0, i - 1)
            while i > 0 and unasked(fields[i]):
                i -= 1
            continue
        if cmd in ("help", "rubric"):
            w.p.info("This is recorded at the top of the answers file and the report.")
            continue
        if cmd == "skip" or (cmd is None and not text and default is None):
            if f.required and not current:
                w.p.error("the system's name is required; type it")
                continue
            i += 1
            continue
        if cmd is None and not text:
            s.set_meta(f.path, default)
            i += 1
            w.save()
            continue
        if cmd is not None:
            w.p.error(f"`{text}` does nothing here; type a value")
            continue
        if text == "-" and not f.required:
            s.set_meta(f.path, None)
            if f.path == ("auditor", "name"):
                s.set_meta(("auditor",), None)
            i += 1
            w.save()
            continue
        if f.is_date:
            if text.lower() == "today":
                text = w.today.isoformat()
            try:
                value: Any = dt.date.fromisoformat(text)
            except ValueError:
                w.p.error(f"{text[:60]!r} is not a date; use YYYY-MM-DD, e.g. 2026-10-01")
                continue
            clash = _dated_clash(w, value)
            if clash is not None:
                w.p.error(clash)
                continue
        else:
            if len(text) > TEXT_MAX:
                w.p.error(f"that is {len(text):,} characters; the limit is {TEXT_MAX}")
                continue
            value = text
        s.set_meta(f.path, value)
        i += 1
        w.save()


def _dated_clash(w: Walkthrough, audit_date: dt.date) -> str | None:
    """Why ``audit_date`` would make a saved answer invalid (a past date after it), or None:
    the file must stay loadable."""
    for qid, answer in w.session.answers.items():
        q = w.bank.by_id.get(qid)
        if q is None or answer.value is None:
            continue
        if q.kind.dated_problem(q, answer.value, audit_date, w.today) is not None:
            return (
                f"{qid} is answered {q.display(answer.value)}, after {audit_date.isoformat()}; "
                f"give a later audit date, or change {qid} first"
            )
    return None
