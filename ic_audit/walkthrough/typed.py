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


def command_word(raw: str) -> str | None:
    return _COMMANDS.get(raw.strip().lower())


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
