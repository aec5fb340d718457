"""The question bank: its file format (pydantic models), loading, and rubric validation.

The bank is the single source of truth for question text, rubric and recommendations. Beyond
the shape of each file, `load_bank` enforces the rubric rules that the scoring guarantees rest
on (see docs/bank-format.md): anchored scales, upward-pointing red flags and conditions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import re
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ic_audit import cache
from ic_audit.errors import Problem, UserError
from ic_audit.loading import (
    Document,
    check_line,
    check_text,
    load_document,
    parse_document,
    paused_gc,
    read_bytes,
    refused_character,
)

# The key metrics of a bank that does not define its own `metrics` (banks before 2.0): id,
# title, what it measures, and the short heading of compact tables.
DEFAULT_METRICS: tuple[tuple[str, str, str, str], ...] = (
    (
        "goal_drift",
        "Unwanted goal drift",
        "How far the system pursues objectives nobody asked for, and whether the organisation "
        "counts and independently reviews such incidents.",
        "drift",
    ),
    (
        "controllability",
        "Controllability under pressure",
        "Whether named people can stop, override or redirect the system at production speed and "
        "scale, with the controls drilled recently.",
        "control",
    ),
    (
        "alignment_decay",
        "Alignment decay over time",
        "Whether behaviour is re-measured against a fixed baseline often enough, and over long "
        "enough windows, to catch slow drift and unannounced model updates.",
        "decay",
    ),
)
QuestionType = Literal["single", "multi", "yes_no", "number", "text", "date"]
SCORED_TYPES = ("single", "multi", "yes_no", "number")

# Matched with `fullmatch`: `$` would also match before a final newline, making `A-01\n` an id.
_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_VALUE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
# A number typed or written as text: plain decimal digits only. Python's float() would also take
# "1_000", "0x1p3"-like spellings, other scripts' digits and "nan".
# No leading zero on a whole number: YAML 1.1 reads 017 as octal 15.
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*|[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
# Words YAML 1.1 reads as booleans or null: as option values they would be misread.
_YAML_WORDS = {"yes", "no", "y", "n", "on", "off", "true", "false", "null"}
_YES = {"yes", "true"}
_NO = {"no", "false"}

Risk = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    # Validators are built on first use: a bank read from the cache (see `load_bank`) never
    # validates anything, so a run that uses one never pays for building them.
    # allow_inf_nan=False: every number of a bank is finite (`.nan` would turn comparisons off).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)


class Option(_Model):
    value: str
    label: str
    risk: Risk | None = None
    weight: Annotated[float, Field(gt=0, le=100)] | None = None
    exclusive: bool = False
    red_flag: str | None = None
    recommendation: str | None = None
    finding: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _yes_no_words(cls, v: Any) -> Any:
        # `value: yes` unquoted is a YAML boolean; the meaning is unambiguous, so accept it.
        if isinstance(v, bool):
            return "yes" if v else "no"
        return v


class Band(_Model):
    min: float | None = None
    max: float | None = None
    risk: Risk
    label: str
    red_flag: str | None = None
    recommendation: str | None = None
    finding: str | None = None

    def contains(self, x: float) -> bool:
        return (self.min is None or x >= self.min) and (self.max is None or x < self.max)


class NumberRange(_Model):
    min: float | None = None
    max: float | None = None


class When(_Model):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, defer_build=True, allow_inf_nan=False
    )

    question: str
    in_: list[str] | None = Field(default=None, alias="in")
    at_least: int | float | None = None

    @field_validator("in_", mode="before")
    @classmethod
    def _bools(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [("yes" if x else "no") if isinstance(x, bool) else x for x in v]
        return v

    def as_written(self) -> dict[str, Any]:
        out: dict[str, Any] = {"question": self.question}
        if self.in_ is not None:
            out["in"] = list(self.in_)
        if self.at_least is not None:
            out["at_least"] = self.at_least
        return out

    def describe(self) -> str:
        if self.in_ is not None:
            return f"{self.question} is {' or '.join(self.in_)}"
        return f"{self.question} is at least {_fmt_num(self.at_least or 0)}"


class Question(_Model):
    id: str
    type: QuestionType
    text: str
    help: str
    metric: str | None = None  # one of the bank's metric ids (a rubric rule checks it)
    weight: Annotated[float, Field(gt=0, le=10)] = 1.0
    required: bool | None = None
    finding: str | None = None
    recommendation: str | None = None
    concept: str | None = None
    references: list[str] = Field(default_factory=list)
    options: list[Option] | None = None
    scoring: Literal["hazards", "safeguards"] | None = None
    bands: list[Band] | None = None
    unit: str | None = None
    range: NumberRange | None = None
    integer: bool = False
    max_length: Annotated[int, Field(gt=0, le=100_000)] = 5000
    when: When | None = None
    section: str = ""

    @field_validator("metric", mode="before")
    @classmethod
    def _metric_none(cls, v: Any) -> Any:
        return None if v in ("none", "", None) else v

    @property
    def scored(self) -> bool:
        return self.type in SCORED_TYPES

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else self.scored

    @property
    def multi_mode(self) -> str:
        return self.scoring or "hazards"

    @cached_property
    def option_map(self) -> dict[str, Option]:
        return {o.value: o for o in self.options or []}

    def option_risk(self, option: Option) -> float:
        """The risk of answering with this option alone."""
        if self.type == "multi" and self.multi_mode == "safeguards" and not option.exclusive:
            total = sum(o.weight or 1.0 for o in self.options or [] if not o.exclusive)
            return 1.0 - (option.weight or 1.0) / total
        if self.type == "multi" and self.multi_mode == "safeguards":
            return 1.0
        return option.risk if option.risk is not None else 0.0

    def value_risk(self, value: Any) -> float:
        """Risk in [0, 1] of a valid, normalised answer value."""
        if self.type in ("single", "yes_no"):
            return self.option_risk(self.option_map[value])
        if self.type == "multi":
            chosen = [self.option_map[v] for v in value]
            if self.multi_mode == "safeguards":
                if any(o.exclusive for o in chosen):
                    return 1.0
                total = sum(o.weight or 1.0 for o in self.options or [] if not o.exclusive)
                have = sum(o.weight or 1.0 for o in chosen)
                return max(0.0, 1.0 - have / total)
            # Hazards combine like independent chances: each one added raises the risk.
            safe = 1.0
            for o in chosen:
                safe *= 1.0 - self.option_risk(o)
            return 1.0 - safe
        if self.type == "number":
            return self.band_for(value).risk
        return 0.0

    def band_for(self, x: float) -> Band:
        for band in self.bands or []:
            if band.contains(x):
                return band
        raise ValueError(f"no band holds {x}")  # prevented by validation

    def red_flag_for(self, value: Any) -> str | None:
        if self.type in ("single", "yes_no"):
            return self.option_map[value].red_flag
        if self.type == "multi":
            # A combination is a red flag once its risk reaches that of the least risky red-flag
            # option: so a riskier answer can never lose a red flag (monotone ratings).
            flagged = sorted(
                (self.option_risk(o), o.red_flag) for o in self.options or [] if o.red_flag
            )
            if not flagged or self.value_risk(value) < flagged[0][0]:
                return None
            own = [self.option_map[v].red_flag for v in value if self.option_map[v].red_flag]
            if own:
                return "; ".join(f for f in own if f)
            return f"the chosen answers together are as risky as: {flagged[0][1]}"
        if self.type == "number":
            return self.band_for(value).red_flag
        return None

    def advice_for(self, value: Any) -> tuple[str, str]:
        """(finding title, recommendation) for a risky answer."""
        parts: list[Option | Band] = []
        if self.type in ("single", "yes_no"):
            parts = [self.option_map[value]]
        elif self.type == "multi":
            chosen = sorted((self.option_map[v] for v in value), key=self.option_risk, reverse=True)
            parts = list(chosen)
        elif self.type == "number":
            parts = [self.band_for(value)]
        title = next((p.finding for p in parts if p.finding), None) or self.finding or self.text
        rec = next((p.recommendation for p in parts if p.recommendation), None)
        return title, rec or self.recommendation or ""

    @cached_property
    def answer_space(self) -> list[tuple[Any, float]]:
        """Representative valid answers with their risk: every option, or one value per band."""
        if self.type in ("single", "yes_no"):
            return [(o.value, self.option_risk(o)) for o in self.options or []]
        if self.type == "multi":
            opts = self.options or []
            space: list[tuple[Any, float]] = [([o.value], self.option_risk(o)) for o in opts]
            rest = [o.value for o in opts if not o.exclusive]
            space.append((rest, self.value_risk(rest)))
            return space
        if self.type == "number":
            points: list[Any] = self._band_points()
            if self.integer:
                points = [int(v) for v in points]
            return [(v, self.band_for(v).risk) for v in points]
        return []

    def answer_space_split(self, threshold: float, inside: bool) -> list[tuple[Any, float]]:
        """Band pieces on one side of a threshold, with their risks (for `at_least` checks)."""
        out: list[tuple[Any, float]] = []
        lo = self.range.min if self.range else None
        hi = self.range.max if self.range else None
        for band in self.bands or []:
            b_lo = band.min if band.min is not None else -math.inf
            b_hi = band.max if band.max is not None else math.inf
            if lo is not None:
                b_lo = max(b_lo, lo)
            if hi is not None:
                b_hi = min(b_hi, math.nextafter(hi, math.inf))
            if b_lo >= b_hi:
                continue
            if inside and b_hi > threshold:
                out.append((band, band.risk))
            if not inside and b_lo < threshold:
                out.append((band, band.risk))
        return out

    def _band_points(self) -> list[float]:
        lo = self.range.min if self.range else None
        hi = self.range.max if self.range else None
        points: list[float] = []
        for band in self.bands or []:
            start = band.min if band.min is not None else lo
            if start is None:
                start = (band.max - 1) if band.max is not None else 0.0
            if lo is not None:
                start = max(start, lo)
            if hi is not None and start > hi:
                continue
            if band.max is not None and start >= band.max:
                continue
            if self.integer:
                start = float(math.ceil(start))
                if (band.max is not None and start >= band.max) or (hi is not None and start > hi):
                    continue
            points.append(start)
        return points

    @property
    def safest(self) -> Any:
        space = self.answer_space
        return min(space, key=lambda item: item[1])[0] if space else None

    @property
    def riskiest(self) -> Any:
        space = self.answer_space
        return max(space, key=lambda item: item[1])[0] if space else None

    @property
    def max_risk(self) -> float:
        space = self.answer_space
        return max(r for _, r in space) if space else 0.0

    # The one place an answer value typed anywhere (file or prompt) becomes a clean value.
    def coerce(self, raw: Any) -> Any:
        """Validate and normalise one answer value; raise ValueError with a user message."""
        t = self.type
        if t == "yes_no":
            if isinstance(raw, bool):
                return "yes" if raw else "no"
            if isinstance(raw, str) and raw.strip().lower() in _YES | _NO:
                return "yes" if raw.strip().lower() in _YES else "no"
            raise ValueError(f"{_show(raw)} is not yes or no; answer yes or no")
        if t == "single":
            if isinstance(raw, str) and raw in self.option_map:
                return raw
            raise ValueError(
                f"{_show(raw)} is not one of the options; use one of: {self._choices()}"
            )
        if t == "multi":
            if not isinstance(raw, list):
                raise ValueError(
                    f"{_show(raw)} is not a list; write a list such as "
                    f"[{next(iter(self.option_map), '')}] (choices: {self._choices()})"
                )
            if not raw:
                none = next((o.value for o in self.options or [] if o.exclusive), "")
                raise ValueError(f"the list is empty; choose at least one (or [{none}])")
            out: list[str] = []
            for item in raw:
                if not isinstance(item, str) or item not in self.option_map:
                    raise ValueError(
                        f"{_show(item)} is not one of the options; use any of: {self._choices()}"
                    )
                if item in out:
                    raise ValueError(f"{item!r} is listed twice; list it once")
                out.append(item)
            exclusive = [v for v in out if self.option_map[v].exclusive]
            if exclusive and len(out) > 1:
                raise ValueError(f"{exclusive[0]!r} cannot be combined with other options")
            order = list(self.option_map)
            return sorted(out, key=order.index)
        if t == "number":
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                if not isinstance(raw, str):
                    raise ValueError(f"{_show(raw)} is not a number")
                number = parse_decimal(raw)
                if number is None:
                    raise ValueError(_not_a_number(raw))
                raw = number
            if isinstance(raw, float) and not math.isfinite(raw):
                raise ValueError(f"{raw} is not a finite number")
            if self.integer:
                if isinstance(raw, float) and not raw.is_integer():
                    raise ValueError(f"{raw} is not a whole number")
                raw = int(raw)
            lo = self.range.min if self.range else None
            hi = self.range.max if self.range else None
            if (lo is not None and raw < lo) or (hi is not None and raw > hi):
                raise ValueError(
                    f"{_fmt_num(raw)} is outside the allowed range {self.range_text()}"
                )
            return raw
        if t == "date":
            return parse_date(raw)
        if t == "text":
            if not isinstance(raw, str):
                raise ValueError(f"{_show(raw)} is not text; put it in quotes")
            bad = refused_character(raw)
            if bad is not None:
                raise ValueError(f"the text holds {bad}; remove it")
            if len(raw) > self.max_length:
                raise ValueError(
                    f"the text is {len(raw):,} characters; the limit is {self.max_length:,}"
                )
            return raw
        raise ValueError(f"unknown question type {t}")  # pragma: no cover - type is a Literal

    def range_text(self) -> str:
        lo = self.range.min if self.range else None
        hi = self.range.max if self.range else None
        unit = f" {self.unit}" if self.unit else ""
        if lo is not None and hi is not None:
            return f"{_fmt_num(lo)} to {_fmt_num(hi)}{unit}"
        if lo is not None:
            return f"at least {_fmt_num(lo)}{unit}"
        if hi is not None:
            return f"at most {_fmt_num(hi)}{unit}"
        return f"any number{unit}"

    def _choices(self) -> str:
        return ", ".join(self.option_map)

    def display(self, value: Any) -> str:
        """A human-readable rendering of a normalised value."""
        if value is None:
            return ""
        if self.type in ("single", "yes_no"):
            return self.option_map[value].label
        if self.type == "multi":
            return "; ".join(self.option_map[v].label for v in value)
        if self.type == "number":
            unit = f" {self.unit}" if self.unit else ""
            return f"{_fmt_num(value)}{unit}"
        if self.type == "date":
            return str(value.isoformat())
        return str(value)


def parse_decimal(text: str) -> int | float | None:
    """A number written as plain decimal digits (int when it has no point or exponent)."""
    text = text.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    return float(text)


def _not_a_number(text: str) -> str:
    """Why ``text`` is not taken as a number, with what YAML 1.1 would have read it as."""
    t = text.strip()
    sign, body = (-1, t[1:]) if t[:1] == "-" else (1, t.lstrip("+"))
    meant: tuple[str, float] | None = None
    try:
        if ":" in body:
            value = 0.0
            for part in body.split(":"):
                value = value * 60 + float(part)
            meant = ("a base-60 (hours:minutes) number", value)
        elif body[:2] in ("0x", "0X"):
            meant = ("a hexadecimal number", int(body[2:], 16))
        elif body[:2] in ("0b", "0B"):
            meant = ("a binary number", int(body[2:], 2))
        elif body[:2] in ("0o", "0O"):
            meant = ("an octal number", int(body[2:], 8))
        elif "_" in body:
            meant = ("a number with digit separators", float(body.replace("_", "")))
        elif len(body) > 1 and body[0] == "0" and body.isdigit():
            meant = ("an octal number", int(body, 8))
    except ValueError:
        meant = None
    if meant is None:
        return f"{_show(text)} is not a number"
    kind, value = meant
    plain = _fmt_num(sign * value)
    return (
        f"{_show(text)} is not a plain decimal number (YAML 1.1 reads it as {kind}, {plain}); "
        f"write {plain} as a plain decimal number if that is what you mean"
    )


def parse_date(raw: Any) -> dt.date:
    """A date from YAML (already a date) or text (ISO); never from a number or a datetime."""
    if isinstance(raw, dt.datetime):
        raise ValueError(f"{_show(raw)} has a time; give a date such as 2026-10-01")
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"{_show(raw)} is not a date; use YYYY-MM-DD, e.g. 2026-10-01")


def _show(raw: Any) -> str:
    """A value as the person wrote it, as far as YAML lets us tell."""
    if isinstance(raw, bool):
        return f"{str(raw).lower()} (a yes/no value)"
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw.isoformat(sep=" ") if isinstance(raw, dt.datetime) else raw.isoformat()
    if isinstance(raw, dict):
        return "a mapping"
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class SectionSpec(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    title: str
    intro: str = ""
    weight: Annotated[float, Field(gt=0, le=10)] = 1.0


class SectionFile(_Model):
    section: SectionSpec
    questions: list[Question]


class RatingBands(_Model):
    moderate: Annotated[float, Field(ge=0, le=100)] = 25.0
    high: Annotated[float, Field(ge=0, le=100)] = 50.0
    critical: Annotated[float, Field(ge=0, le=100)] = 75.0

    @model_validator(mode="after")
    def _ordered(self) -> RatingBands:
        if not self.moderate < self.high < self.critical:
            raise ValueError(
                "the thresholds must rise: moderate below high below critical (scores 0 to 100)"
            )
        return self


class RedFlagPolicy(_Model):
    critical_at: Annotated[int, Field(ge=1)] = 3


class MetricSpec(_Model):
    """A key metric the bank defines: scored over the questions that name it."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    title: Annotated[str, AfterValidator(check_line)]
    measures: Annotated[str, AfterValidator(check_text)]
    # The heading of compact tables (`score`, the GitHub summary); the id when not given.
    short: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,23}$")] | None = None

    @property
    def heading(self) -> str:
        return self.short or self.id


