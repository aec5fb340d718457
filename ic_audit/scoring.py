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
from ic_audit.bank import ROLES, Bank, SeverityCutoffs
from ic_audit.gc_pause import paused_gc
from ic_audit.measure import evidence_hooks
from ic_audit.result import (
    AuditResult,
    Evidence,
    Rating,
    rating_rank,
)
from ic_audit.risk_model import Model2, Scored

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
    # Every question applies but the follow-ups an answer rules out (bank order: a follow-up's
    # condition is settled before it is read, or read as applying).
    applies = dict.fromkeys(bank.by_id, True)
    for q in bank.follow_ups:
        w = q.when
        assert w is not None
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


@paused_gc()
def score_audit(bank: Bank, audit: Audit) -> AuditResult:
    # Evidence first: a figure it gives answers its question in place of the typed answer.
    hooks = evidence_hooks(bank, audit)
    audit = hooks.audit
    applies = applicability(bank, audit)
    answers = audit.answers
    rows: list[Scored] = []
    for section in bank.sections:
        for q in section.questions:
            item = Scored(q, q.weight * section.weight)
            item.answer = answer = answers.get(q.id)
            facts = None
            if answer is not None and answer.value is not None:
                item.value = answer.value
                if item.scored:
                    item.facts = facts = q.facts(answer.value)
                    item.display = facts.display
                else:
                    item.display = q.display(answer.value)
            if not applies[q.id]:
                item.status = "not_applicable"
            elif item.value is None:
                item.status = "unanswered"
                if item.scored and item.required:
                    item.risk = q.max_risk
            elif facts is not None:
                item.risk = facts.risk
                item.red_flag = facts.red_flag
            rows.append(item)

    scored = [r for r in rows if r.scored]
    total = sum(r.effective for r in scored)
    rf = bank.red_flags

    def score_of(items: list[Scored]) -> float:
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
    uncontained = [
        r.question.id
        for r in scored
        if r.status == "answered" and r.facts is not None and "uncontained" in r.facts.evidence
    ]
    uncontained_ids = set(uncontained)

    model: Model2 | None = Model2(bank, scored) if bank.exposure is not None else None
    if model is None:
        overall_score = score_of(scored)

        def points(r: Scored) -> float:
            return 100.0 * r.effective * r.risk / total if total else 0.0

        flag_floor: Rating = rf.floor
        level_floor: Rating | None = None
    else:
        overall_score = model.score
        points = model.points
        flag_floor = model.flag_floor
        level_floor = model.level.rating_floor
    # Each answer's share of the overall score, once: the "why", findings and rows all show it.
    for r in scored:
        r.points = points(r)
        r.shown_points = round(r.points, 2)

    score_rating = rating_for(overall_score, bank)
    floors: list[tuple[Rating, str]] = []
    if level_floor is not None:
        assert model is not None
        floors.append((level_floor, f"exposure level {model.level.id}"))
    if red_flags:
        n = len(red_flags)
        at_lowest = model is not None and model.lowest
        flag_rating = "critical" if n >= bank.red_flag_critical_at and not at_lowest else flag_floor
        floors.append((flag_rating, f"{n} red flag{'s' if n != 1 else ''}"))
    if uncontained:
        floors.append((rf.uncontained_floor, f"uncontained observation ({', '.join(uncontained)})"))
    rating = score_rating
    for floor, _ in floors:
        rating = _at_least(rating, floor)
    escalated_by: str | None = None
    if rating != score_rating:
        escalated_by = "; ".join(reason for floor, reason in floors if floor == rating)

    def floored(score: float, items: list[Scored]) -> Rating:
        # A section's, metric's or role's rating: its bands, lifted by its own red flags and
        # uncontained observations.
        out = rating_for(score, bank)
        if any(r.red_flag for r in items):
            out = _at_least(out, flag_floor)
        if uncontained_ids and any(r.question.id in uncontained_ids for r in items):
            out = _at_least(out, rf.uncontained_floor)
        return out

    by_section: dict[str, list[Scored]] = {section.id: [] for section in bank.sections}
    for r in rows:
        by_section.setdefault(r.question.section, []).append(r)
    sections: list[dict[str, Any]] = []
    for section in bank.sections:
        items = by_section[section.id]
        s_scored = [r for r in items if r.scored]
        s_score = score_of(s_scored)
        answered = unanswered_n = not_applicable_n = flags = 0
        for r in items:
            if r.status == "answered":
                if r.value is not None:
                    answered += 1
            elif r.status == "unanswered":
                if r.required:
                    unanswered_n += 1
            else:
                not_applicable_n += 1
            if r.red_flag:
                flags += 1
        sections.append(
            {
                "id": section.id,
                "title": section.title,
                "score": s_score,
                "rating": floored(s_score, s_scored),
                "weight": section.weight,
                "questions": len(items),
                "answered": answered,
                "unanswered": unanswered_n,
                "not_applicable": not_applicable_n,
                "red_flags": flags,
            }
        )

    metrics: dict[str, dict[str, Any]] = {}
    if model is None:
        why: dict[str, dict[str, Any]] = {"overall": _why(scored, total, overall_score)}
    else:
        likely = [r for r in scored if r.question.role_or_default != "profile"]
        why = {
            "overall": _why(likely, model.weight_of(likely), overall_score),
            "exposure": _why(model.roles["profile"], model.weights["profile"], model.e_score),
        }
    by_metric: dict[str | None, list[Scored]] = {m.id: [] for m in bank.metrics}
    for r in scored:
        if model is not None and r.question.role_or_default == "profile":
            continue  # the profile sets every metric's impact, not one metric's likelihood
        by_metric.setdefault(r.question.metric, []).append(r)
    for spec in bank.metrics:
        metric = spec.id
        items = by_metric[metric]
        weight = sum(r.effective for r in items)
        if model is None:
            m_score = score_of(items)

            def m_points(r: Scored, weight: float = weight) -> float:
                return 100.0 * r.effective * r.risk / weight if weight else 0.0
        else:
            m_score, m_points = model.metric(metric, items)
        metrics[metric] = {
            "id": metric,
            "title": spec.title,
            "score": m_score,
            "rating": floored(m_score, items),
            "questions": len(items),
            "answered": sum(1 for r in items if r.status == "answered"),
            "red_flags": sum(1 for r in items if r.red_flag),
        }
        why[metric] = _why(items, weight, m_score, m_points)

    extra: dict[str, Any] = {}
    if model is not None:
        assert bank.exposure is not None
        extra["exposure"] = {
            "level": model.level.id,
            "title": model.level.title,
            "description": model.level.description,
            "score": model.e_score,
            "rating_floor": model.level.rating_floor,
            "impact": round(model.impact, 4),
        }
        extra["roles"] = {
            role: {
                "score": model.role_scores[role],
                "rating": floored(model.role_scores[role], model.roles[role]),
                "questions": len(model.roles[role]),
            }
            for role in ROLES
        }
        extra["risk_model"] = {
            "impact_floor": bank.exposure.impact_floor,
            "exposure": round(model.means["profile"], 4),
            "control_gap": round(model.means["control"], 4),
            "observed": round(model.means["observation"], 4),
            "impact": round(model.impact, 4),
            "likelihood": round(model.likelihood, 4),
            "control_points": round(model.control_points, 2),
            "observation_points": round(model.observation_points, 2),
            "floors": [{"rating": f, "reason": why_} for f, why_ in floors],
            "metrics": model.metric_parts,
            "red_flag_floor": rf.floor,
            "red_flag_floor_at_lowest": rf.floor_at_lowest_exposure or rf.floor,
            "uncontained_floor": rf.uncontained_floor,
        }
    declared = [
        {
            "question_id": r.question.id,
            "text": r.question.text,
            "answer": r.display,
            "note": (r.answer.note if r.answer else None) or "",
            "line": audit.lines.get(r.question.id),
        }
        for r in rows
        if r.status == "answered" and r.scored and r.facts is not None and r.facts.not_applicable
    ]
    if model is not None or declared:
        extra["declared_not_applicable"] = declared

    findings = hooks.ranked(_findings(scored, audit.lines, bank.severity))
    for metric_id, measured in hooks.measured.items():
        if metric_id in metrics:
            metrics[metric_id]["measured"] = measured
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
            "answers": [_answer_row(r) for r in rows],
            "warnings": list(audit.warnings),
            **extra,
            **hooks.extra,
        }
    )


