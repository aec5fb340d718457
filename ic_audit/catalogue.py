"""The bank described for machines: `questions --format json` and the answers JSON Schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ic_audit.bank import Bank, Question
from ic_audit.limits import EVIDENCE_COUNT_MAX, EVIDENCE_ITEM_MAX, LONG_TEXT_MAX, TEXT_MAX


def _num(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else x


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
    }
    if q.type in ("single", "yes_no", "multi"):
        if q.type == "multi":
            out["scoring"] = q.multi_mode
        out["options"] = [
            {
                "value": o.value,
                "label": o.label,
                "risk": round(q.option_risk(o), 4),
                "red_flag": o.red_flag is not None,
                "red_flag_reason": o.red_flag,
                "exclusive": o.exclusive,
                # Safeguards: the weight behind the risk (1 - weight / total), to check by hand.
                **(
                    {"weight": o.weight or 1.0}
                    if q.type == "multi" and q.multi_mode == "safeguards" and not o.exclusive
                    else {}
                ),
                "recommendation": o.recommendation
                or (q.recommendation if q.option_risk(o) > 0 else None),
            }
            for o in q.options or []
        ]
    if q.type == "number":
        out["unit"] = q.unit
        out["integer"] = q.integer
        out["range"] = {
            "min": _num(q.range.min if q.range else None),
            "max": _num(q.range.max if q.range else None),
        }
        out["bands"] = [
            {
                "min": _num(b.min),
                "max": _num(b.max),
                "risk": b.risk,
                "label": b.label,
                "red_flag": b.red_flag is not None,
                "red_flag_reason": b.red_flag,
                "recommendation": b.recommendation or (q.recommendation if b.risk > 0 else None),
            }
            for b in q.bands or []
        ]
    if q.type == "text":
        out["max_length"] = q.max_length
    if q.scored:
        out["safest"] = _jsonable(q.safest)
        out["riskiest"] = _jsonable(q.riskiest)
        out["finding"] = q.finding
        out["recommendation"] = q.recommendation
    out["when"] = q.when.as_written() if q.when else None
    out["concept"] = q.concept
    out["references"] = list(q.references)
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
    if q.type == "yes_no":
        return {"oneOf": [{"type": "boolean"}, {"enum": ["yes", "no", "true", "false"]}]}
    if q.type == "single":
        return {"enum": [o.value for o in q.options or []]}
    if q.type == "multi":
        return {
            "type": "array",
            "items": {"enum": [o.value for o in q.options or []]},
            "minItems": 1,
            "uniqueItems": True,
        }
    if q.type == "number":
        schema: dict[str, Any] = {"type": "integer" if q.integer else "number"}
        if q.range and q.range.min is not None:
            schema["minimum"] = _num(q.range.min)
        if q.range and q.range.max is not None:
            schema["maximum"] = _num(q.range.max)
        return schema
    if q.type == "date":
        return {"type": "string", "format": "date"}
    return {"type": "string", "maxLength": q.max_length}


def answers_schema(bank: Bank) -> dict[str, Any]:
    """JSON Schema of an answers file for this bank: every question id and its allowed values."""
    text = {"type": "string", "minLength": 1, "maxLength": TEXT_MAX}
    evidence_item = {"type": "string", "minLength": 1, "maxLength": EVIDENCE_ITEM_MAX}
    person = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {k: text for k in ("name", "team", "role", "email")},
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
        },
    }