class SeverityCutoffs(_Model):
    """A finding's severity from its answer's risk: at or above `high`, at or above `moderate`."""

    high: Risk = 0.75
    moderate: Risk = 0.4

    @model_validator(mode="after")
    def _ordered(self) -> SeverityCutoffs:
        if not 0.0 < self.moderate < self.high:
            raise ValueError("the cut-offs must rise: 0 < moderate < high <= 1 (answer risks)")
        return self


class BankFile(_Model):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    version: Annotated[str, AfterValidator(check_line)]
    title: Annotated[str, AfterValidator(check_text)]
    description: str = ""
    # Factories, not instances: an instance here would build both models' validators at import.
    rating_bands: RatingBands = Field(default_factory=RatingBands)
    red_flags: RedFlagPolicy = Field(default_factory=RedFlagPolicy)
    metrics: list[MetricSpec] | None = None  # None: DEFAULT_METRICS
    severity: SeverityCutoffs = Field(default_factory=SeverityCutoffs)

    @field_validator("metrics")
    @classmethod
    def _metric_ids(cls, v: list[MetricSpec] | None) -> list[MetricSpec] | None:
        if v is not None:
            if not v:
                raise ValueError("must list at least one metric (or be left out for the default)")
            ids = [m.id for m in v]
            twice = sorted({i for i in ids if ids.count(i) > 1})
            if twice:
                raise ValueError(f"metric ids must be unique: {', '.join(twice)} is used twice")
            if "none" in ids:
                raise ValueError("`none` is not a metric id: a question says `metric: none`")
        return v


