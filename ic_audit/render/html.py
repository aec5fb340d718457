"""The HTML risk report: one self-contained file (inline CSS and SVG, no script), print-ready."""

from __future__ import annotations

from typing import Any

from ic_audit.gc_pause import paused_gc
from ic_audit.render import charts
from ic_audit.render.jinja_reports import build_context, render
from ic_audit.result import AuditResult


def chart_context(context: dict[str, Any]) -> dict[str, Any]:
    """The three inline SVG charts: overall gauge, key metrics, section breakdown."""
    r, bands = context["r"], context["bands"]
    overall = r["overall"]
    return {
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
    return render("html", "report.html.j2", context)
