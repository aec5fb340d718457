"""The HTML risk report: one self-contained file (inline CSS and SVG, no script), print-ready."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ic_audit.gc_pause import paused_gc
from ic_audit.render import charts, evidence_charts
from ic_audit.render.jinja_reports import build_context
from ic_audit.render.jinja_reports import render as render_template
from ic_audit.result import AuditResult

if TYPE_CHECKING:
    from ic_audit.render.registry import RenderOptions


def chart_context(context: dict[str, Any]) -> dict[str, Any]:
    """The three inline SVG charts: overall gauge, key metrics, section breakdown."""
    r, bands = context["r"], context["bands"]
    overall = r["overall"]
    evidence = r.get("evidence") or {}
    extra: dict[str, Any] = {}
    if evidence.get("drift_windows"):
        extra["drift"] = evidence_charts.drift_windows_chart(evidence["drift_windows"])
    if evidence.get("evaluation_series"):
        extra["evaluations"] = evidence_charts.evaluation_chart(evidence["evaluation_series"])
    return {
        **extra,
        "overall": charts.overall_gauge(
            overall["score"], overall["rating"], overall["score_rating"], bands
        ),
        "metrics": charts.score_bars(
            [(m["title"], m["score"], m["rating"]) for m in context["metrics"]],
            bands,
            "Key metrics",
        ),
        "sections": charts.score_bars(
            [(s["title"], s["score"], s["rating"]) for s in r["sections"]],
            bands,
            "Section breakdown",
        ),
    }


@paused_gc()
def render_html(result: AuditResult) -> str:
    """The report as one HTML document; Jinja autoescaping covers every user-derived string."""
    context = build_context(result)
    context["charts"] = chart_context(context)
    return render_template("html", "report.html.j2", context)


def render(results: Sequence[AuditResult], options: RenderOptions) -> str:
    if options.template is not None:
        from ic_audit.render.user_template import render_template_file

        return render_template_file(results[0], options.template, "html")
    return render_html(results[0])
