"""Successive audits of one system compared (`ic-audit compare`): the data, not the rendering.

`load_for_compare` reads and scores the answers files: a file answered against an older major
version of the bank is migrated in memory (the same `migrate_document` that `ic-audit migrate`
uses; the file itself is never touched) and the comparison says so; another minor version is
scored as `score` would, with a note. `compare` orders the scored audits by `audit_date`, oldest
first, and works out what changed between each consecutive pair and from the first audit to the
latest.

Two audits with the same `audit_date` are an error, not ordered by some tie-break: the date is
the only thing that says which audit is later, and "later" decides what counts as resolved or as
a regression. A file given twice, or a re-take filed under the same date, must be fixed by the
user (drop one, or correct the date).

The result (`comparison_data`) is plain JSON data; its shape is documented in README.md
("Comparing audits") and is what `compare --format json` prints. Every renderer reads it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ic_audit.errors import Problem, UserError
from ic_audit.result import AuditResult, rating_rank

if TYPE_CHECKING:
    from ic_audit.bank import Bank

KEY_METRICS = ("goal_drift", "controllability", "alignment_decay")
STATUS_TEXT = {"unanswered": "(unanswered)", "not_applicable": "(not applicable)"}


@dataclass(frozen=True)
class ScoredAudit:
    """One audit ready to compare: its result, and how its bank version was reconciled."""

    result: AuditResult
    answered_version: str | None  # the bank version the file names (None: it names none)
    migrated: bool  # an older major version, migrated in memory before scoring


def load_for_compare(
    paths: Sequence[Path], bank: Bank, display: Mapping[Path, str] | None = None
) -> list[ScoredAudit]:
    """Read and score every file; every problem in every file is reported together."""
    problems: list[Problem] = []
    scored: list[ScoredAudit] = []
    for path in paths:
        name = (display or {}).get(path)
        try:
            scored.append(_load_one(path, bank, name))
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    return scored


def _load_one(path: Path, bank: Bank, display: str | None) -> ScoredAudit:
    from ic_audit.answers import audit_from_document, major_version
    from ic_audit.loading import load_document, parse_document
    from ic_audit.scoring import score_audit

    doc = load_document(path, display)
    ref = doc.data.get("bank") if isinstance(doc.data, dict) else None
    version = ref.get("version") if isinstance(ref, dict) else None
    version = version if isinstance(version, str) else None
    old, new = (major_version(version or bank.version), major_version(bank.version))
    migrated = old.isdigit() and new.isdigit() and int(old) < int(new)
    if migrated:
        from ic_audit.migrate import migrate_document

        migration = migrate_document(doc, bank)
        suffix = ".json" if path.suffix.lower() == ".json" else ".yaml"
        migrated_doc = parse_document(
            migration.text.encode("utf-8"), Path("migrated" + suffix), doc.name
        )
        # The audit is still the file the user gave: keep its hash, not the migrated text's.
        audit = dataclasses.replace(
            audit_from_document(migrated_doc, bank), sha256=_sha256(doc.raw)
        )
    else:
        # A newer major version is refused here with the usual hint; a minor one warns.
        audit = audit_from_document(doc, bank)
    return ScoredAudit(score_audit(bank, audit), version, migrated)


def _sha256(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


def order_audits(audits: Sequence[ScoredAudit]) -> list[ScoredAudit]:
    """Oldest first; exit 2 for fewer than two, a missing date, two of one date, or audits of
    different systems (named by `system.name`, checked against the first file given)."""
    if len(audits) < 2:
        from ic_audit.errors import UsageError

        raise UsageError(
            f"compare needs at least two audits of one system; got {len(audits)}: give the "
            "answers files of successive audits (or a quoted glob pattern)"
        )
    problems: list[Problem] = []
    first = audits[0].result
    name = first.system.get("name")
    for a in audits[1:]:
        other = a.result.system.get("name")
        if other != name:
            problems.append(
                Problem(
                    a.result.answers_file,
                    f"system.name is {other!r} but {first.answers_file} audits {name!r}; "
                    "compare takes audits of one system: give only that system's files",
                )
            )
    dated: dict[str, ScoredAudit] = {}
    for a in audits:
        date = a.result.audit_date
        if date is None:
            problems.append(
                Problem(
                    a.result.answers_file,
                    "has no audit_date; compare orders audits by it: add audit_date: YYYY-MM-DD",
                )
            )
        elif date in dated:
            problems.append(
                Problem(
                    a.result.answers_file,
                    f"has the same audit_date ({date}) as {dated[date].result.answers_file}; "
                    "compare orders audits by date: give one audit per date (a file given "
                    "twice, or a wrong date?)",
                )
            )
        else:
            dated[date] = a
    if problems:
        raise UserError(problems)
    return [dated[d] for d in sorted(dated)]


# ------------------------------------------------------------------------------ the changes


def _rating_move(rating_from: str, rating_to: str) -> str:
    step = rating_rank(rating_to) - rating_rank(rating_from)
    return "worse" if step > 0 else "better" if step < 0 else "same"


def _score_change(a: Any, b: Any) -> dict[str, Any]:
    """`a` and `b` carry `score` and `rating` (overall or one metric)."""
    return {
        "score_from": a.score,
        "score_to": b.score,
        "score_change": round(b.score - a.score, 1),
        "rating_from": a.rating,
        "rating_to": b.rating,
        "rating_change": _rating_move(a.rating, b.rating),
    }


def _answer_text(row: Any) -> str:
    return str(STATUS_TEXT.get(row.status, row.display))


def _scored(type_name: str) -> bool:
    from ic_audit.qtypes import TYPES

    kind = TYPES.get(type_name)
    return kind is not None and kind.scored


def _pair(a: AuditResult, b: AuditResult) -> dict[str, Any]:
    flags_a = {f.question_id: f for f in a.red_flags}
    flags_b = {f.question_id: f for f in b.red_flags}
    find_a = {f.question_id: f for f in a.findings}
    find_b = {f.question_id: f for f in b.findings}
    rows_a = {r.question_id: r for r in a.answers}
    changed = []
    for row in b.answers:
        old = rows_a.get(row.question_id)
        if old is None:
            continue
        if (old.status, old.value) == (row.status, row.value):
            continue
        # Unscored answers (free text reworded every quarter, dates) would bury the answers
        # that score. A question that did not apply (or was unanswered) both times is unchanged
        # whatever value the file kept for it.
        if not _scored(row.type) or old.status == row.status != "answered":
            continue
        changed.append(
            {
                "question_id": row.question_id,
                "text": row.text,
                "from": {"value": old.value, "label": _answer_text(old), "status": old.status},
                "to": {"value": row.value, "label": _answer_text(row), "status": row.status},
            }
        )

    def flag(f: Any) -> dict[str, Any]:
        return {"question_id": f.question_id, "reason": f.reason}

    def finding(f: Any) -> dict[str, Any]:
        return {"question_id": f.question_id, "severity": f.severity, "title": f.title}

    def finding_change(old: Any, new: Any) -> dict[str, Any]:
        return {
            "question_id": new.question_id,
            "severity_from": old.severity,
            "severity_to": new.severity,
            "severity_change": _rating_move(old.severity, new.severity),
            "title_from": old.title,
            "title_to": new.title,
        }

    return {
        "from": a.audit_date,
        "to": b.audit_date,
        "overall": _score_change(a.overall, b.overall),
        "metrics": {
            m: _score_change(a.metrics[m], b.metrics[m]) for m in b.metrics if m in a.metrics
        },
        "red_flags": {
            "new": [flag(f) for q, f in flags_b.items() if q not in flags_a],
            "resolved": [flag(f) for q, f in flags_a.items() if q not in flags_b],
        },
        "findings": {
            "new": [finding(f) for q, f in find_b.items() if q not in find_a],
            # Found both times under one question, but judged otherwise: a worse answer to the
            # same question is a new severity, not the same finding.
            "changed": [
                finding_change(find_a[q], f)
                for q, f in find_b.items()
                if q in find_a and (find_a[q].severity, find_a[q].title) != (f.severity, f.title)
            ],
            "resolved": [finding(f) for q, f in find_a.items() if q not in find_b],
        },
        "answers_changed": changed,
    }


def regression_reasons(previous: AuditResult, latest: AuditResult) -> list[str]:
    """Why the latest audit counts as a regression (empty: it does not): its overall rating or
    a key metric's rating is worse than the audit before it. The arrow is the one the tables
    use, so a reason reads the same in every format (an ASCII ``->`` comes out of Markdown as
    ``-&gt;``)."""
    reasons = []
    if rating_rank(latest.overall.rating) > rating_rank(previous.overall.rating):
        reasons.append(f"overall rating {previous.overall.rating} → {latest.overall.rating}")
    for m in KEY_METRICS:
        before, after = previous.metrics.get(m), latest.metrics.get(m)
        if before is None or after is None:
            continue
        if rating_rank(after.rating) > rating_rank(before.rating):
            reasons.append(f"{after.title} rating {before.rating} → {after.rating}")
    return reasons


# ------------------------------------------------------------------------ evidence trends

# What a trend shows of each metric's `measured` figures (see CONTRACT.md "Operational
# evidence"): (key in `measured`, label, unit, which way is better). Extend here after new
# figures land; a figure no audit carries is simply not shown.
TREND_FIGURES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "goal_drift": (
        ("upper_95_per_1000", "Goal-drift incidents, upper 95 % bound", "per 1,000", "lower"),
        ("rate_per_1000", "Goal-drift incidents", "per 1,000", "lower"),
        ("independent_share", "Share reviewed independently", "share", "higher"),
    ),
    "controllability": (
        ("success_rate", "Drill success rate", "share", "higher"),
        ("p95_seconds", "Time to take effect, p95", "seconds", "lower"),
        ("production_load_share", "Drills in production at load", "share", "higher"),
        ("days_since_production_drill", "Days since production drill", "days", "lower"),
    ),
}
# alignment_decay.measured is a list per evaluation suite: its change from baseline is shown.
DECAY_FIGURE = ("change", "change from baseline", "score", "higher")


def _measured(result: Any, metric: str) -> Any:
    """`result.metrics[metric].measured` as plain data, or None where there is none."""
    m = getattr(result, "metrics", {}).get(metric)
    value = getattr(m, "measured", None)
    if value is None:
        return None
    dump: Callable[..., Any] | None = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(value, list):
        return [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
    return value


def evidence_trends(results: Sequence[Any]) -> list[dict[str, Any]]:
    """Measured figures per audit, oldest first, for each figure at least one audit carries;
    `values` has one entry per audit (None where that audit had no such figure)."""
    trends: list[dict[str, Any]] = []
    measured = [{m: _measured(r, m) for m in KEY_METRICS} for r in results]
    for metric, figures in TREND_FIGURES.items():
        for key, label, unit, better in figures:
            values = [
                _number(row[metric].get(key)) if isinstance(row[metric], dict) else None
                for row in measured
            ]
            if any(v is not None for v in values):
                trends.append(_trend(metric, key, label, unit, better, values))
    suites: list[str] = []
    for row in measured:
        for item in row["alignment_decay"] or []:
            suite = item.get("suite") if isinstance(item, dict) else None
            if isinstance(suite, str) and suite not in suites:
                suites.append(suite)
    key, label, unit, better = DECAY_FIGURE
    for suite in suites:
        values = []
        for row in measured:
            found = [
                i
                for i in row["alignment_decay"] or []
                if isinstance(i, dict) and i.get("suite") == suite
            ]
            values.append(_number(found[0].get(key)) if found else None)
        trends.append(
            _trend("alignment_decay", f"{key}:{suite}", f"{suite}: {label}", unit, better, values)
        )
    return trends


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _trend(
    metric: str, key: str, label: str, unit: str, better: str, values: list[float | None]
) -> dict[str, Any]:
    return {
        "metric": metric,
        "figure": key,
        "label": label,
        "unit": unit,
        "better": better,
        "values": values,
    }


# ------------------------------------------------------------------------------ the whole


def _audit_entry(a: ScoredAudit, bank: Bank) -> dict[str, Any]:
    r = a.result
    note = None
    if a.migrated:
        note = (
            f"answered against bank {r.bank.id} {a.answered_version}; migrated in memory to "
            f"{bank.version} before comparing (the file is unchanged; `ic-audit migrate` "
            "rewrites it)"
        )
    elif a.answered_version is not None and a.answered_version != bank.version:
        note = (
            f"answered against bank {r.bank.id} {a.answered_version}, another minor version: "
            f"scored with {bank.version}; questions that changed may account for differences"
        )
    return {
        "file": r.answers_file,
        "audit_date": r.audit_date,
        "answers_sha256": r.answers_sha256,
        "auditor": (r.auditor or {}).get("name"),
        "bank": {
            "id": r.bank.id,
            "version": r.bank.version,
            "answered_version": a.answered_version,
            "migrated": a.migrated,
            "note": note,
        },
        "overall": {
            "score": r.overall.score,
            "rating": r.overall.rating,
            "score_rating": r.overall.score_rating,
            "escalated_by": r.overall.escalated_by,
        },
        "metrics": {
            k: {"title": m.title, "score": m.score, "rating": m.rating}
            for k, m in r.metrics.items()
        },
        "red_flags": len(r.red_flags),
        "findings": len(r.findings),
        "complete": r.complete,
    }


def comparison_data(audits: Sequence[ScoredAudit], bank: Bank) -> dict[str, Any]:
    """The comparison of audits already ordered (see `order_audits`), as JSON data."""
    results = [a.result for a in audits]
    first, latest = results[0], results[-1]
    reasons = regression_reasons(results[-2], latest)
    changes = [_pair(a, b) for a, b in itertools.pairwise(results)]
    return {
        "system": first.system.get("name"),
        "bank": {"id": bank.id, "version": bank.version},
        "rating_bands": bank_bands(latest),
        "audits": [_audit_entry(a, bank) for a in audits],
        "changes": changes,
        "first_to_latest": _pair(first, latest),
        "evidence_trends": evidence_trends(results),
        "regression": bool(reasons),
        "regression_reasons": reasons,
        "findings_more_severe": sum(
            c["severity_change"] == "worse" for c in changes[-1]["findings"]["changed"]
        ),
    }


def bank_bands(result: AuditResult) -> dict[str, float]:
    b = result.bank.rating_bands
    return {"moderate": b.moderate, "high": b.high, "critical": b.critical}


def compare_files(
    paths: Sequence[Path], bank: Bank, display: Mapping[Path, str] | None = None
) -> dict[str, Any]:
    """Load, score, order and compare: what `ic-audit compare` prints."""
    return comparison_data(order_audits(load_for_compare(paths, bank, display)), bank)


def trend_line(data: Mapping[str, Any]) -> str:
    """One line for a terminal: the span, first and latest overall, and any regression."""
    audits = data["audits"]
    first, latest = audits[0], audits[-1]
    line = (
        f"{len(audits)} audits, {first['audit_date']} to {latest['audit_date']}: overall "
        f"{first['overall']['score']:.1f} ({first['overall']['rating']}) → "
        f"{latest['overall']['score']:.1f} ({latest['overall']['rating']})"
    )
    if data["regression"]:
        previous = audits[-2]["audit_date"]
        line += f"; worse than {previous}: " + "; ".join(data["regression_reasons"])
    return line + "."


# Names the demo shows instead of install paths, so its comparison is the same on every machine.
DEMO_DISPLAY = "examples/demo-audit.yaml"


def demo_comparison(bank: Bank) -> dict[str, Any]:
    """The shipped history of the demo system compared with the demo audit (`ic-audit demo`)."""
    from ic_audit.resources import demo_audit_path, demo_history_paths

    history = demo_history_paths()
    display = {p: f"examples/history/{p.name}" for p in history}
    display[demo_audit_path()] = DEMO_DISPLAY
    return compare_files([*history, demo_audit_path()], bank, display)