def _why(items: list[Scored], weight: float, score: float, points: Any = None) -> dict[str, Any]:
    """Where a score comes from; `points` gives an answer's share of it (None: the overall
    score's, each answer's `points`)."""
    # Rank every contributing answer, but write out only the few that are listed.
    ranked = []
    for i, r in enumerate(items):
        if r.risk > 0:
            if points is None:
                ranked.append((-r.shown_points, i, r, r.points))
            else:
                p = points(r)
                ranked.append((-round(p, 2), i, r, p))
    ranked.sort()
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
        for neg_points, _, r, _ in ranked[:TOP_CONTRIBUTIONS]
    ]
    # From unrounded points, so the listed points plus the rest add up to the score.
    others = sum(p for _, _, _, p in ranked[TOP_CONTRIBUTIONS:])
    return {
        "score": score,
        "total_weight": round(weight, 4),
        "top": top,
        "others_points": round(others, 2),
    }


def _findings(
    scored: list[Scored],
    lines: dict[str, int],
    cutoffs: SeverityCutoffs,
) -> list[dict[str, Any]]:
    """The findings of the risky answers, in bank order (`Hooks.ranked` ranks them)."""
    out: list[dict[str, Any]] = []
    for r in scored:
        if r.status != "answered" or r.risk <= 0 or r.facts is None:
            continue
        q = r.question
        severity = severity_for(r.risk, r.red_flag is not None, cutoffs)
        p = r.shown_points
        finding = {
            "question_id": q.id,
            "severity": severity,
            "title": r.facts.title,
            "recommendation": r.facts.recommendation,
            "section": q.section,
            "metric": q.metric,
            "answer": r.display,
            "risk": round(r.risk, 4),
            "points": p,
            "line": lines.get(q.id),
        }
        out.append(finding)
    return out


def _answer_row(r: Scored) -> dict[str, Any]:
    q = r.question
    answer = r.answer
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
        "evidence": [_evidence(e) for e in answer.evidence] if answer and answer.evidence else [],
        "risk": round(r.risk, 4) if scored else None,
        "points": r.shown_points if scored else None,
        "red_flag": r.red_flag,
    }


def evidence_ref(text: str) -> Evidence:
    """Evidence becomes a link only for web and mail addresses; anything else stays text."""
    return Evidence.model_validate(_evidence(text))


def _evidence(text: str) -> dict[str, Any]:
    candidate = text.strip()
    href = None
    # Without a colon there is no scheme: most evidence is a document name or a ticket id.
    if ":" in candidate and not _NOT_IN_LINK.search(candidate):
        try:
            parts = urlsplit(candidate)
        except ValueError:
            parts = None
        if parts is not None and parts.scheme.lower() in _LINK_SCHEMES:
            ok = bool(parts.netloc) if parts.scheme.lower() != "mailto" else bool(parts.path)
            if ok:
                href = candidate
    return {"text": text, "href": href}
