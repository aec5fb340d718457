"""The Markdown risk report: GitHub-flavoured, fit for a PR comment or a CI job summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ic_audit.gc_pause import paused_gc
from ic_audit.render.jinja_reports import build_context
from ic_audit.render.jinja_reports import render as render_template
from ic_audit.result import AuditResult

if TYPE_CHECKING:
    from ic_audit.render.registry import RenderOptions


@paused_gc()
def render_markdown(result: AuditResult) -> str:
    """The report as Markdown; every user-derived string is escaped (see `render.escape`)."""
    return render_template("md", "report.md.j2", build_context(result))


def render(results: Sequence[AuditResult], options: RenderOptions) -> str:
    if options.template is not None:
        from ic_audit.render.user_template import render_template_file

        return render_template_file(results[0], options.template, "md")
    return render_markdown(results[0])
