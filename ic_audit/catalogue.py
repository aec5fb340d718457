"""The bank described for machines: `questions --format json` and the answers JSON Schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ic_audit.bank import Bank, Question
from ic_audit.limits import EVIDENCE_COUNT_MAX, EVIDENCE_ITEM_MAX, LONG_TEXT_MAX, TEXT_MAX


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def question_json(q: Question) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": q.id,
        "section": q.section,
        "type": q.type,
        "text": q.text,
        "help": q.help,
        "required": q.is_required,
        "metric": q.metric,
        "weight": q.weight,
        "scored": q.scored,
        "role": q.role_or_default,
    }
    out.update(q.kind.describe(q))
    if q.scored:
        out["safest"] = _jsonable(q.safest)
        out["riskiest"] = _jsonable(q.riskiest)
        out["finding"] = q.finding
        out["recommendation"] = q.recommendation
    out["when"] = q.when.as_written() if q.when else None
    out["concept"] = q.concept
    out["references"] = list(q.references)
    if q.measured_by is not None:
        # Only where set, so a bank without evidence-answered questions lists as before.
        out["measured_by"] = q.measured_by.model_dump(exclude_none=True)
    return out


def bank_json(bank: Bank) -> dict[str, Any]:
    return {
        "bank": {
            "id": bank.id,
            "version": bank.version,
            "title": bank.title,
            "description": bank.description,
            "sha256": bank.sha256,
            "rating_bands": bank.rating_bands.model_dump(),
            "red_flag_critical_at": bank.red_flag_critical_at,
            "severity": bank.severity.model_dump(),
            "red_flags": bank.red_flags.model_dump(),
            "exposure": bank.exposure.model_dump() if bank.exposure is not None else None,
        },
        "metrics": [
            {"id": m.id, "title": m.title, "measures": m.measures, "short": m.heading}
            for m in bank.metrics
        ],
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "intro": s.intro,
                "weight": s.weight,
                "questions": [q.id for q in s.questions],
            }
            for s in bank.sections
        ],
        "questions": [question_json(q) for q in bank.questions],
    }


def _value_schema(q: Question) -> dict[str, Any]:
    return q.kind.json_schema(q)


def evidence_schema() -> dict[str, Any]:
    """`evidence:`: each kind a list of rows or the path of a CSV / JSON Lines file."""
    from ic_audit.evidence import EvidenceSection

    schema = EvidenceSection.model_json_schema()
    schema.pop("title", None)
    return schema


def answers_schema(bank: Bank) -> dict[str, Any]:
    """JSON Schema of an answers file for this bank: every question id and its allowed values."""
    text = {"type": "string", "minLength": 1, "maxLength": TEXT_MAX}
    evidence_item = {"type": "string", "minLength": 1, "maxLength": EVIDENCE_ITEM_MAX}
    person = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            **{k: text for k in ("name", "team", "role", "email")},
            "independent": {"type": "boolean"},
        },
    }
    answers: dict[str, Any] = {}
    for q in bank.questions:
        value = _value_schema(q)
        long_form = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "value": {"anyOf": [value, {"type": "null"}]},
                "note": {"type": ["string", "null"], "maxLength": LONG_TEXT_MAX},
                "evidence": {
                    "anyOf": [
                        {
                            "type": "array",
                            "items": evidence_item,
                            "maxItems": EVIDENCE_COUNT_MAX,
                        },
                        evidence_item,
                        {"type": "null"},
                    ]
                },
            },
        }
        answers[q.id] = {
            "title": q.text,
            "description": q.help,
            "anyOf": [value, long_form, {"type": "null"}],
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:ic-audit:answers:{bank.id}:{bank.version}",
        "title": f"ic-audit answers file ({bank.id} {bank.version})",
        "type": "object",
        "additionalProperties": False,
        "required": ["system"],
        "properties": {
            "system": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": text,
                    "owner": text,
                    "version": text,
                    "description": {"type": "string", "maxLength": LONG_TEXT_MAX},
                },
            },
            "auditor": person,
            "audit_date": {"type": "string", "format": "date"},
            "bank": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "version"],
                "properties": {
                    "id": {"const": bank.id},
                    "version": {"type": "string", "minLength": 1, "maxLength": TEXT_MAX},
                },
            },
            "migration_notes": {
                "type": ["array", "null"],
                "items": {"type": "string", "maxLength": LONG_TEXT_MAX},
                "maxItems": EVIDENCE_COUNT_MAX,
            },
            "answers": {
                "type": "object",
                "additionalProperties": False,
                "properties": answers,
            },
            "previous_audit": {"type": "string", "format": "date"},
            "reassess_by": {"type": "string", "format": "date"},
            "evidence": evidence_schema(),
        },
    }
