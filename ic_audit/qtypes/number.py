"""`number`: a decimal (or whole) number in an optional range; its risk is its band's."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from ic_audit.bank.values import _fmt_num, _not_a_number, _show, parse_decimal
from ic_audit.qtypes.base import QuestionType, Report

if TYPE_CHECKING:
    from ic_audit.bank.question_parts import Band, Option, When
    from ic_audit.bank.schema import Question


def _num(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else x


class NumberType(QuestionType):
    name = "number"
    label = "number"
    scored = True

    def coerce(self, q: Question, raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            if not isinstance(raw, str):
                raise ValueError(f"{_show(raw)} is not a number")
            number = parse_decimal(raw)
            if number is None:
                raise ValueError(_not_a_number(raw))
            raw = number
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ValueError(f"{raw} is not a finite number")
        if q.integer:
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(f"{raw} is not a whole number")
            raw = int(raw)
        lo = q.range.min if q.range else None
        hi = q.range.max if q.range else None
        if (lo is not None and raw < lo) or (hi is not None and raw > hi):
            raise ValueError(f"{_fmt_num(raw)} is outside the allowed range {q.range_text()}")
        return raw

    def parse(self, q: Question, raw: str, today: Any) -> Any:
        text = raw.strip()
        if q.unit and text.lower().endswith(q.unit.lower()):
            text = text[: -len(q.unit)].strip()
        # Typed digits as an int or float, so `coerce` judges the number (e.g. "not a whole
        # number" for 2.5); anything else (1:30, 0x10, 1_000) is passed on as text for `coerce`
        # to reject, as the file loader does.
        value = parse_decimal(text)
        return q.coerce(text if value is None else value)

    # ------------------------------------------------------------------- risk
    def risk(self, q: Question, value: Any) -> float:
        return q.band_for(value).risk

    def red_flag(self, q: Question, value: Any) -> str | None:
        return q.band_for(value).red_flag

    def advice_parts(self, q: Question, value: Any) -> list[Option | Band]:
        return [q.band_for(value)]

    def answer_space(self, q: Question) -> list[tuple[Any, float]]:
        points: list[Any] = q._band_points()
        if q.integer:
            points = [int(v) for v in points]
        return [(v, q.band_for(v).risk) for v in points]

    # ---------------------------------------------------------------- display
    def display(self, q: Question, value: Any) -> str:
        unit = f" {q.unit}" if q.unit else ""
        return f"{_fmt_num(value)}{unit}"

    def rubric_rows(self, q: Question) -> list[tuple[str, float, str | None]]:
        unit = f" {q.unit}" if q.unit else ""
        rows: list[tuple[str, float, str | None]] = []
        for band in q.bands or []:
            if band.min is not None and band.max is not None:
                span = f"{band.min:g} to under {band.max:g}{unit}"
            elif band.max is not None:
                span = f"under {band.max:g}{unit}"
            elif band.min is not None:
                span = f"{band.min:g}{unit} or more"
            else:
                span = "any value"
            rows.append((f"{span}: {band.label}", band.risk, band.red_flag))
        return rows

    def input_hint(self, q: Question) -> str:
        kind = "A whole number" if q.integer else "A number"
        unit = f" in {q.unit}" if q.unit else ""
        return f"{kind}{unit}; allowed: {q.range_text()}."

    # ------------------------------------------------------------ files, JSON
    def yaml(self, q: Question, value: Any) -> str:
        from ic_audit.answers_text import number

        if isinstance(value, (int, float)):
            return number(value)
        return super().yaml(q, value)

    def init_hint(self, q: Question) -> list[str]:
        kind = "whole number" if q.integer else "number"
        return [f"{kind}, {q.range_text()}"]

    def describe(self, q: Question) -> dict[str, Any]:
        return {
            "unit": q.unit,
            "integer": q.integer,
            "range": {
                "min": _num(q.range.min if q.range else None),
                "max": _num(q.range.max if q.range else None),
            },
            "bands": [
                {
                    "min": _num(b.min),
                    "max": _num(b.max),
                    "risk": b.risk,
                    "label": b.label,
                    "red_flag": b.red_flag is not None,
                    "red_flag_reason": b.red_flag,
                    "recommendation": b.recommendation
                    or (q.recommendation if b.risk > 0 else None),
                    "evidence": b.evidence,
                }
                for b in q.bands or []
            ],
        }

    def json_schema(self, q: Question) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer" if q.integer else "number"}
        if q.range and q.range.min is not None:
            schema["minimum"] = _num(q.range.min)
        if q.range and q.range.max is not None:
            schema["maximum"] = _num(q.range.max)
        return schema

    # ----------------------------------------------------------------- rubric
    def check(self, q: Question, add: Report) -> None:
        from ic_audit.bank.rules import _check_advice

        bands = q.bands or []
        if q.options or q.scoring:
            add("a number question takes bands, not options")
        if not bands:
            add("a number question needs risk bands", "bands")
            return
        lo = q.range.min if q.range else None
        hi = q.range.max if q.range else None
        if lo is not None and hi is not None and lo > hi:
            add("range.min is above range.max", "range")
        for i, (a, b) in enumerate(itertools.pairwise(bands)):
            if a.max is None or b.min is None or a.max != b.min:
                add(
                    f"bands {i} and {i + 1} must meet: the max of one is the min of the next",
                    "bands",
                    i + 1,
                )
        for i, band in enumerate(bands):
            if band.min is not None and band.max is not None and band.min >= band.max:
                add("band min must be below its max", "bands", i)
        first, last = bands[0], bands[-1]
        if first.min is not None and (lo is None or first.min > lo):
            add("the first band must start at or below range.min (or be open)", "bands", 0)
        if last.max is not None and (hi is None or last.max <= hi):
            add("the last band must end above range.max (or be open)", "bands", len(bands) - 1)
        risks = [b.risk for b in bands]
        if min(risks) != 0.0 or max(risks) != 1.0:
            add(
                "the scale must be anchored: one band with risk 0.0 and one with risk 1.0",
                "bands",
            )
        _check_advice(q, [(b, b.risk) for b in bands], "bands", add)

    def condition_risks(
        self, parent: Question, when: When, add: Report
    ) -> tuple[list[float], list[float]] | None:
        if when.at_least is None:
            add(f"when: {when.question} is a number; use at_least", "when")
            return None
        inside = [r for v, r in parent.answer_space_split(when.at_least, True)]
        outside = [r for v, r in parent.answer_space_split(when.at_least, False)]
        return inside, outside
