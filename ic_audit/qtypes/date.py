"""`date`: an ISO date (YAML's own date, or text); not scored. `today` at the prompt.

A date question records something that happened (`past: true`, the default) unless the bank says
`past: false` (a date planned ahead): such a date may not be after the audit date, or after
today when the file has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ic_audit.bank.values import parse_date
from ic_audit.qtypes.base import QuestionType

if TYPE_CHECKING:
    import datetime as dt

    from ic_audit.bank.schema import Question


class DateType(QuestionType):
    name = "date"
    label = "date"

    def coerce(self, q: Question, raw: Any) -> Any:
        return parse_date(raw)

    def dated_problem(
        self, q: Question, value: Any, audit_date: dt.date | None, today: dt.date
    ) -> str | None:
        import datetime as dt

        if not q.past or not isinstance(value, dt.date):
            return None
        if audit_date is not None:
            if value > audit_date:
                return (
                    f"{value.isoformat()} is after the audit date {audit_date.isoformat()}; "
                    "this question asks when something happened: give a date on or before it"
                )
            return None
        if value > today:
            return (
                f"{value.isoformat()} is in the future (today is {today.isoformat()}); "
                "this question asks when something happened: give a past date"
            )
        return None

    def parse(self, q: Question, raw: str, today: dt.date) -> Any:
        text = raw.strip()
        if text.lower() == "today":
            text = today.isoformat()
        return q.coerce(text)

    def json_value(self, q: Question, value: Any) -> Any:
        return value.isoformat()

    def display(self, q: Question, value: Any) -> str:
        return str(value.isoformat())

    def input_hint(self, q: Question) -> str:
        return "A date as YYYY-MM-DD (e.g. 2026-10-01), or `today`."

    def yaml(self, q: Question, value: Any) -> str:
        import datetime as dt

        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        return super().yaml(q, value)

    def init_hint(self, q: Question) -> list[str]:
        return ["a date, YYYY-MM-DD"]

    def json_schema(self, q: Question) -> dict[str, Any]:
        return {"type": "string", "format": "date"}
