"""The bank's file format: pydantic models of a question, `bank.yaml` and the section files,
the risk arithmetic of one answer (`Question.risk`), and `Section`/`Bank`, the validated bank in
memory. The parts a question is made of (options, bands, conditions) are `question_parts`."""

import math
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from ic_audit.bank.measured_by import MeasuredBy
from ic_audit.bank.question_parts import (
    Band,
    EvidenceTag,
    FileModel,
    NumberRange,
    Option,
    RatingName,
    Replacement,
    Risk,
    Role,
    When,
)
from ic_audit.bank.values import _fmt_num
from ic_audit.limits import TEXT_ANSWER_MAX_CEILING, TEXT_ANSWER_MAX_DEFAULT
from ic_audit.loading import check_line, check_text

if TYPE_CHECKING:
    from ic_audit.qtypes import QuestionType

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


# What a question measures (bank 2.0): the system's reach, what the team does, or what the
# system was seen doing. Scored apart and combined like impact and likelihood (docs/rubric.md).
_TYPES: dict[str, "QuestionType"] = {}


def _type_registry() -> dict[str, "QuestionType"]:
    # Imported on first use, not at the top: the registry's modules build on this one. The
    # registry itself, not a copy: a type registered later is seen.
    global _TYPES
    from ic_audit.qtypes import TYPES

    _TYPES = TYPES
    return TYPES


def _known_type(name: Any) -> Any:
    # The registry is imported here, not at the top: its modules build on this one.
    from ic_audit.qtypes import known_type

    return known_type(name)


class AnswerFacts(NamedTuple):
    """What one valid answer value means for scoring (`Question.facts`)."""

    risk: float
    red_flag: str | None
    display: str
    title: str  # the finding's title, were the answer risky
    recommendation: str
    evidence: tuple[EvidenceTag, ...]  # the tags of the options or band it chose
    not_applicable: bool  # it declares that the question does not apply


class Question(FileModel):
    id: str
    type: Annotated[str, AfterValidator(_known_type)]  # a name in `qtypes.TYPES`
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
    max_length: Annotated[int, Field(gt=0, le=TEXT_ANSWER_MAX_CEILING)] = TEXT_ANSWER_MAX_DEFAULT
    past: bool = True  # a `date` records something that happened: not after the audit date
    when: When | None = None
    replaces: list[Replacement] = Field(default_factory=list)
    section: str = ""
    role: Role | None = None  # required in a bank with `exposure` (a rubric rule); else control
    # The figure computed from operational evidence that answers this question (ic_audit.measure).
    measured_by: MeasuredBy | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _type_name(cls, v: Any) -> Any:
        # Before pydantic's own str check, so `type: 5` is told the allowed types too.
        return _known_type(v)

    @field_validator("metric", mode="before")
    @classmethod
    def _metric_none(cls, v: Any) -> Any:
        return None if v in ("none", "", None) else v

    # A question is frozen, so what follows from its fields alone is worked out once (scoring
    # asks each of these for every question of every audit).
    @cached_property
    def kind(self) -> "QuestionType":
        """The question's type: everything that depends on `type` is asked of it."""
        return (_TYPES or _type_registry())[self.type]

    @cached_property
    def scored(self) -> bool:
        return self.kind.scored

    @cached_property
    def role_or_default(self) -> Role:
        return self.role or "control"

    def facts(self, value: Any) -> AnswerFacts:
        """What a valid, normalised answer value means for scoring; worked out once per value
        for the types whose values repeat (`QuestionType.facts_key`)."""
        key = self.kind.facts_key(value)
        if key is None:
            return self._facts(value)
        memo = self._facts_memo
        facts = memo.get(key)
        if facts is None:
            facts = memo[key] = self._facts(value)
        return facts

    @cached_property
    def _facts_memo(self) -> dict[Any, AnswerFacts]:
        return {}

    def _facts(self, value: Any) -> AnswerFacts:
        kind = self.kind
        parts = kind.advice_parts(self, value)
        title = next((p.finding for p in parts if p.finding), None) or self.finding or self.text
        # The riskiest chosen part's advice, else the question's: never a lesser option's, which
        # would answer a smaller problem than the one found.
        rec = parts[0].recommendation if parts else None
        return AnswerFacts(
            risk=kind.risk(self, value),
            red_flag=kind.red_flag(self, value),
            display=kind.display(self, value),
            title=title,
            recommendation=rec or self.recommendation or "",
            evidence=tuple(p.evidence for p in parts if p.evidence is not None),
            not_applicable=any(_declares(p) for p in parts),
        )

    @cached_property
    def can_declare_not_applicable(self) -> bool:
        """Whether some answer declares the question does not apply: an option or band is
        marked `not_applicable`."""
        return any(_declares(p) for p in (*(self.options or []), *(self.bands or [])))

    def evidence_for(self, value: Any) -> list[EvidenceTag]:
        """The evidence tags of the options or band a valid answer value chose."""
        return list(self.facts(value).evidence)

    def declares_not_applicable(self, value: Any) -> bool:
        """Whether a valid answer value is the team's declaration that the question does not
        apply (an option marked `not_applicable`)."""
        return self.facts(value).not_applicable

    @cached_property
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
        return self.kind.option_risk(self, option)

    def value_risk(self, value: Any) -> float:
        """Risk in [0, 1] of a valid, normalised answer value."""
        return self.kind.risk(self, value)

    def band_for(self, x: float) -> Band:
        for band in self.bands or []:
            if band.contains(x):
                return band
        raise ValueError(f"no band holds {x}")  # prevented by validation

    def red_flag_for(self, value: Any) -> str | None:
        return self.kind.red_flag(self, value)

    def advice_for(self, value: Any) -> tuple[str, str]:
        """(finding title, recommendation) for a risky answer."""
        facts = self.facts(value)
        return facts.title, facts.recommendation

    @cached_property
    def answer_space(self) -> list[tuple[Any, float]]:
        """Representative valid answers with their risk: every option, or one value per band."""
        return self.kind.answer_space(self)

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

    @cached_property
    def max_risk(self) -> float:
        space = self.answer_space
        return max(r for _, r in space) if space else 0.0

    # The one place an answer value typed anywhere (file or prompt) becomes a clean value.
    def coerce(self, raw: Any) -> Any:
        """Validate and normalise one answer value; raise ValueError with a user message."""
        return self.kind.coerce(self, raw)

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
        return self.kind.display(self, value)


