"""What a person types at a walkthrough prompt: command words, and answers turned into values
through `Question.coerce`, the same validation the file loader uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ic_audit.bank import Question

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
