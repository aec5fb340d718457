"""The scored audit: the one data shape every report format renders.

Its JSON form is the contract of `score --format json` and `report --format json`; templates
receive the same data (``model_dump(mode="json")``), so every format shows the same numbers.
"""

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
    # Figures computed from the audit's operational evidence (ic_audit.measure); None without.
    measured: Any = None


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


class ExposureResult(_Out):
    """Bank 2.0: how far the system reaches, from its profile answers."""

    level: str
    title: str
    description: str
    score: float  # 100 x E
    rating_floor: Rating | None
    impact: float  # impact_floor + (1 - impact_floor) x E


class RoleResult(_Out):
    score: float
    rating: Rating
    questions: int


class RatingFloor(_Out):
    rating: Rating
    reason: str


class MetricModel(_Out):
    control_gap: float  # G_m
    observed: float  # O_m
    likelihood: float  # L_m = 1 - (1 - G_m)(1 - O_m)


class RiskModel(_Out):
    """Bank 2.0: the figures of overall = 100 x impact x likelihood (docs/rubric.md).

    The overall score splits exactly into `control_points` (100 x I x G) and
    `observation_points` (100 x I x (1 - G) x O); `floors` are the rating floors that applied."""

    impact_floor: float
    exposure: float
    control_gap: float
    observed: float
    impact: float
    likelihood: float
    control_points: float
    observation_points: float
    floors: list[RatingFloor]
    metrics: dict[str, MetricModel]
    red_flag_floor: Rating
    red_flag_floor_at_lowest: Rating
    uncontained_floor: Rating


class DeclaredNotApplicable(_Out):
    """An answer declaring its question does not apply: listed for a reviewer."""

    question_id: str
    text: str
    answer: str
    note: str
    line: int | None


# Present only for a bank with `exposure` (or with a declared-not-applicable answer), so a
# 1.x bank's result keeps exactly its old shape.
MODEL_2_KEYS = ("exposure", "roles", "risk_model", "declared_not_applicable")


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
    exposure: ExposureResult | None = None
    roles: dict[str, RoleResult] | None = None
    risk_model: RiskModel | None = None
    declared_not_applicable: list[DeclaredNotApplicable] | None = None
    # The next reassessment and the auditor's independence (ic_audit.cadence).
    reassessment: dict[str, Any] | None = None
    # Present with operational evidence: measured answers, drill table, series (ic_audit.measure).
    evidence: dict[str, Any] | None = None

    def to_data(self) -> dict[str, Any]:
        """The JSON form: the model's fields, without the 2.0 ones a 1.x bank does not have,
        and without `measured` and `evidence` for an audit without evidence."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude=self._absent())
        return data

    def json_text(self) -> str:
        """`to_data` as JSON text with two-space indents, written by pydantic's serializer (a
        fifth of the time of building `to_data` and writing it with the json module). The text
        is `json.dumps(to_data(), indent=2, ensure_ascii=False)`'s but for small floats and
        infinity, each the same number: one from 1e-5 up to 1e-4 is written in full digits
        (0.00002, not 2e-05), one from 1e-9 up to 1e-5 with a one-digit exponent (1e-7, not
        1e-07), and an infinite one null rather than the non-JSON Infinity. A text that cannot
        be UTF-8 (a file name that is not) raises `ValueError`: the caller writes `to_data`
        instead."""
        return self.model_dump_json(indent=2, exclude=self._absent())

    def _absent(self) -> dict[str, Any]:
        """The optional keys this result leaves out (see `to_data`), as pydantic's `exclude`."""
        absent: dict[str, Any] = {
            key: True
            for key in (*MODEL_2_KEYS, "reassessment", "evidence")
            if getattr(self, key) is None
        }
        unmeasured = {mid: {"measured"} for mid, m in self.metrics.items() if m.measured is None}
        if unmeasured:
            absent["metrics"] = unmeasured
        return absent


def rating_rank(rating: Rating | str) -> int:
    return RATINGS.index(rating)


def held_note(rating: str, score_rating: str | None, escalated_by: str | None) -> str | None:
    """Why a rating sits above its score's band ("held at high by 1 red flag"), or None when
    the score alone gives it: a reader seeing "high (score 48.4)" otherwise cannot tell why."""
    if not escalated_by or rating == score_rating:
        return None
    return f"held at {rating} by {escalated_by}"
