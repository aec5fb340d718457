"""Scoring: answers + bank -> risk scores, ratings, red flags and findings.

The model, written out with a worked example in docs/rubric.md:

- Each scored question q has an effective weight e(q) = question weight x section weight and a
  risk r(q) in [0, 1]: the answer's risk; the riskiest answer's risk if it is required and
  unanswered (nothing shows otherwise); 0 if it does not apply or is optional and unanswered.
- A score is 100 x sum(e x r) / sum(e) over the questions it covers: all of them (overall), one
  section's, or one metric's. Questions that do not apply keep their weight in the denominator,
  so a follow-up that starts to apply can only raise a score.
- The metrics are the bank's (`metrics` in bank.yaml; three standard ones when it defines
  none); a finding's severity comes from its risk and the bank's `severity` cut-offs.
- Ratings come from the rounded score and the bank's bands; red flags escalate: any red flag
  lifts the overall rating (and its section's and metric's) to at least high, and
  `critical_at` red flags lift the overall rating to critical.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ic_audit import __version__
from ic_audit.answers import Audit
from ic_audit.bank import Bank, Question, SeverityCutoffs
from ic_audit.gc_pause import paused_gc
from ic_audit.result import (
    RATINGS,
    AuditResult,
    Evidence,
    Rating,
    Status,
    rating_rank,
)

TOP_CONTRIBUTIONS = 5
_LINK_SCHEMES = {"http", "https", "mailto"}
# What a link never holds: white space (what str.isspace calls space: `\s` is the same set for
# str patterns), control characters below 32, and quotes or brackets that could break out.
_NOT_IN_LINK = re.compile(r"[\s\x00-\x1f<>\"'`]")


def rating_for(score: float, bank: Bank) -> Rating:
    bands = bank.rating_bands
    if score >= bands.critical:
        return "critical"
    if score >= bands.high:
        return "high"
    if score >= bands.moderate:
        return "moderate"
    return "low"


def _at_least(rating: Rating, floor: Rating) -> Rating:
    return rating if rating_rank(rating) >= rating_rank(floor) else floor


def severity_for(risk: float, red_flag: bool, cutoffs: SeverityCutoffs) -> Rating:
    if red_flag:
        return "critical"
    if risk >= cutoffs.high:
        return "high"
    if risk >= cutoffs.moderate:
        return "moderate"
    return "low"


def applicability(bank: Bank, audit: Audit) -> dict[str, bool]:
    """Which questions apply. A follow-up applies until the answer it depends on rules it out."""
    applies: dict[str, bool] = {}
    for q in bank.questions:
        w = q.when
        if w is None:
            applies[q.id] = True
            continue
        if not applies.get(w.question, True):
            applies[q.id] = False
            continue
        parent_answer = audit.answers.get(w.question)
        if parent_answer is None or parent_answer.value is None:
            applies[q.id] = True
            continue
        value = parent_answer.value
        if w.at_least is not None:
            applies[q.id] = value >= w.at_least
        elif isinstance(value, list):
            applies[q.id] = any(v in (w.in_ or []) for v in value)
        else:
            applies[q.id] = value in (w.in_ or [])
    return applies


class _Scored:
    __slots__ = (
        "display",
        "effective",
        "question",
        "red_flag",
        "required",
        "risk",
        "scored",
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
        self.value: Any = None
        self.display = ""
        self.red_flag: str | None = None


@paused_gc()
def score_audit(bank: Bank, audit: Audit) -> AuditResult:
    applies = applicability(bank, audit)
    rows: list[_Scored] = []
    for section in bank.sections:
        for q in section.questions:
            item = _Scored(q, q.weight * section.weight)
            answer = audit.answers.get(q.id)
            if answer is not None and answer.value is not None:
                item.value = answer.value
                item.display = q.display(answer.value)
            if not applies[q.id]:
                item.status = "not_applicable"
            elif item.value is None:
                item.status = "unanswered"
                if item.scored and item.required:
                    item.risk = q.max_risk
            elif item.scored:
                item.risk = q.value_risk(item.value)
                item.red_flag = q.red_flag_for(item.value)
            rows.append(item)

    scored = [r for r in rows if r.scored]
    total = sum(r.effective for r in scored)

    def points(r: _Scored, denominator: float) -> float:
        return 100.0 * r.effective * r.risk / denominator if denominator else 0.0

    def score_of(items: list[_Scored]) -> float:
        weight = sum(r.effective for r in items)
        if not weight:
            return 0.0
        return round(100.0 * sum(r.effective * r.risk for r in items) / weight, 1)

    red_flags = [
        {
            "question_id": r.question.id,
            "reason": r.red_flag,
            "section": r.question.section,
            "metric": r.question.metric,
            "answer": r.display,
            "line": audit.lines.get(r.question.id),
        }
        for r in rows
        if r.red_flag
    ]

    overall_score = score_of(scored)
    score_rating = rating_for(overall_score, bank)
    rating = score_rating
    escalated_by: str | None = None
    if len(red_flags) >= bank.red_flag_critical_at:
        rating = "critical"
    elif red_flags:
        rating = _at_least(rating, "high")
    if rating != score_rating:
        n = len(red_flags)
        escalated_by = f"{n} red flag{'s' if n != 1 else ''}"

    by_section: dict[str, list[_Scored]] = {section.id: [] for section in bank.sections}
    for r in rows:
        by_section.setdefault(r.question.section, []).append(r)
    sections: list[dict[str, Any]] = []
    for section in bank.sections:
        items = by_section[section.id]
        s_scored = [r for r in items if r.scored]
        s_score = score_of(s_scored)
        flags = sum(1 for r in items if r.red_flag)
        s_rating = rating_for(s_score, bank)
        if flags:
            s_rating = _at_least(s_rating, "high")
        sections.append(
            {
                "id": section.id,
                "title": section.title,
                "score": s_score,
                "rating": s_rating,
                "weight": section.weight,
                "questions": len(items),
                "answered": sum(1 for r in items if r.status == "answered" and r.value is not None),
                "unanswered": sum(1 for r in items if r.status == "unanswered" and r.required),
                "not_applicable": sum(1 for r in items if r.status == "not_applicable"),
                "red_flags": flags,
            }
        )

    metrics: dict[str, dict[str, Any]] = {}
    why: dict[str, dict[str, Any]] = {"overall": _why(scored, total, overall_score, points)}
    by_metric: dict[str | None, list[_Scored]] = {m.id: [] for m in bank.metrics}
    for r in scored:
        by_metric.setdefault(r.question.metric, []).append(r)
    for spec in bank.metrics:
        metric = spec.id
        items = by_metric[metric]
        m_score = score_of(items)
        flags = sum(1 for r in items if r.red_flag)
        m_rating = rating_for(m_score, bank)
        if flags:
            m_rating = _at_least(m_rating, "high")
        metrics[metric] = {
            "id": metric,
            "title": spec.title,
            "score": m_score,
            "rating": m_rating,
            "questions": len(items),
            "answered": sum(1 for r in items if r.status == "answered"),
            "red_flags": flags,
        }
        why[metric] = _why(items, sum(r.effective for r in items), m_score, points)

    findings = _findings(scored, total, points, audit.lines, bank.severity)
    unanswered = [r.question.id for r in rows if r.status == "unanswered" and r.required]
    not_applicable = [r.question.id for r in rows if r.status == "not_applicable"]
    answered_count = sum(1 for r in rows if r.status == "answered")
    meta = audit.meta
    bands = bank.rating_bands
    # Plain data, validated into the result models in one call: the same validation as
    # building each model in turn, without a Python call per finding and answer.
    return AuditResult.model_validate(
        {
            "tool": {"name": "ic-audit", "version": __version__},
            "answers_file": audit.file,
            "system": meta.system.model_dump(exclude_none=True),
            "auditor": meta.auditor.model_dump(exclude_none=True) if meta.auditor else None,
            "audit_date": meta.audit_date.isoformat() if meta.audit_date else None,
            "bank": {
                "id": bank.id,
                "version": bank.version,
                "title": bank.title,
                "sha256": bank.sha256,
                "rating_bands": {
                    "moderate": bands.moderate,
                    "high": bands.high,
                    "critical": bands.critical,
                },
                "red_flag_critical_at": bank.red_flag_critical_at,
            },
            "answers_sha256": audit.sha256,
            "overall": {
                "score": overall_score,
                "rating": rating,
                "score_rating": score_rating,
                "escalated_by": escalated_by,
            },
            "metrics": metrics,
            "sections": sections,
            "red_flags": red_flags,
            "findings": findings,
            "unanswered": unanswered,
            "not_applicable": not_applicable,
            "complete": not unanswered,
            "counts": {
                "questions": len(rows),
                "applicable": len(rows) - len(not_applicable),
                "answered": answered_count,
                "unanswered": len(unanswered),
                "not_applicable": len(not_applicable),
            },
            "why": why,
            "answers": [_answer_row(r, audit, total, points) for r in rows],
            "warnings": list(audit.warnings),
        }
    )


def _why(items: list[_Scored], weight: float, score: float, points: Any) -> dict[str, Any]:
    # Rank every contributing answer, but write out only the few that are listed.
    ranked = sorted((-round(points(r, weight), 2), i, r) for i, r in enumerate(items) if r.risk > 0)
    top = [
        {
            "question_id": r.question.id,
            "text": r.question.text,
            "answer": r.display if r.status == "answered" else "(unanswered: counted as riskiest)",
            "status": r.status,
            "weight": r.effective,
            "risk": round(r.risk, 4),
            "points": -neg_points,
        }
        for neg_points, _, r in ranked[:TOP_CONTRIBUTIONS]
    ]
    # From unrounded points, so the listed points plus the rest add up to the score.
    others = sum(points(r, weight) for _, _, r in ranked[TOP_CONTRIBUTIONS:])
    return {
        "score": score,
        "total_weight": round(weight, 4),
        "top": top,
        "others_points": round(others, 2),
    }


def _findings(
    scored: list[_Scored],
    total: float,
    points: Any,
    lines: dict[str, int],
    cutoffs: SeverityCutoffs,
) -> list[dict[str, Any]]:
    out: list[tuple[int, float, int, dict[str, Any]]] = []
    for i, r in enumerate(scored):
        if r.status != "answered" or r.risk <= 0:
            continue
        q = r.question
        title, recommendation = q.advice_for(r.value)
        severity = severity_for(r.risk, r.red_flag is not None, cutoffs)
        p = round(points(r, total), 2)
        finding = {
            "question_id": q.id,
            "severity": severity,
            "title": title,
            "recommendation": recommendation,
            "section": q.section,
            "metric": q.metric,
            "answer": r.display,
            "risk": round(r.risk, 4),
            "points": p,
            "line": lines.get(q.id),
        }
        out.append((-RATINGS.index(severity), -p, i, finding))
    out.sort(key=lambda t: t[:3])
    return [t[3] for t in out]


def _answer_row(r: _Scored, audit: Audit, total: float, points: Any) -> dict[str, Any]:
    q = r.question
    answer = audit.answers.get(q.id)
    value = r.value
    if value is not None:
        value = q.kind.json_value(q, value)
    scored = r.scored
    return {
        "question_id": q.id,
        "section": q.section,
        "type": q.type,
        "text": q.text,
        "required": r.required,
        "status": r.status,
        "value": value,
        "display": r.display,
        "note": answer.note if answer else None,
        "evidence": [_evidence(e) for e in answer.evidence] if answer else [],
        "risk": round(r.risk, 4) if scored else None,
        "points": round(points(r, total), 2) if scored else None,
        "red_flag": r.red_flag,
    }


def evidence_ref(text: str) -> Evidence:
    """Evidence becomes a link only for web and mail addresses; anything else stays text."""
    return Evidence.model_validate(_evidence(text))


def _evidence(text: str) -> dict[str, Any]:
    candidate = text.strip()
    href = None
    if candidate and not _NOT_IN_LINK.search(candidate):
        try:
            parts = urlsplit(candidate)
        except ValueError:
            parts = None
        if parts is not None and parts.scheme.lower() in _LINK_SCHEMES:
            ok = bool(parts.netloc) if parts.scheme.lower() != "mailto" else bool(parts.path)
            if ok:
                href = candidate
    return {"text": text, "href": href}
