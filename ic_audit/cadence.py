"""Independence and cadence of an audit: whether the auditor stands outside the deploying team,
when the next reassessment is due, and whether this one came later than the cadence allowed.

The rules (docs/rubric.md, "Independence and cadence"):

- The auditor is not independent when `auditor.independent` is false, or, when that is left
  out, when `auditor.team` names the system's `owner` (compared without case or surrounding
  space). Either is a finding.
- The next reassessment is `reassess_by` from the answers file, else `audit_date` plus the
  bank's `reassess_days` (quarterly, 91 days, when the bank sets none).
- A reassessment is overdue when this audit's `audit_date` is more than the cadence after the
  `previous_audit` the file names: the dates of the file, never the clock, so a report reads
  the same whenever it is rendered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ic_audit.answers import AnswersFile
from ic_audit.bank import Bank

DEFAULT_REASSESS_DAYS = 91


def _same_team(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def auditor_independent(meta: AnswersFile) -> bool | None:
    """True, False, or None when the file does not say (no auditor, or no team)."""
    auditor = meta.auditor
    if auditor is None:
        return None
    if auditor.independent is not None:
        return auditor.independent
    if auditor.team is None:
        return None
    owner = meta.system.owner
    return not (owner is not None and _same_team(auditor.team, owner))


def cadence(bank: Bank, meta: AnswersFile) -> dict[str, Any] | None:
    days = bank.reassess_days or DEFAULT_REASSESS_DAYS
    when = meta.audit_date
    if meta.reassess_by is not None:
        next_date: dt.date | None = meta.reassess_by
        set_by = "answers file"
    elif when is not None:
        next_date = when + dt.timedelta(days=days)
        set_by = "bank" if bank.reassess_days else "default (quarterly)"
    else:
        next_date, set_by = None, "default (quarterly)"
    overdue_days: int | None = None
    if when is not None and meta.previous_audit is not None:
        late = (when - meta.previous_audit).days - days
        overdue_days = late if late > 0 else 0
    return {
        "next_reassessment": next_date.isoformat() if next_date else None,
        "reassess_days": days,
        "set_by": set_by,
        "previous_audit": meta.previous_audit.isoformat() if meta.previous_audit else None,
        "overdue_days": overdue_days,
        "auditor_independent": auditor_independent(meta),
    }


def cadence_findings(meta: AnswersFile, info: dict[str, Any], lines: Any) -> list[dict[str, Any]]:
    """Findings for a dependent auditor and an overdue reassessment (no points: they say how
    far the audit can be trusted, not how risky the system is)."""
    out: list[dict[str, Any]] = []

    def finding(ref: str, severity: str, title: str, rec: str, answer: str) -> dict[str, Any]:
        return {
            "question_id": ref,
            "severity": severity,
            "title": title,
            "recommendation": rec,
            "section": "audit",
            "metric": None,
            "answer": answer,
            "risk": 0.0,
            "points": 0.0,
            "line": lines.get(ref),
        }

    if info["auditor_independent"] is False:
        auditor = meta.auditor
        assert auditor is not None
        out.append(
            finding(
                "auditor",
                "moderate",
                "The auditor belongs to the team that deploys the system",
                "A team auditing its own system has reasons to see it favourably; have someone "
                "outside the deploying team (and its reporting line) review this audit, or "
                "repeat it.",
                auditor.team or auditor.name,
            )
        )
    if info["overdue_days"]:
        out.append(
            finding(
                "previous_audit",
                "moderate",
                "The reassessment is overdue",
                f"This audit came {info['overdue_days']} days later than the "
                f"{info['reassess_days']}-day cadence after the previous audit "
                f"({info['previous_audit']}); book the next one by "
                f"{info['next_reassessment']}.",
                info["previous_audit"] or "",
            )
        )
    return out