def _default_metrics() -> list[MetricSpec]:
    return [
        MetricSpec.model_construct(id=i, title=t, measures=m, short=h)
        for i, t, m, h in DEFAULT_METRICS
    ]


_M = TypeVar("_M", bound=BaseModel)


class Section:
    """A section of the bank with its questions, in walkthrough order."""

    def __init__(self, spec: SectionSpec, questions: list[Question]) -> None:
        self.id = spec.id
        self.title = spec.title
        self.intro = spec.intro
        self.weight = spec.weight
        self.questions = questions


class Bank:
    """A validated question bank."""

    def __init__(self, meta: BankFile, sections: list[Section], sha256: str, path: str) -> None:
        self.id = meta.id
        self.version = meta.version
        self.title = meta.title
        self.description = meta.description
        self.rating_bands = meta.rating_bands
        self.red_flag_critical_at = meta.red_flags.critical_at
        self.metrics: list[MetricSpec] = (
            list(meta.metrics) if meta.metrics is not None else _default_metrics()
        )
        self.metric_by_id: dict[str, MetricSpec] = {m.id: m for m in self.metrics}
        self.severity = meta.severity
        self.defines_metrics = meta.metrics is not None
        self.sections = sections
        self.sha256 = sha256
        self.path = path
        self.questions: list[Question] = [q for s in sections for q in s.questions]
        self.by_id: dict[str, Question] = {q.id: q for q in self.questions}
        self.section_by_id: dict[str, Section] = {s.id: s for s in sections}


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


