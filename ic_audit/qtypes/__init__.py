"""Question types: one class per `type:` of the bank files, registered in `TYPES`.

Adding a type is one new module here (a `QuestionType` subclass) and its line in `TYPES`;
nothing else branches on a type's name. `Question.kind` is a question's entry.
"""

from __future__ import annotations

from ic_audit.qtypes.base import QuestionType
from ic_audit.qtypes.date import DateType
from ic_audit.qtypes.multi import MultiType
from ic_audit.qtypes.number import NumberType
from ic_audit.qtypes.single import SingleType
from ic_audit.qtypes.text import TextType
from ic_audit.qtypes.yes_no import YesNoType

# name -> the type. The order is that of the message naming the allowed types.
TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (
        SingleType(),
        MultiType(),
        YesNoType(),
        NumberType(),
        TextType(),
        DateType(),
    )
}


def known_type(name: object) -> str:
    """A `type:` of the bank that names a registered type; ValueError with the choices if not."""
    if isinstance(name, str) and name in TYPES:
        return name
    names = [repr(n) for n in TYPES]
    raise ValueError(f"Input should be {', '.join(names[:-1])} or {names[-1]}")


__all__ = ["TYPES", "QuestionType", "known_type"]
