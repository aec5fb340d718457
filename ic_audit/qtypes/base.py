"""`QuestionType`: everything that depends on a question's `type`, in one class per type.

The bank, the scoring, the walkthrough, `init`, `questions` / `schema` and the answers writer
never branch on the type's name: they ask the question's type (`Question.kind`). The defaults
here are those of an unscored type whose value is shown and written as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from ic_audit.bank.question_parts import Band, Option, When
    from ic_audit.bank.schema import Question


class Report(Protocol):
    """Reports a rubric violation at the line of a field of the question (`bank.rules`)."""

    def __call__(self, msg: str, *path: str | int) -> None: ...


# (value, typed) -> a ruamel node; `typed` text is always double-quoted (see answers_layout).
NodeMaker = Callable[[Any, bool], Any]


class QuestionType:
    """The behaviour of one question type; one instance is registered in `qtypes.TYPES`."""

    name: ClassVar[str]  # the `type:` of the bank files
    label: ClassVar[str]  # what the walkthrough calls it ("one choice")
    scored: ClassVar[bool] = False

    # ------------------------------------------------------------------ values
    def coerce(self, q: Question, raw: Any) -> Any:
        """Validate and normalise a value from a file; raise ValueError with a user message."""
        raise NotImplementedError

    def parse(self, q: Question, raw: str, today: dt.date) -> Any:
        """What a person typed at the walkthrough prompt -> a clean value (via `coerce`)."""
        return q.coerce(raw.strip())

    def json_value(self, q: Question, value: Any) -> Any:
        """A normalised value as JSON holds it (the `score` answers rows)."""
        return value

    def dated_problem(
        self, q: Question, value: Any, audit_date: dt.date | None, today: dt.date
    ) -> str | None:
        """What is wrong with a valid value given the audit's date (or today when the file has
        none), or None. The file loader and the walkthrough both ask it, so they agree."""
        return None

    @property
    def checks_dates(self) -> bool:
        """Whether `dated_problem` can find a valid value wrong (the type overrides it)."""
        return type(self).dated_problem is not QuestionType.dated_problem

    # -------------------------------------------------------------- risk (scored types)
    def option_risk(self, q: Question, option: Option) -> float:
        return option.risk if option.risk is not None else 0.0

    def risk(self, q: Question, value: Any) -> float:
        """Risk in [0, 1] of a valid, normalised value."""
        return 0.0

    def red_flag(self, q: Question, value: Any) -> str | None:
        return None

    def advice_parts(self, q: Question, value: Any) -> list[Option | Band]:
        """The options or bands whose finding/recommendation speak for this value, first first."""
        return []

    def facts_key(self, value: Any) -> Any:
        """A hashable key under which a value's scoring facts are kept (`Question.facts`), or
        None to work them out each time (a type whose values rarely repeat)."""
        return None

    def combine(self, q: Question, values: list[Any]) -> Any:
        """One answer from several option values mapped onto this question (`migrate`): the
        riskiest stands, since one choice cannot hold them all."""
        return max(values, key=lambda v: q.option_risk(q.option_map[v]))

    def answer_space(self, q: Question) -> list[tuple[Any, float]]:
        """Representative valid values with their risk (empty for an unscored type)."""
        return []

    # ----------------------------------------------------------------- display
    def display(self, q: Question, value: Any) -> str:
        """A human-readable rendering of a normalised (not None) value."""
        return str(value)

    def current_text(self, q: Question, value: Any) -> str:
        """The current answer on a walkthrough screen, with what to type to keep it."""
        return q.display(value)

    def option_note(self, q: Question, option: Option) -> str | None:
        """A remark after an option in the option lists ("on its own")."""
        return None

    def input_hint(self, q: Question) -> str:
        """What to type at the walkthrough prompt."""
        raise NotImplementedError

    def rubric_intro(self, q: Question) -> str | None:
        """A line above the rubric of a question (`??` in the walkthrough)."""
        return None

    def rubric_rows(self, q: Question) -> list[tuple[str, float, str | None]]:
        """The rubric as (answer, its risk, its red flag) rows, for `??` in the walkthrough."""
        return [(str(self.display(q, v)), r, self.red_flag(q, v)) for v, r in q.answer_space]

    # ------------------------------------------------------------- answers file
    def yaml(self, q: Question, value: Any) -> str:
        """The flow-style YAML of a normalised (not None) value in an answers file."""
        from ic_audit.answers_text import flow

        return flow(value)

    def yaml_node(self, q: Question, value: Any, node: NodeMaker) -> Any:
        """The ruamel node of a value, for editing an answers file in place."""
        return node(value, False)

    def init_hint(self, q: Question) -> list[str]:
        """The allowed values, as the comment lines `ic-audit init` writes under a question."""
        raise NotImplementedError

    # ---------------------------------------------------------- machine-readable
    def describe(self, q: Question) -> dict[str, Any]:
        """The type's own fields in `ic-audit questions --format json`."""
        return {}

    def json_schema(self, q: Question) -> dict[str, Any]:
        """The JSON Schema of a value in an answers file (`ic-audit schema`)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- rubric
    def check(self, q: Question, add: Report) -> None:
        """The type's own rubric rules, for a scored question (`bank.rules`)."""

    def condition_risks(
        self, parent: Question, when: When, add: Report
    ) -> tuple[list[float], list[float]] | None:
        """Risks of the answers to ``parent`` that make a follow-up apply, and of the others;
        None once a problem with the condition has been reported."""
        add(f"when: a {parent.type} question cannot be the condition of a follow-up", "when")
        return None