def default_bank_dir() -> Path:
    from ic_audit.resources import data_dir

    return data_dir("questions")


_BANK_CACHE: dict[str, Bank] = {}


def load_bank(directory: Path | str | None = None) -> Bank:
    """Load and validate a bank directory; raise UserError listing every problem.

    A valid bank is kept in memory for the process and on disk (`ic_audit.cache`), keyed by
    the exact bytes of its files: the next run that uses the same bank reads the validated
    bank back instead of parsing and checking the YAML again.
    """
    path = Path(directory) if directory is not None else default_bank_dir()
    key = str(path.resolve())
    if key in _BANK_CACHE:
        return _BANK_CACHE[key]
    with paused_gc():
        bank = _load_bank(path, str(directory) if directory is not None else "(built-in bank)")
    _BANK_CACHE[key] = bank
    return bank


def _load_bank(path: Path, display: str) -> Bank:
    if not path.exists():
        raise UserError.one(display, "no such bank directory; check --bank")
    if not path.is_dir():
        raise UserError.one(display, "is not a directory; --bank takes a bank directory")
    meta_path = path / "bank.yaml"
    if not meta_path.exists():  # anything else there (a FIFO) is refused when it is read
        raise UserError.one(
            display, "has no bank.yaml; a bank directory needs one (see docs/bank-format.md)"
        )
    files = sorted(p for p in path.glob("*.yaml") if p.name != "bank.yaml")
    if not files:
        raise UserError.one(display, "has no section files (*.yaml besides bank.yaml)")
    raw = _read_files(meta_path, files)
    if raw is None:  # something is unreadable: the full load below says what
        return _validate_bank(path, display, meta_path, files, {})
    sha256 = _bank_digest(meta_path, files, raw)
    cached = _cached_bank(sha256)
    if cached is not None:
        cached.path = display
        return cached
    bank = _validate_bank(path, display, meta_path, files, raw)
    _store_bank(bank)
    return bank


