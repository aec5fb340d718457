"""`text`: one line of free text, up to the question's `max_length`; not scored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ic_audit.bank.values import _show
from ic_audit.qtypes.base import NodeMaker, QuestionType

if TYPE_CHECKING:
    import datetime as dt

    from ic_audit.bank.schema import Question


class TextType(QuestionType):
    name = "text"
    label = "free text"

    def coerce(self, q: Question, raw: Any) -> Any:
        from ic_audit.loading import refused_character

        if not isinstance(raw, str):
            raise ValueError(f"{_show(raw)} is not text; put it in quotes")
        bad = refused_character(raw)
        if bad is not None:
            raise ValueError(f"the text holds {bad}; remove it")
        if len(raw) > q.max_length:
            raise ValueError(f"the text is {len(raw):,} characters; the limit is {q.max_length:,}")
        return raw

    def parse(self, q: Question, raw: str, today: dt.date) -> Any:
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in raw):
            raise ValueError("the text holds bytes that are not UTF-8; type it again")
        return q.coerce(raw.strip())

    def input_hint(self, q: Question) -> str:
        return "Free text, one line."

    def yaml_node(self, q: Question, value: Any, node: NodeMaker) -> Any:
        # Typed text is always quoted: `yes`, `1.0` or `null` stay the words typed.
        return node(value, True)

    def init_hint(self, q: Question) -> list[str]:
        return ["free text (quote it)"]

    def describe(self, q: Question) -> dict[str, Any]:
        return {"max_length": q.max_length}

    def json_schema(self, q: Question) -> dict[str, Any]:
        return {"type": "string", "maxLength": q.max_length}
