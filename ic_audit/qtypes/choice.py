"""What the option types (`single`, `yes_no`, `multi`) share: a value is an option's value, its
risk is the option's, and the rubric rules on options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ic_audit.qtypes.base import QuestionType, Report

if TYPE_CHECKING:
    from ic_audit.bank.question_parts import Band, Option, When
    from ic_audit.bank.schema import Question


class ChoiceType(QuestionType):
    """One option chosen from a list (`single`); `multi` and `yes_no` build on it."""

    scored = True

    def parse(self, q: Question, raw: Any, today: Any) -> Any:
        text = raw.strip()
        options = list(q.option_map)
        if text.isdigit():
            i = int(text)
            if 1 <= i <= len(options):
                return q.coerce(options[i - 1])
            raise ValueError(f"{i} is not one of the choices; type a number 1-{len(options)}")
        word = self.typed_word(text)
        if word is not None:
            return q.coerce(word)
        if text.lower() in q.option_map:
            return q.coerce(text.lower())
        try:
            return q.coerce(text)
        except ValueError as exc:
            raise ValueError(f"{exc} (or type a number 1-{len(options)})") from None

    def typed_word(self, text: str) -> str | None:
        """A short word typed for an option (`y` for yes), or None."""
        return None

    def risk(self, q: Question, value: Any) -> float:
        return q.option_risk(q.option_map[value])

    def red_flag(self, q: Question, value: Any) -> str | None:
        return q.option_map[value].red_flag

    def advice_parts(self, q: Question, value: Any) -> list[Option | Band]:
        return [q.option_map[value]]

    def answer_space(self, q: Question) -> list[tuple[Any, float]]:
        return [(o.value, q.option_risk(o)) for o in q.options or []]

    def facts_key(self, value: Any) -> Any:
        # An option's value: a question has only a few.
        return value if isinstance(value, str) else None

    def display(self, q: Question, value: Any) -> str:
        return q.option_map[value].label

    def current_text(self, q: Question, value: Any) -> str:
        index = list(q.option_map).index(value) + 1
        return f"{index}. {q.display(value)}"

    def rubric_rows(self, q: Question) -> list[tuple[str, float, str | None]]:
        opts = q.options or []
        return [(f"{i}. {o.label}", q.option_risk(o), o.red_flag) for i, o in enumerate(opts, 1)]

    def describe(self, q: Question) -> dict[str, Any]:
        return {"options": [self.describe_option(q, o) for o in q.options or []]}

    def describe_option(self, q: Question, o: Option) -> dict[str, Any]:
        return {
            "value": o.value,
            "label": o.label,
            "risk": round(q.option_risk(o), 4),
            "red_flag": o.red_flag is not None,
            "red_flag_reason": o.red_flag,
            "exclusive": o.exclusive,
            **self.option_extra(q, o),
            "recommendation": o.recommendation
            or (q.recommendation if q.option_risk(o) > 0 else None),
            "evidence": o.evidence,
            "not_applicable": o.not_applicable,
        }

    def option_extra(self, q: Question, o: Option) -> dict[str, Any]:
        """More fields of an option in `questions --format json`."""
        return {}

    # ----------------------------------------------------------------- rubric
    def check(self, q: Question, add: Report) -> None:
        from ic_audit.bank.rules import _check_advice

        opts = q.options or []
        if q.bands or q.range or q.unit:
            add(f"a {q.type} question takes options, not bands/range/unit")
        if len(opts) < 2:
            add("needs at least two options", "options")
            return
        values = [o.value for o in opts]
        if len(set(values)) != len(values):
            add("option values must be unique", "options")
        self.check_values(q, opts, add)
        self.check_options(q, opts, add)
        risks = [r for _, r in q.answer_space]
        if min(risks) != 0.0 or max(risks) != 1.0:
            add(
                "the scale must be anchored: one answer with risk 0.0 and one with risk 1.0",
                "options",
            )
        _check_advice(q, [(o, q.option_risk(o)) for o in opts], "options", add)

    def check_values(self, q: Question, opts: list[Option], add: Report) -> None:
        from ic_audit.bank.question_parts import _VALUE_RE, _YAML_WORDS

        for i, o in enumerate(opts):
            if not _VALUE_RE.fullmatch(o.value) or o.value in _YAML_WORDS:
                add(
                    f"option value {o.value!r} must be a lower-case identifier and not a YAML "
                    "boolean or null word",
                    "options",
                    i,
                    "value",
                )

    def check_options(self, q: Question, opts: list[Option], add: Report) -> None:
        if q.scoring:
            add("`scoring` applies to multi questions only", "scoring")
        for i, o in enumerate(opts):
            if o.risk is None:
                add(f"option {o.value!r} needs a risk (0.0 to 1.0)", "options", i)
            if o.exclusive or o.weight is not None:
                add("`exclusive` and `weight` apply to multi questions only", "options", i)

    def condition_risks(
        self, parent: Question, when: When, add: Report
    ) -> tuple[list[float], list[float]] | None:
        if when.in_ is None:
            add(f"when: {when.question} has options; use in: [values]", "when")
            return None
        unknown = [v for v in when.in_ if v not in parent.option_map]
        if unknown:
            add(
                f"when: {', '.join(map(str, unknown))} not among the options of {when.question}",
                "when",
            )
            return None
        opts = parent.options or []
        inside = [parent.option_risk(o) for o in opts if o.value in when.in_]
        outside = [parent.option_risk(o) for o in opts if o.value not in when.in_]
        return inside, outside
