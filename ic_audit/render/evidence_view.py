"""What the Markdown and HTML reports show of operational evidence: each metric's measured
figures against their thresholds, the questions they answered, which inputs were measured and
which attested, and the drill table. Plain strings from the result's numbers; user text (suite
names) is escaped by the templates like everything else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Findings about the evidence or the audit itself carry the answers-file key they come from
# where a question id would go; a person reads these names instead (JSON and SARIF keep the key).
REF_LABELS = {
    "drills": "Drills (evidence)",
    "drift_reviews": "Drift reviews (evidence)",
    "evaluations": "Evaluations (evidence)",
    "auditor": "Auditor (audit details)",
    "previous_audit": "Previous audit (audit details)",
}


def ref_label(question_id: str) -> str:
    """A finding's question id, or the readable name of the evidence or audit detail it is on."""
    return REF_LABELS.get(question_id, question_id)


def _pct(x: Any) -> str:
    return "none" if x is None else f"{100 * float(x):.0f} %"


def _n(x: Any, places: int = 2) -> str:
    if x is None:
        return "none"
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}"
    return f"{float(x):,.{places}f}"


def _days(x: Any) -> str:
    return "no drill of this kind" if x is None else f"{x:,} days"


# metric -> (figure, label, format, threshold text)
_ROWS: dict[str, list[tuple[str, str, Any, str]]] = {
    "goal_drift": [
        (
            "actions_reviewed",
            "Actions reviewed",
            _n,
            "with no incidents: 3,840+ show under 1 per 1,000, 38,400+ under 0.1",
        ),
        ("incidents", "Incidents", _n, ""),
        ("rate_per_1000", "Rate per 1,000 actions", _n, "pooled over all windows"),
        (
            "upper_95_per_1000",
            "Upper 95 % bound per 1,000",
            _n,
            "rate bands (per 1,000): under 0.1, 0.1-1, 1-5, 5-20, 20 or more",
        ),
        ("windows", "Review windows", _n, ""),
        ("independent_share", "Reviewed independently", _pct, "100 %: every window"),
    ],
    "controllability": [
        ("drills", "Drills", _n, ""),
        ("success_rate", "Success rate", _pct, "100 %"),
        (
            "p95_seconds",
            "Time to take effect (95th percentile)",
            lambda x: "none" if x is None else f"{float(x):,.1f} s",
            "under 60 s; of the drills that succeeded",
        ),
        (
            "production_load_share",
            "In production at 80 % of peak load or more",
            _pct,
            "lab or staging alone shows no control under pressure",
        ),
        (
            "days_since_production_drill",
            "Days since the last production drill",
            _days,
            "under 90 (quarterly)",
        ),
    ],
}
_EXTRA_FIGURES = {
    "days_since_production_load_drill": ("Days since the last drill at production load", _days),
    "interventions_at_production_load": (
        "Interventions drilled at production load (90 days)",
        lambda x: ", ".join(x) if x else "none",
    ),
    "longest_window_days": ("Longest evaluation window", lambda x: f"{x:,} days"),
}


def measured_view(r: Mapping[str, Any]) -> dict[str, Any] | None:
    """The evidence part of a report's context, or None for an audit without evidence."""
    evidence = r.get("evidence")
    if not evidence:
        return None
    answered: dict[str, list[dict[str, Any]]] = {}
    for item in evidence["measured_answers"]:
        answered.setdefault(item["figure"], []).append(item)
    metrics = []
    for metric_id, metric in r["metrics"].items():
        measured = metric.get("measured")
        inputs = evidence["inputs"].get(metric_id, [])
        block: dict[str, Any] = {
            "id": metric_id,
            "title": metric["title"],
            "rows": [],
            "suites": [],
            "measured_inputs": [i["question_id"] for i in inputs if i["source"] == "measured"],
            "attested_inputs": [i["question_id"] for i in inputs if i["source"] == "attested"],
        }
        if measured is None:
            if block["measured_inputs"] or inputs:
                block["empty"] = True
            metrics.append(block)
            continue
        if isinstance(measured, list):
            block["suites"] = [
                {**s, "short": s["window_days"] < evidence["thresholds"]["short_window_days"]}
                for s in measured
            ]
        else:
            for figure, label, show, threshold in _ROWS.get(metric_id, []):
                block["rows"].append(
                    {
                        "label": label,
                        "value": show(measured.get(figure)),
                        "threshold": threshold,
                        "answers": _answers(answered.get(figure, [])),
                    }
                )
        for figure, (label, show) in _EXTRA_FIGURES.items():
            items = [i for i in answered.get(figure, []) if i["metric"] == metric_id]
            if items:
                block["rows"].append(
                    {
                        "label": label,
                        "value": show(items[0]["figure_value"]),
                        "threshold": "",
                        "answers": _answers(items),
                    }
                )
        metrics.append(block)
    return {
        "metrics": metrics,
        "drills": evidence["drills"],
        "sources": evidence["sources"],
        "short_window_days": evidence["thresholds"]["short_window_days"],
    }


def _answers(items: list[dict[str, Any]]) -> str:
    out = []
    for i in items:
        typed = i["typed"]
        text = f"{i['question_id']}: {i['display']}"
        if typed is not None and typed != i["display"]:
            text += f" (answered: {typed})"
        out.append(text)
    return "; ".join(out)


def cadence_rows(r: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """Metadata rows: the next reassessment, and the auditor's independence when known."""
    info = r.get("reassessment")
    if not info:
        return []
    rows: list[tuple[str, str, bool]] = []
    if info.get("previous_audit"):
        late = info.get("overdue_days") or 0
        rows.append(
            (
                "Previous audit",
                info["previous_audit"] + (f" (this one is {late} days overdue)" if late else ""),
                False,
            )
        )
    if info.get("next_reassessment"):
        rule = (
            "set by the answers file"
            if info["set_by"] == "answers file"
            else f"{info['reassess_days']}-day cadence"
        )
        rows.append(("Next reassessment", f"{info['next_reassessment']} ({rule})", False))
    independent = info.get("auditor_independent")
    if independent is not None:
        rows.append(
            (
                "Auditor independent",
                "yes" if independent else "no: belongs to the deploying team",
                False,
            )
        )
    return rows
