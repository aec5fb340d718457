"""User-facing messages for invalid files: pydantic's validation errors turned into one located
line each, in the words a person editing a YAML file needs. The bank and answers loaders both
use it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from ic_audit.errors import Problem
from ic_audit.loading import Document


def pydantic_problems(
    exc: ValidationError, doc: Document, base: tuple[str | int, ...] = ()
) -> list[Problem]:
    """Turn pydantic's errors into one located line each."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = base + loc
        field = _loc_text(loc)
        msg = _plain_message(err["type"], err["msg"])
        qid = _question_id_at(doc, base + loc)
        out.append(Problem(doc.name, f"{field}: {msg}" if field else msg, doc.line(path), qid))
    return out


_PLAIN_BY_TYPE = {
    "extra_forbidden": "is not a known field; check the spelling",
    "missing": "is required",
    "dict_type": "must be a mapping (key: value lines)",
    "model_type": "must be a mapping (key: value lines)",
    "model_attributes_type": "must be a mapping (key: value lines)",
    "string_type": "must be text; put it in quotes",
    "list_type": "must be a list, e.g. [a, b]",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "finite_number": "must be a finite number (not .nan or .inf)",
}


def _plain_message(kind: str, msg: str) -> str:
    """pydantic's wording, said the way a person editing a YAML file needs it."""
    if kind in _PLAIN_BY_TYPE:
        return _PLAIN_BY_TYPE[kind]
    msg = msg.removeprefix("Value error, ")
    for theirs, ours in (
        ("Input should be", "must be"),
        ("String should have", "must have"),
        ("List should have", "must have"),
    ):
        if msg.startswith(theirs):
            return ours + msg[len(theirs) :]
    return msg


def _loc_text(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _question_id_at(doc: Document, path: tuple[Any, ...]) -> str | None:
    if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        items = doc.data.get("questions") if isinstance(doc.data, dict) else None
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            qid = items[path[1]].get("id")
            return qid if isinstance(qid, str) else None
    return None
