"""The arithmetic of a score, answer by answer: what `scoring` builds for each question (its
effective weight, risk, status, red flag) and the bank 2.0 risk model over them (impact x
likelihood from the profile, control and observation questions, and each answer's points).

`scoring` owns the result it builds from these: ratings, floors, findings and the "why".
"""

from __future__ import annotations

from typing import Any

from ic_audit.answers import Answer
from ic_audit.bank import ROLES, Bank, Question
from ic_audit.bank.schema import AnswerFacts
from ic_audit.result import Rating, Status


class Scored:
    """One question of an audit as scored: its effective weight, status, risk and red flag."""

    __slots__ = (
        "answer",
        "display",
        "effective",
        "facts",
        "points",
        "question",
        "red_flag",
        "required",
        "risk",
        "scored",
        "shown_points",
        "status",
        "value",
    )

    def __init__(self, question: Question, effective: float) -> None:
        self.question = question
        self.effective = effective
        self.scored = question.scored
        self.required = question.is_required
        self.status: Status = "answered"
        self.risk = 0.0
        self.answer: Answer | None = None  # as the file (or the evidence) gives it
        self.value: Any = None
        self.facts: AnswerFacts | None = None  # what the answer's value means, when answered
        self.display = ""
        self.red_flag: str | None = None
        self.points = 0.0  # its share of the overall score (scored questions)
        self.shown_points = 0.0  # that share as reports show it, to 2 decimals


class Model2:
    """Bank 2.0 arithmetic (BANK2-SPEC, docs/rubric.md): E, G, O are the weighted mean risks of
    the profile, control and observation questions; impact I = floor + (1 - floor) E;
    likelihood L = 1 - (1 - G)(1 - O); overall = 100 I L.

    Points (the "why" of a score) split 100 I L = 100 I G + 100 I (1 - G) O exactly: a control
    answer gets 100 I e r / W_control, an observation answer 100 I (1 - G) e r / W_observation.
    The profile scales all of them through I; a profile answer's points are its share of the
    exposure score, 100 e r / W_profile."""

    def __init__(self, bank: Bank, scored: list[Scored]) -> None:
        exposure = bank.exposure
        assert exposure is not None
        self.metric_parts: dict[str, dict[str, float]] = {}
        self.roles: dict[str, list[Scored]] = {role: [] for role in ROLES}
        for r in scored:
            self.roles[r.question.role_or_default].append(r)
        self.weights = {role: self.weight_of(items) for role, items in self.roles.items()}
        self.means = {role: self._mean(items) for role, items in self.roles.items()}
        self.role_scores = {role: round(100.0 * m, 1) for role, m in self.means.items()}
        e, g, o = self.means["profile"], self.means["control"], self.means["observation"]
        self.impact = exposure.impact_floor + (1.0 - exposure.impact_floor) * e
        self.likelihood = 1.0 - (1.0 - g) * (1.0 - o)
        self.control_points = 100.0 * self.impact * g
        self.observation_points = 100.0 * self.impact * (1.0 - g) * o
        self.score = round(100.0 * self.impact * self.likelihood, 1)
        self.e_score = self.role_scores["profile"]
        self.level = exposure.level_for(self.e_score)
        self.lowest = self.level.id == exposure.levels[0].id
        rf = bank.red_flags
        self.flag_floor: Rating = (
            (rf.floor_at_lowest_exposure or rf.floor) if self.lowest else rf.floor
        )

    @staticmethod
    def weight_of(items: list[Scored]) -> float:
        return sum(r.effective for r in items)

    def _mean(self, items: list[Scored]) -> float:
        weight = self.weight_of(items)
        return sum(r.effective * r.risk for r in items) / weight if weight else 0.0

    def points(self, r: Scored) -> float:
        role = r.question.role_or_default
        weight = self.weights[role]
        if not weight:
            return 0.0
        share = r.effective * r.risk / weight
        if role == "profile":
            return 100.0 * share
        if role == "control":
            return 100.0 * self.impact * share
        return 100.0 * self.impact * (1.0 - self.means["control"]) * share

    def metric(self, metric_id: str, items: list[Scored]) -> tuple[float, Any]:
        """A metric's score, 100 I L_m, and its points (split like the overall score)."""
        control = [r for r in items if r.question.role_or_default == "control"]
        observed = [r for r in items if r.question.role_or_default == "observation"]
        wg, wo = self.weight_of(control), self.weight_of(observed)
        g, o = self._mean(control), self._mean(observed)
        impact = self.impact
        self.metric_parts[metric_id] = {
            "control_gap": round(g, 4),
            "observed": round(o, 4),
            "likelihood": round(1.0 - (1.0 - g) * (1.0 - o), 4),
        }

        def points(r: Scored) -> float:
            if r.question.role_or_default == "control":
                return 100.0 * impact * r.effective * r.risk / wg if wg else 0.0
            return 100.0 * impact * (1.0 - g) * r.effective * r.risk / wo if wo else 0.0

        return round(100.0 * impact * (1.0 - (1.0 - g) * (1.0 - o)), 1), points
