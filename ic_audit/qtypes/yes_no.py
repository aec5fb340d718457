"""`yes_no`: the options `yes` and `no`; YAML's booleans and `y`/`n` at the prompt are taken."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ic_audit.bank.values import _show
from ic_audit.qtypes.base import NodeMaker, Report
from ic_audit.qtypes.choice import ChoiceType

if TYPE_CHECKING:
    from ic_audit.bank.question_parts import Option
    from ic_audit.bank.schema import Question

_YES = {"yes", "true"}
_NO = {"no", "false"}


class YesNoType(ChoiceType):
    name = "yes_no"
    label = "yes/no"

    def coerce(self, q: Question, raw: Any) -> Any:
        if isinstance(raw, bool):
            return "yes" if raw else "no"
        if isinstance(raw, str) and raw.strip().lower() in _YES | _NO:
            return "yes" if raw.strip().lower() in _YES else "no"
        raise ValueError(f"{_show(raw)} is not yes or no; answer yes or no")

    def typed_word(self, text: str) -> str | None:
        if text.lower() in ("y", "n"):
            return "yes" if text.lower() == "y" else "no"
        return None

    def input_hint(self, q: Question) -> str:
        return f"Type 1-{len(q.options or [])}, or yes / no."

    def init_hint(self, q: Question) -> list[str]:
        return ["yes | no"]

    def yaml(self, q: Question, value: Any) -> str:
        # Plain: the answers loader reads YAML's booleans back as yes and no.
        return str(value) if value in ("yes", "no") else super().yaml(q, value)

    def yaml_node(self, q: Question, value: Any, node: NodeMaker) -> Any:
        return value if value in ("yes", "no") else node(value, False)

    def json_schema(self, q: Question) -> dict[str, Any]:
        return {"oneOf": [{"type": "boolean"}, {"enum": ["yes", "no", "true", "false"]}]}

    def check_values(self, q: Question, opts: list[Option], add: Report) -> None:
        if sorted(o.value for o in opts) != ["no", "yes"]:
            add('a yes_no question has exactly the options "yes" and "no"', "options")
