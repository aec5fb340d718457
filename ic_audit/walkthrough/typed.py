"""What a person types at a walkthrough prompt: command words, and answers turned into values
through `Question.coerce`, the same validation the file loader uses."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ic_audit.bank import Question, parse_decimal

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
    """Typed text -> a clean value, through `Question.coerce` (raises ValueError)."""
    text = raw.strip()
    options = list(q.option_map)
    if q.type in ("yes_no", "single"):
        if text.isdigit():
            i = int(text)
            if 1 <= i <= len(options):
                return q.coerce(options[i - 1])
            raise ValueError(f"{i} is not one of the choices; type a number 1-{len(options)}")
        elif q.type == "yes_no" and text.lower() in ("y", "n"):
            return q.coerce("yes" if text.lower() == "y" else "no")
        elif text.lower() in q.option_map:
            return q.coerce(text.lower())
        try:
            return q.coerce(text)
        except ValueError as exc:
            raise ValueError(f"{exc} (or type a number 1-{len(options)})") from None
    if q.type == "multi":
        tokens = [t for t in re.split(r"[,;\s]+", text) if t]
        values: list[Any] = []
        for t in tokens:
            if t.isdigit() and 1 <= int(t) <= len(options):
                values.append(options[int(t) - 1])
            elif t.isdigit():
                raise ValueError(f"{t} is not one of the choices; type numbers 1-{len(options)}")
            else:
                values.append(t.lower() if t.lower() in q.option_map else t)
        alone = [v for v in values if v in q.option_map and q.option_map[v].exclusive]
        if alone and len(set(values)) > 1:
            label = q.option_map[alone[0]].label
            raise ValueError(f"'{label}' stands on its own; choose it alone or leave it out")
        try:
            return q.coerce(values)
        except ValueError as exc:
            if all(v in q.option_map for v in values):
                raise  # a real choice problem (empty, twice)
            raise ValueError(f"{exc} (or type numbers 1-{len(options)})") from None
    if q.type == "number":
        if q.unit and text.lower().endswith(q.unit.lower()):
            text = text[: -len(q.unit)].strip()
        return q.coerce(_number(text))
    if q.type == "date":
        if text.lower() == "today":
            text = today.isoformat()
        return q.coerce(text)
    if q.type == "text":
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in raw):
            raise ValueError("the text holds bytes that are not UTF-8; type it again")
        return q.coerce(raw.strip())
    return q.coerce(text)  # pragma: no cover - every type is handled above


def _number(text: str) -> Any:
    """Typed digits as an int or float, so `coerce` judges the number (e.g. "not a whole
    number" for 2.5); anything else (1:30, 0x10, 1_000) is passed on as text for `coerce` to
    reject, as the file loader does."""
    value = parse_decimal(text)
    return text if value is None else value