def _read_files(meta_path: Path, files: list[Path]) -> dict[Path, bytes] | None:
    try:
        return {file: read_bytes(file) for file in [meta_path, *files]}
    except UserError:
        return None


def _bank_digest(meta_path: Path, files: list[Path], raw: dict[Path, bytes]) -> str:
    """The bank's SHA-256 as reports print it: every file's name and exact bytes, in order."""
    digest = hashlib.sha256()
    digest.update(b"bank.yaml\0" + raw[meta_path] + b"\0")
    for file in files:
        digest.update(file.name.encode() + b"\0" + raw[file] + b"\0")
    return digest.hexdigest()


# The on-disk bank cache holds JSON, never code (see `ic_audit.cache`). An entry is trusted only
# after its key, its digest, the bank's SHA-256 and the exact shape and constraints of every
# field check out, and the rubric rules pass again; anything else is a miss and the bank is
# validated from its files. The models are then built without pydantic validation
# (`model_construct`), which is what makes a hit fast.
_CACHE_NAMESPACE = "bank-json"
_CACHE_FORMAT = "ic-audit-bank/1"


class _NotABank(Exception):
    """A cache entry that is not exactly what `_bank_to_data` writes."""


def _bank_cache_key(sha256: str) -> str:
    import pydantic
    import pydantic_core

    return cache.fingerprint(
        _CACHE_FORMAT,
        sha256,
        pydantic.VERSION,
        pydantic_core.__version__,
        cache.code_stamp(__name__, "ic_audit.loading", "ic_audit.cache", "yaml"),
    )


def _cached_bank(sha256: str) -> Bank | None:
    """The validated bank with these contents from the on-disk cache, if it has one."""
    payload = cache.read(_CACHE_NAMESPACE, _bank_cache_key(sha256)) if cache.enabled() else None
    if payload is None:
        return None
    import json

    try:
        return _bank_from_data(json.loads(payload), sha256)
    except Exception:  # damaged, foreign or tampered (deep nesting included): a miss
        return None


def _store_bank(bank: Bank) -> None:
    if not cache.enabled():
        return
    import json

    try:
        payload = json.dumps(_bank_to_data(bank), separators=(",", ":")).encode("ascii")
    except Exception:  # never let the cache break a run
        return
    cache.write(_CACHE_NAMESPACE, _bank_cache_key(bank.sha256), payload)


