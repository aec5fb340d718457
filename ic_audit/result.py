"""The scored audit: the one data shape every report format renders.

Its JSON form is the contract of `score --format json` and `report --format json`; templates
receive the same data (``model_dump(mode="json")``), so every format shows the same numbers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Rating = Literal["low", "moderate", "high", "critical"]
RATINGS: tuple[Rating, ...] = ("low", "moderate", "high", "critical")
Status = Literal["answered", "unanswered", "not_applicable"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ToolInfo(_Out):
    name: str
    version: str


class RatingBands(_Out):
    """Lower bounds (inclusive) of each rating on the 0-100 score."""

    moderate: float
    high: float
    critical: float


class BankInfo(_Out):
    id: str
    version: str
    title: str
    sha256: str
    rating_bands: RatingBands
    red_flag_critical_at: int


class Overall(_Out):
    score: float
    rating: Rating
    score_rating: Rating
    escalated_by: str | None


class SectionResult(_Out):
    id: str
    title: str
    score: float
    rating: Rating
    weight: float
    questions: int
    answered: int
    unanswered: int
    not_applicable: int
    red_flags: int


class MetricResult(_Out):
    id: str
    title: str
    score: float
    rating: Rating
    questions: int
    answered: int
    red_flags: int


class RedFlag(_Out):
    question_id: str
    reason: str
    section: str
    metric: str | None
    answer: str
    line: int | None


class Finding(_Out):
    question_id: str
    severity: Rating
    title: str
    recommendation: str
    section: str
    metric: str | None
    answer: str
    risk: float
    points: float
    line: int | None


class Contribution(_Out):
    question_id: str
    text: str
    answer: str
    status: Status
    weight: float
    risk: float
    points: float


class Why(_Out):
    """Where a score comes from: points = 100 x weight x risk / total weight."""

    score: float
    total_weight: float
    top: list[Contribution]
    others_points: float


class Evidence(_Out):
    text: str
    href: str | None


class AnswerRow(_Out):
    question_id: str
    section: str
    type: str
    text: str
    required: bool
    status: Status
    value: Any
    display: str
    note: str | None
    evidence: list[Evidence]
    risk: float | None
    points: float | None
    red_flag: str | None


class Counts(_Out):
    questions: int
    applicable: int
    answered: int
    unanswered: int
    not_applicable: int


class AuditResult(_Out):
    tool: ToolInfo
    answers_file: str
    system: dict[str, Any]
    auditor: dict[str, Any] | None
    audit_date: str | None
    bank: BankInfo
    answers_sha256: str
    overall: Overall
    metrics: dict[str, MetricResult]
    sections: list[SectionResult]
    red_flags: list[RedFlag]
    findings: list[Finding]
    unanswered: list[str]
    not_applicable: list[str]
    complete: bool
    counts: Counts
    why: dict[str, Why]
    answers: list[AnswerRow]
    warnings: list[str]


def rating_rank(rating: Rating | str) -> int:
    return RATINGS.index(rating)