class SectionSpec(FileModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    title: str
    intro: str = ""
    weight: Annotated[float, Field(gt=0, le=10)] = 1.0


class SectionFile(FileModel):
    section: SectionSpec
    questions: list[Question]


class RatingBands(FileModel):
    moderate: Annotated[float, Field(ge=0, le=100)] = 25.0
    high: Annotated[float, Field(ge=0, le=100)] = 50.0
    critical: Annotated[float, Field(ge=0, le=100)] = 75.0

    @model_validator(mode="after")
    def _ordered(self) -> "RatingBands":
        if not self.moderate < self.high < self.critical:
            raise ValueError(
                "the thresholds must rise: moderate below high below critical (scores 0 to 100)"
            )
        return self


class RedFlagPolicy(FileModel):
    critical_at: Annotated[int, Field(ge=1)] = 3
    # Any red flag lifts the overall rating to at least `floor`; at a bank's lowest exposure
    # level only to `floor_at_lowest_exposure` (None: `floor`), however many there are.
    floor: RatingName = "high"
    floor_at_lowest_exposure: RatingName | None = None
    # An answer tagged `uncontained` lifts the overall rating to at least this.
    uncontained_floor: RatingName = "high"


class ExposureLevel(FileModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    # Exclusive upper bound on the 0-100 exposure score; the last level leaves it out.
    below: Annotated[float, Field(gt=0, le=100)] | None = None
    title: Annotated[str, AfterValidator(check_line)]
    description: Annotated[str, AfterValidator(check_text)] = ""
    # The overall rating is at least this at this level (wide reach is never `low`).
    rating_floor: RatingName | None = None


class Exposure(FileModel):
    """How far the system reaches, from the `profile` questions (bank 2.0)."""

    # impact = impact_floor + (1 - impact_floor) x exposure
    impact_floor: Risk
    levels: list[ExposureLevel]

    @model_validator(mode="after")
    def _ordered(self) -> "Exposure":
        levels = self.levels
        if not levels:
            raise ValueError("list at least one exposure level, lowest first")
        ids = [lv.id for lv in levels]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"exposure level ids must be unique: {twice[0]} is used twice")
        if levels[-1].below is not None:
            raise ValueError(
                f"the last exposure level ({levels[-1].id}) leaves out `below`: it holds every "
                "score above the others"
            )
        bounds: list[float] = []
        for lv in levels[:-1]:
            if lv.below is None:
                raise ValueError(f"exposure level {lv.id} needs `below` (only the last has none)")
            if bounds and lv.below <= bounds[-1]:
                raise ValueError(
                    f"exposure levels go lowest first: `below` of {lv.id} must be above "
                    f"{_fmt_num(bounds[-1])}"
                )
            bounds.append(lv.below)
        rank = ("low", "moderate", "high", "critical")
        floors = [rank.index(lv.rating_floor or "low") for lv in levels]
        for i in range(1, len(levels)):
            if floors[i] < floors[i - 1]:
                lv = levels[i]
                raise ValueError(
                    f"rating floors must not decrease with exposure: {lv.id} has a lower "
                    "rating_floor than the level before it"
                )
        return self

    def level_for(self, score: float) -> ExposureLevel:
        """The first level whose `below` exceeds the 0-100 exposure score."""
        for lv in self.levels:
            if lv.below is None or score < lv.below:
                return lv
        return self.levels[-1]


class MetricSpec(FileModel):
    """A key metric the bank defines: scored over the questions that name it."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    title: Annotated[str, AfterValidator(check_line)]
    measures: Annotated[str, AfterValidator(check_text)]
    # The heading of compact tables (`score`, the GitHub summary); the id when not given.
    short: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,23}$")] | None = None

    @property
    def heading(self) -> str:
        return self.short or self.id


class SeverityCutoffs(FileModel):
    """A finding's severity from its answer's risk: at or above `high`, at or above `moderate`."""

    high: Risk = 0.75
    moderate: Risk = 0.4

    @model_validator(mode="after")
    def _ordered(self) -> "SeverityCutoffs":
        if not 0.0 < self.moderate < self.high:
            raise ValueError("the cut-offs must rise: 0 < moderate < high <= 1 (answer risks)")
        return self


class BankFile(FileModel):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    version: Annotated[str, AfterValidator(check_line)]
    title: Annotated[str, AfterValidator(check_text)]
    description: str = ""
    # Factories, not instances: an instance here would build both models' validators at import.
    rating_bands: RatingBands = Field(default_factory=RatingBands)
    red_flags: RedFlagPolicy = Field(default_factory=RedFlagPolicy)
    metrics: list[MetricSpec] | None = None  # None: DEFAULT_METRICS
    severity: SeverityCutoffs = Field(default_factory=SeverityCutoffs)
    exposure: Exposure | None = None  # None: no profile, impact 1 (the 1.x arithmetic)
    # Days from one audit to the next (None: quarterly, 91); an answers file may set its own.
    reassess_days: Annotated[int, Field(gt=0, le=3660)] | None = None

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


class Section:
    """A section of the bank with its questions, in walkthrough order."""

    def __init__(self, spec: SectionSpec, questions: list[Question]) -> None:
        self.id = spec.id
        self.title = spec.title
        self.intro = spec.intro
        self.weight = spec.weight
        self.questions = questions


def _declares(part: Any) -> bool:
    return bool(getattr(part, "not_applicable", False))


class Bank:
    """A validated question bank."""

    def __init__(self, meta: BankFile, sections: list[Section], sha256: str, path: str) -> None:
        self.id = meta.id
        self.version = meta.version
        self.title = meta.title
        self.description = meta.description
        self.rating_bands = meta.rating_bands
        self.red_flag_critical_at = meta.red_flags.critical_at
        self.red_flags = meta.red_flags
        self.exposure = meta.exposure
        self.reassess_days = meta.reassess_days
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
        # Asked of every audit scored (ic_audit.measure): the questions a figure from evidence
        # can answer, and by metric those whose answers feed it (the profile sets every
        # metric's impact, not one metric's inputs).
        self.measured_questions = [q for q in self.questions if q.measured_by is not None]
        self.follow_ups = [q for q in self.questions if q.when is not None]
        # Asked of every answers file loaded (ic_audit.answers): the questions whose answer can
        # declare "does not apply" (and then needs a note), and those whose type checks a value
        # against the audit's date.
        self.declarable = frozenset(q.id for q in self.questions if q.can_declare_not_applicable)
        self.dated = frozenset(q.id for q in self.questions if q.kind.checks_dates)
        self.metric_inputs: dict[str, list[Question]] = {}
        for q in self.questions:
            if q.metric is None or not q.scored:
                continue
            if self.exposure is not None and q.role_or_default == "profile":
                continue
            self.metric_inputs.setdefault(q.metric, []).append(q)
        self.section_by_id: dict[str, Section] = {s.id: s for s in sections}
