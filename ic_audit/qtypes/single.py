"""`single`: one option out of a list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ic_audit.bank.values import _show
from ic_audit.qtypes.choice import ChoiceType

if TYPE_CHECKING:
    from ic_audit.bank.schema import Question


class SingleType(ChoiceType):
    name = "single"
    label = "one choice"

    def coerce(self, q: Question, raw: Any) -> Any:
        if isinstance(raw, str) and raw in q.option_map:
            return raw
        raise ValueError(f"{_show(raw)} is not one of the options; use one of: {q._choices()}")

    def input_hint(self, q: Question) -> str:
        return f"Type a number 1-{len(q.options or [])}."

    def init_hint(self, q: Question) -> list[str]:
        return [f"{o.value}: {o.label}" for o in q.options or []]

    def yaml(self, q: Question, value: Any) -> str:
        from ic_audit.answers_text import word

        return word(value) if isinstance(value, str) else super().yaml(q, value)

    def json_schema(self, q: Question) -> dict[str, Any]:
        return {"enum": [o.value for o in q.options or []]}
