"""What a person types at a walkthrough prompt: command words, answers turned into values
through `Question.coerce` (the same validation the file loader uses), and section names given
to `--section`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ic_audit.bank import Bank, Question
from ic_audit.errors import UsageError

_COMMANDS = {
    "?": "help", "help": "help",
    "??": "rubric", "rubric": "rubric",
    "s": "skip", "skip": "skip",
    "b": "back", "back": "back",
    "q": "quit", "quit": "quit", "exit": "quit",
    "note": "note", "clear": "clear",
}  # fmt: skip


# Only at the answer prompt: a note or evidence on request. Not in the metadata or note
# prompts, where a one-letter value or note is text.
_ANSWER_COMMANDS = {
    **_COMMANDS,
    "n": "note", "evidence": "evidence", "e": "evidence",
}  # fmt: skip


def command_word(raw: str) -> str | None:
    return _COMMANDS.get(raw.strip().lower())


def answer_command(q: Question, raw: str) -> str | None:
    """The command typed at the answer prompt of ``q``, or None for an answer.

    `n` and `e` give way to an option they name (`n` is "no" on a yes/no question, as people
    type it); there, `note` and `evidence` are the commands.
    """
    word = raw.strip().lower()
    cmd = _ANSWER_COMMANDS.get(word)
    if cmd in ("note", "evidence") and len(word) == 1 and _names_an_option(q, word):
        return None
    return cmd


def note_key(q: Question) -> str:
    """What to type for a note at the answer prompt of ``q``."""
    return "n" if answer_command(q, "n") == "note" else "note"


def _names_an_option(q: Question, word: str) -> bool:
    if not q.options:
        return False
    typed_word = getattr(q.kind, "typed_word", None)  # the option types' short words (y/n)
    return word in q.option_map or (callable(typed_word) and typed_word(word) is not None)


def split_command(raw: str) -> tuple[str | None, str]:
    """(command, text) for what was typed; a leading backslash makes a command word literal."""
    text = raw.strip()
    if text.startswith("\\"):
        return None, text[1:]
    return command_word(raw), text


def parse_answer(q: Question, raw: str, today: dt.date) -> Any:
    """Typed text -> a clean value, through `Question.coerce` (raises ValueError); how the
    text is read (numbers for options, `today`, a unit) is the question type's."""
    return q.kind.parse(q, raw, today)


def section_ids(bank: Bank, sections: Sequence[str]) -> list[str]:
    """The bank's ids for what was given to --section; a UsageError names one it lacks.

    Section ids are lower-case in banks; what people type (`OVERSIGHT`, stray spaces, dashes
    for underscores) is accepted when it names a section.
    """
    by_key = {s.id.lower().replace("-", "_"): s.id for s in bank.sections}
    ids: list[str] = []
    for raw in sections:
        key = raw.strip().lower().replace("-", "_")
        if key not in by_key:
            known = ", ".join(s.id for s in bank.sections)
            raise UsageError(f"no section {raw!r} in the bank; sections are: {known}")
        ids.append(by_key[key])
    return list(dict.fromkeys(ids))
