"""SARIF 2.1.0 for code scanning (GitHub): each finding located at its answer's line.

One log, one run, for any number of audits. Rules are the bank's questions that produced a
finding, plus `overall-rating`; levels follow severity: critical and high are `error`, moderate
`warning`, low `note`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_from_bytes

from ic_audit import __version__
from ic_audit.errors import json_utf8
from ic_audit.render.json_text import dumps_indented
from ic_audit.result import AuditResult

if TYPE_CHECKING:
    from ic_audit.render.registry import RenderOptions

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "moderate": "warning", "low": "note"}
RATING_RULE = "overall-rating"


def _uri(path: str) -> str:
    """An RFC 3986 URI reference: relative paths stay relative (code scanning resolves them
    against the checkout); space, `#`, `%`, `:`, `?` and non-ASCII are percent-encoded, a byte
    that was not UTF-8 in a file name as that byte."""
    pure = PurePath(path)
    try:
        if pure.is_absolute():
            return pure.as_uri()
        raw = os.fsencode(pure.as_posix())
    except UnicodeEncodeError:  # a lone surrogate that did not come from a file name
        raw = pure.as_posix().encode("utf-8", "backslashreplace")
        if pure.is_absolute():
            return "file://" + quote_from_bytes(raw, safe="/")
    return quote_from_bytes(raw, safe="/")


def _location(path: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(path)}}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _fingerprint(*parts: str) -> str:
    # surrogatepass: a file name with bytes that are not UTF-8 still has a stable fingerprint.
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def render(results: Sequence[AuditResult], options: RenderOptions) -> str:
    return render_sarif(results)


def render_sarif(results: Sequence[AuditResult]) -> str:
    rules: dict[str, dict[str, Any]] = {
        RATING_RULE: {
            "id": RATING_RULE,
            "name": "OverallRating",
            "shortDescription": {"text": "Overall instrumental convergence risk rating"},
            "fullDescription": {
                "text": "The audit's overall rating from the ic-audit rubric (low, moderate, "
                "high, critical); red flags lift it to at least high."
            },
            "help": {"text": "See the report's executive summary and findings."},
        }
    }
    out: list[dict[str, Any]] = []
    for r in results:
        system = str(r.system.get("name", ""))
        o = r.overall
        out.append(
            {
                "ruleId": RATING_RULE,
                "level": LEVELS[o.rating],
                "message": {
                    "text": f"{system} is rated {o.rating} ({o.score:.1f}/100; "
                    f"{len(r.red_flags)} red flag{'s' if len(r.red_flags) != 1 else ''})."
                },
                "locations": [_location(r.answers_file, 1)],
                "partialFingerprints": {"icAudit/v1": _fingerprint(r.answers_file, RATING_RULE)},
                "properties": {"rating": o.rating, "score": o.score, "system": system},
            }
        )
        for f in r.findings:
            if f.question_id not in rules:
                rules[f.question_id] = {
                    "id": f.question_id,
                    "name": f.question_id.replace("-", ""),
                    "shortDescription": {"text": f.title},
                    "fullDescription": {"text": _question_text(r, f.question_id)},
                    "help": {"text": f.recommendation},
                    "properties": {"section": f.section, "metric": f.metric},
                }
            red = f.severity == "critical" and any(
                flag.question_id == f.question_id for flag in r.red_flags
            )
            out.append(
                {
                    "ruleId": f.question_id,
                    "level": LEVELS[f.severity],
                    "message": {"text": f"{f.title} (answer: {f.answer}). {f.recommendation}"},
                    "locations": [_location(r.answers_file, f.line)],
                    "partialFingerprints": {
                        "icAudit/v1": _fingerprint(r.answers_file, f.question_id)
                    },
                    "properties": {
                        "severity": f.severity,
                        "risk": f.risk,
                        "points": f.points,
                        "red_flag": red,
                        "system": system,
                    },
                }
            )
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    for result in out:
        result["ruleIndex"] = index[result["ruleId"]]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ic-audit",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "results": out,
            }
        ],
    }
    return json_utf8(dumps_indented(log)) + "\n"


def _question_text(r: AuditResult, question_id: str) -> str:
    return next((a.text for a in r.answers if a.question_id == question_id), question_id)