def _bank_to_data(bank: Bank) -> dict[str, Any]:
    meta = {
        "id": bank.id,
        "version": bank.version,
        "title": bank.title,
        "description": bank.description,
        "rating_bands": _model_data(bank.rating_bands),
        "red_flags": {"critical_at": bank.red_flag_critical_at},
        "metrics": _model_data(bank.metrics) if bank.defines_metrics else None,
        "severity": _model_data(bank.severity),
    }
    sections = [
        {
            "spec": {"id": s.id, "title": s.title, "intro": s.intro, "weight": s.weight},
            "questions": [_model_data(q) for q in s.questions],
        }
        for s in bank.sections
    ]
    return {"format": _CACHE_FORMAT, "sha256": bank.sha256, "meta": meta, "sections": sections}


def _model_data(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {name: _model_data(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, list):
        return [_model_data(v) for v in value]
    return value


def _bank_from_data(data: Any, sha256: str) -> Bank:
    _expect(isinstance(data, dict) and data.keys() == {"format", "sha256", "meta", "sections"})
    _expect(data["format"] == _CACHE_FORMAT and data["sha256"] == sha256)
    meta = _construct(BankFile, data["meta"])
    _expect(type(data["sections"]) is list)
    sections: list[Section] = []
    for item in data["sections"]:
        _expect(isinstance(item, dict) and item.keys() == {"spec", "questions"})
        spec = _construct(SectionSpec, item["spec"])
        _expect(type(item["questions"]) is list)
        questions = [_construct(Question, q) for q in item["questions"]]
        _expect(all(q.section == spec.id for q in questions))
        sections.append(Section(spec, questions))
    _expect(bool(sections) and len({s.id for s in sections}) == len(sections))
    bank = Bank(meta, sections, sha256, "")
    # The rules are pure checks on the built models: cheap next to parsing and validating the
    # YAML, and they keep an entry that was edited into an invalid bank from being used.
    blank = Document(name="(cache)", data={})
    try:
        _check_rubric(bank, {q.id: blank for q in bank.questions})
    except UserError:
        raise _NotABank from None
    return bank


def _expect(condition: bool) -> None:
    if not condition:
        raise _NotABank


def _construct(cls: type[_M], data: Any) -> _M:
    """An instance of ``cls`` from exactly its fields, each of exactly its declared type."""
    result: _M = _reader(cls)(data)
    return result


_Reader = Callable[[Any], Any]
_READERS: dict[type[BaseModel], _Reader] = {}


def _reader(cls: type[BaseModel]) -> _Reader:
    """A function that checks a model's data and builds it (made once per model: interpreting
    the annotations for every value would cost as much as validating)."""
    if cls in _READERS:
        return _READERS[cls]
    fields = tuple(
        (name, _compile(info.annotation, info.metadata)) for name, info in cls.model_fields.items()
    )
    names = {name for name, _ in fields}
    fast = cls.__pydantic_post_init__ is None and not cls.__private_attributes__

    def construct(values: dict[str, Any]) -> Any:
        if fast:
            # Every field is given, so the instance is its field values: restored the way
            # pickle and copy restore a model (`__setstate__`), faster than `model_construct`.
            model = cls.__new__(cls)
            model.__setstate__(
                {
                    "__dict__": values,
                    "__pydantic_fields_set__": set(names),
                    "__pydantic_extra__": None,
                    "__pydantic_private__": None,
                }
            )
            return model
        return cls.model_construct(**values)

    def read(value: Any) -> Any:
        if type(value) is not dict or value.keys() != names:
            raise _NotABank
        return construct({name: check(value[name]) for name, check in fields})

    _READERS[cls] = read
    return read


def _compile(tp: Any, metadata: Iterable[Any] = ()) -> _Reader:
    """A checker for values of type ``tp`` (a model, a list, a union, a literal, a scalar)."""
    import typing
    from types import NoneType, UnionType

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _compile(args[0], [*metadata, *args[1:]])
    if origin is typing.Union or origin is UnionType:
        options = [_compile(arg, metadata) for arg in args if arg is not NoneType]
        optional = NoneType in args

        def read_union(value: Any) -> Any:
            if value is None and optional:
                return None
            for option in options:
                try:
                    return option(value)
                except _NotABank:
                    continue
            raise _NotABank

        return read_union
    if origin is list:
        item = _compile(args[0])

        def read_list(value: Any) -> Any:
            if type(value) is not list:
                raise _NotABank
            return [item(v) for v in value]

        return read_list
    if origin is typing.Literal:
        allowed = frozenset(args)

        def read_literal(value: Any) -> Any:
            if type(value) is not str or value not in allowed:
                raise _NotABank
            return value

        return read_literal
    if tp in (str, bool, int, float):
        checks = _constraints(metadata)

        # JSON keeps int and float apart, as validation left them (a weight of 2 is 2.0).
        def read_scalar(value: Any) -> Any:
            if type(value) is not tp:
                raise _NotABank
            return value

        def read_checked(value: Any) -> Any:
            if type(value) is not tp or not all(check(value) for check in checks):
                raise _NotABank
            return value

        return read_checked if checks else read_scalar
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _reader(tp)
    raise TypeError(f"no cache reader for {tp!r}")  # a new field type: a miss until taught


def _constraints(metadata: Iterable[Any]) -> list[Callable[[Any], bool]]:
    import operator
    from functools import partial

    import annotated_types as at
    from pydantic.fields import FieldInfo

    checks: list[Callable[[Any], bool]] = []
    for m in metadata:
        if isinstance(m, FieldInfo):
            checks += _constraints(m.metadata)
        elif isinstance(m, at.Gt):
            checks.append(partial(_within, operator.gt, m.gt))
        elif isinstance(m, at.Ge):
            checks.append(partial(_within, operator.ge, m.ge))
        elif isinstance(m, at.Lt):
            checks.append(partial(_within, operator.lt, m.lt))
        elif isinstance(m, at.Le):
            checks.append(partial(_within, operator.le, m.le))
        elif isinstance(getattr(m, "pattern", None), str):
            checks.append(partial(_matches, re.compile(m.pattern)))
        elif isinstance(m, AfterValidator):
            checks.append(partial(_passes, m.func))
        else:
            raise TypeError(f"no cache check for {m!r}")  # a new constraint: a miss until taught
    return checks


def _within(op: Callable[[Any, Any], Any], limit: Any, value: Any) -> bool:
    return bool(op(value, limit))


def _passes(validator: Callable[..., Any], value: Any) -> bool:
    """A field's own after-validator (e.g. `check_line`): a cached value it refuses is a miss."""
    try:
        validator(value)
    except ValueError:
        return False
    return True


def _matches(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.fullmatch(value) is not None


def _validate_bank(
    path: Path, display: str, meta_path: Path, files: list[Path], raw: dict[Path, bytes]
) -> Bank:
    """Parse and check every file of the bank (bytes from ``raw`` when it has them)."""

    problems: list[Problem] = []

    def load(file: Path) -> Document:
        name = _display(display, file)
        doc = parse_document(raw[file], file, name) if file in raw else load_document(file, name)
        problems.extend(doc.problems)
        return doc

    digest = hashlib.sha256()

    meta_doc = load(meta_path)
    digest.update(b"bank.yaml\0" + meta_doc.raw + b"\0")
    meta: BankFile | None = None
    if not isinstance(meta_doc.data, dict):
        problems.append(Problem(meta_doc.name, "must be a mapping with id, version and title", 1))
    else:
        data = dict(meta_doc.data)
        if isinstance(data.get("version"), (int, float)) and not isinstance(
            data.get("version"), bool
        ):
            problems.append(
                Problem(
                    meta_doc.name,
                    f'version must be text; quote it: version: "{data["version"]}"',
                    meta_doc.line(("version",)),
                )
            )
        else:
            try:
                meta = BankFile.model_validate(data)
            except ValidationError as exc:
                problems.extend(pydantic_problems(exc, meta_doc))

    sections: list[Section] = []
    docs: dict[str, Document] = {}
    section_ids: set[str] = set()
    for file in files:
        try:
            doc = load(file)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        digest.update(file.name.encode() + b"\0" + doc.raw + b"\0")
        if not isinstance(doc.data, dict):
            problems.append(Problem(doc.name, "must be a mapping with section and questions", 1))
            continue
        try:
            parsed = SectionFile.model_validate(doc.data)
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, doc))
            continue
        if parsed.section.id in section_ids:
            problems.append(
                Problem(
                    doc.name,
                    f"section id {parsed.section.id!r} is used by another file",
                    doc.line(("section", "id")),
                )
            )
            continue
        section_ids.add(parsed.section.id)
        questions = [q.model_copy(update={"section": parsed.section.id}) for q in parsed.questions]
        for q in questions:
            docs[q.id] = doc
        sections.append(Section(parsed.section, questions))

    if problems or meta is None:
        raise UserError(problems)
    bank = Bank(meta, sections, digest.hexdigest(), display)
    _check_rubric(bank, docs)
    return bank


def _display(base: str, file: Path) -> str:
    if base.startswith("("):
        return f"questions/{file.name}"
    return str(Path(base) / file.name)


class _Reporter:
    """Reports a rule violation for one question at the line of the field concerned."""

    def __init__(self, doc: Document, qid: str, problems: list[Problem]) -> None:
        self.doc = doc
        self.qid = qid
        self.pos = _question_pos(doc, qid)
        self.problems = problems

    def __call__(self, msg: str, *path: str | int) -> None:
        line = self.doc.line(("questions", self.pos, *path)) if self.pos is not None else None
        self.problems.append(Problem(self.doc.name, msg, line, self.qid))


def _check_rubric(bank: Bank, docs: dict[str, Document]) -> None:
    """The rules scoring depends on; every violation is reported, with its line."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, q in enumerate(bank.questions):
        add = _Reporter(docs[q.id], q.id, problems)
        if not _ID_RE.fullmatch(q.id):
            add("id must start with a letter and hold only letters, digits, '_', '.', '-'", "id")
        if q.id in seen:
            add("id is used twice in the bank; ids must be unique", "id")
        seen[q.id] = index
        if q.metric is not None and q.metric not in bank.metric_by_id:
            add(
                f"metric {q.metric!r} is not one the bank defines; use one of "
                f"{', '.join(bank.metric_by_id)} or none",
                "metric",
            )
        _check_question(q, add)
        if q.when is not None:
            _check_when(q, bank, seen, add)
    if problems:
        raise UserError(problems)


def _question_pos(doc: Document, qid: str) -> int | None:
    items = doc.data.get("questions", []) if isinstance(doc.data, dict) else []
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == qid:
            return i
    return None


def _check_question(q: Question, add: _Reporter) -> None:
    if not q.scored:
        if q.options or q.bands:
            add(f"a {q.type} question is not scored; remove options/bands")
        if q.metric:
            add(f"a {q.type} question is not scored, so it cannot feed metric {q.metric}")
        return
    if not q.finding:
        add("a scored question needs `finding`: the title of what a risky answer reveals")
    if q.type in ("single", "yes_no", "multi"):
        _check_options(q, add)
    else:
        _check_bands(q, add)


def _check_options(q: Question, add: _Reporter) -> None:
    opts = q.options or []
    if q.bands or q.range or q.unit:
        add(f"a {q.type} question takes options, not bands/range/unit")
    if len(opts) < 2:
        add("needs at least two options", "options")
        return
    values = [o.value for o in opts]
    if len(set(values)) != len(values):
        add("option values must be unique", "options")
    if q.type == "yes_no":
        if sorted(values) != ["no", "yes"]:
            add('a yes_no question has exactly the options "yes" and "no"', "options")
    else:
        for i, o in enumerate(opts):
            if not _VALUE_RE.fullmatch(o.value) or o.value in _YAML_WORDS:
                add(
                    f"option value {o.value!r} must be a lower-case identifier and not a YAML "
                    "boolean or null word",
                    "options",
                    i,
                    "value",
                )
    if q.type != "multi":
        if q.scoring:
            add("`scoring` applies to multi questions only", "scoring")
        for i, o in enumerate(opts):
            if o.risk is None:
                add(f"option {o.value!r} needs a risk (0.0 to 1.0)", "options", i)
            if o.exclusive or o.weight is not None:
                add("`exclusive` and `weight` apply to multi questions only", "options", i)
    else:
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
    risks = [r for _, r in q.answer_space]
    if min(risks) != 0.0 or max(risks) != 1.0:
        add("the scale must be anchored: one answer with risk 0.0 and one with risk 1.0", "options")
    _check_advice(q, [(o, q.option_risk(o)) for o in opts], "options", add)


def _check_bands(q: Question, add: _Reporter) -> None:
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
        add("the scale must be anchored: one band with risk 0.0 and one with risk 1.0", "bands")
    _check_advice(q, [(b, b.risk) for b in bands], "bands", add)


def _check_advice(
    q: Question, parts: list[tuple[Option | Band, float]], key: str, add: _Reporter
) -> None:
    for i, (part, risk) in enumerate(parts):
        if risk > 0 and not (part.recommendation or q.recommendation):
            add("a risky answer needs a recommendation (on the option or the question)", key, i)
    for i, (part, risk) in enumerate(parts):
        if part.red_flag and risk == 0.0:
            add("a red flag cannot sit on an answer with risk 0.0", key, i)
    flagged = [r for p, r in parts if p.red_flag]
    if flagged:
        lowest = min(flagged)
        for i, (part, risk) in enumerate(parts):
            if risk > lowest and not part.red_flag:
                add(
                    "red flags must point upward: this answer is riskier than a red-flag "
                    "answer, so it must be a red flag too",
                    key,
                    i,
                )


def _check_when(q: Question, bank: Bank, seen: dict[str, int], add: _Reporter) -> None:
    w = q.when
    assert w is not None
    parent = bank.by_id.get(w.question)
    if parent is None:
        add(f"when: no question {w.question!r} in the bank", "when")
        return
    if w.question not in seen or w.question == q.id:
        add(f"when: {w.question} must come before {q.id} in the bank", "when")
        return
    if not parent.scored:
        add(f"when: {w.question} is a {parent.type} question; conditions need a scored one", "when")
        return
    if (w.in_ is None) == (w.at_least is None):
        add("when: give exactly one of `in` (a list of values) or `at_least` (a number)", "when")
        return
    if parent.type == "number":
        if w.at_least is None:
            add(f"when: {w.question} is a number; use at_least", "when")
            return
        inside = [r for v, r in parent.answer_space_split(w.at_least, True)]
        outside = [r for v, r in parent.answer_space_split(w.at_least, False)]
    else:
        if w.in_ is None:
            add(f"when: {w.question} has options; use in: [values]", "when")
            return
        unknown = [v for v in w.in_ if v not in parent.option_map]
        if unknown:
            add(
                f"when: {', '.join(map(str, unknown))} not among the options of {w.question}",
                "when",
            )
            return
        opts = parent.options or []
        inside = [parent.option_risk(o) for o in opts if o.value in w.in_]
        outside = [parent.option_risk(o) for o in opts if o.value not in w.in_]
    if inside and outside and max(outside) > min(inside):
        add(
            "when: the condition must point upward in risk: every answer that makes this "
            "follow-up apply must be at least as risky as every answer that does not",
            "when",
        )
