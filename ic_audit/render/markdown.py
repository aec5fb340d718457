"""The Markdown risk report: GitHub-flavoured, fit for a PR comment or a CI job summary."""

from __future__ import annotations

from ic_audit.gc_pause import paused_gc
from ic_audit.render.jinja_reports import build_context, render
from ic_audit.result import AuditResult


@paused_gc()
def render_markdown(result: AuditResult) -> str:
    """The report as Markdown; every user-derived string is escaped (see `render.escape`)."""
    return render("md", "report.md.j2", build_context(result))
