"""`multi`: several options, one of them `exclusive` (the 'none' answer). Scored as hazards
(each one chosen raises the risk) or safeguards (each one chosen lowers it, by its weight)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ic_audit.bank.values import _show
from ic_audit.qtypes.base import Report
from ic_audit.qtypes.choice import ChoiceType

if TYPE_CHECKING:
    from ic_audit.bank.question_parts import Band, Option
    from ic_audit.bank.schema import Question


class MultiType(ChoiceType):
    name = "multi"
    label = "several choices"

    def coerce(self, q: Question, raw: Any) -> Any:
        if not isinstance(raw, list):
            raise ValueError(
                f"{_show(raw)} is not a list; write a list such as "
                f"[{next(iter(q.option_map), '')}] (choices: {q._choices()})"
            )
        if not raw:
            none = next((o.value for o in q.options or [] if o.exclusive), "")
            raise ValueError(f"the list is empty; choose at least one (or [{none}])")
        out: list[str] = []
        for item in raw:
            if not isinstance(item, str) or item not in q.option_map:
                raise ValueError(
                    f"{_show(item)} is not one of the options; use any of: {q._choices()}"
                )
            if item in out:
                raise ValueError(f"{item!r} is listed twice; list it once")
            out.append(item)
        exclusive = [v for v in out if q.option_map[v].exclusive]
        if exclusive and len(out) > 1:
            raise ValueError(f"{exclusive[0]!r} cannot be combined with other options")
        order = list(q.option_map)
        return sorted(out, key=order.index)

    def parse(self, q: Question, raw: str, today: Any) -> Any:
        options = list(q.option_map)
        tokens = [t for t in re.split(r"[,;\s]+", raw.strip()) if t]
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

    # ------------------------------------------------------------------- risk
    def option_risk(self, q: Question, option: Option) -> float:
        if q.multi_mode == "safeguards" and not option.exclusive:
            total = sum(o.weight or 1.0 for o in q.options or [] if not o.exclusive)
            return 1.0 - (option.weight or 1.0) / total
        if q.multi_mode == "safeguards":
            return 1.0
        return super().option_risk(q, option)

    def risk(self, q: Question, value: Any) -> float:
        chosen = [q.option_map[v] for v in value]
        if q.multi_mode == "safeguards":
            if any(o.exclusive for o in chosen):
                return 1.0
            total = sum(o.weight or 1.0 for o in q.options or [] if not o.exclusive)
            have = sum(o.weight or 1.0 for o in chosen)
            return max(0.0, 1.0 - have / total)
        # Hazards combine like independent chances: each one added raises the risk.
        safe = 1.0
        for o in chosen:
            safe *= 1.0 - q.option_risk(o)
        return 1.0 - safe

    def red_flag(self, q: Question, value: Any) -> str | None:
        # A combination is a red flag once its risk reaches that of the least risky red-flag
        # option: so a riskier answer can never lose a red flag (monotone ratings).
        flagged = sorted((q.option_risk(o), o.red_flag) for o in q.options or [] if o.red_flag)
        if not flagged or q.value_risk(value) < flagged[0][0]:
            return None
        own = [q.option_map[v].red_flag for v in value if q.option_map[v].red_flag]
        if own:
            return "; ".join(f for f in own if f)
        return f"the chosen answers together are as risky as: {flagged[0][1]}"

    def combine(self, q: Question, values: list[Any]) -> Any:
        # Each old answer covered part of this question: its "none" spoke for that part only.
        exclusive = {o.value for o in q.options or [] if o.exclusive}
        rest = [v for v in values if v not in exclusive]
        return q.coerce(rest or values[:1])

    def advice_parts(self, q: Question, value: Any) -> list[Option | Band]:
        chosen = sorted((q.option_map[v] for v in value), key=q.option_risk, reverse=True)
        return list(chosen)

    def facts_key(self, value: Any) -> Any:
        # The combinations audits choose repeat (a batch of a team's systems).
        return tuple(value) if isinstance(value, list) else None

    def answer_space(self, q: Question) -> list[tuple[Any, float]]:
        opts = q.options or []
        space: list[tuple[Any, float]] = [([o.value], q.option_risk(o)) for o in opts]
        rest = [o.value for o in opts if not o.exclusive]
        space.append((rest, q.value_risk(rest)))
        return space

    # ---------------------------------------------------------------- display
    def display(self, q: Question, value: Any) -> str:
        return "; ".join(q.option_map[v].label for v in value)

    def current_text(self, q: Question, value: Any) -> str:
        order = list(q.option_map)
        numbers = ",".join(str(order.index(v) + 1) for v in value)
        return f"{numbers} ({q.display(value)})"

    def option_note(self, q: Question, option: Option) -> str | None:
        return "on its own" if option.exclusive else None

    def input_hint(self, q: Question) -> str:
        opts = q.options or []
        # The example must be a valid answer: never the exclusive "none" with another option.
        sample = [str(i) for i, o in enumerate(opts, 1) if not o.exclusive][:2]
        return (
            f"Type one or more numbers 1-{len(opts)}, separated by commas or spaces "
            f"(e.g. {','.join(sample)})."
        )

    def rubric_intro(self, q: Question) -> str | None:
        if q.multi_mode == "safeguards":
            return (
                "Safeguards: each one chosen lowers the risk; the risk shown is for "
                "choosing it alone."
            )
        return "Hazards: each one chosen raises the risk."

    # ------------------------------------------------------------ files, JSON
    def yaml(self, q: Question, value: Any) -> str:
        from ic_audit.answers_text import flow, word

        if not isinstance(value, list):
            return super().yaml(q, value)
        return "[" + ", ".join(word(v) if isinstance(v, str) else flow(v) for v in value) + "]"

    def init_hint(self, q: Question) -> list[str]:
        sample = [o.value for o in q.options or [] if not o.exclusive][:2]
        lines = ["a list, e.g. [" + ", ".join(sample) + "]"]
        lines += [
            f"{o.value}: {o.label}" + ("  (on its own)" if o.exclusive else "")
            for o in q.options or []
        ]
        return lines

    def describe(self, q: Question) -> dict[str, Any]:
        return {"scoring": q.multi_mode, **super().describe(q)}

    def option_extra(self, q: Question, o: Option) -> dict[str, Any]:
        if q.multi_mode == "safeguards" and not o.exclusive:
            # Safeguards: the weight behind the risk (1 - weight / total), to check by hand.
            return {"weight": o.weight or 1.0}
        return {}

    def json_schema(self, q: Question) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"enum": [o.value for o in q.options or []]},
            "minItems": 1,
            "uniqueItems": True,
        }

    # ----------------------------------------------------------------- rubric
    def check_options(self, q: Question, opts: list[Option], add: Report) -> None:
        for i, o in enumerate(opts):
            if o.not_applicable and not (o.exclusive and q.multi_mode == "hazards"):
                add(
                    "in a multi question only the exclusive option of a hazards question may be "
                    "`not_applicable`",
                    "options",
                    i,
                )
        exclusive = [o for o in opts if o.exclusive]
        if len(exclusive) != 1:
            add(
                "a multi question needs exactly one `exclusive: true` option (the 'none' answer)",
                "options",
            )
        for i, o in enumerate(opts):
            if q.multi_mode == "safeguards":
                if not o.exclusive and o.risk is not None:
                    add(f"safeguard {o.value!r} takes a weight, not a risk", "options", i)
                if o.exclusive and o.risk not in (None, 1.0):
                    add("the 'none' option of a safeguards question has risk 1.0", "options", i)
                if o.red_flag and not o.exclusive:
                    add(
                        "only the 'none' option of a safeguards question may be a red flag",
                        "options",
                        i,
                    )
            else:
                if o.risk is None:
                    add(f"option {o.value!r} needs a risk (0.0 to 1.0)", "options", i)
                if o.weight is not None:
                    add("`weight` applies to safeguards questions only", "options", i)
                if o.exclusive and (o.risk or 0.0) != 0.0:
                    add(
                        "the exclusive 'none' option of a hazards question has risk 0.0",
                        "options",
                        i,
                    )
