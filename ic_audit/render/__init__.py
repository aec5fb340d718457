"""Renderers: one pure function per output format, `AuditResult -> str`.

`REPORT_FORMATS` and `SCORE_FORMATS` map every `--format` choice to its renderer; a test checks
the mapping covers every choice the CLI offers.
"""

from __future__ import annotations

from collections.abc import Callable

from ic_audit.result import AuditResult


def render_json(result: AuditResult | list[AuditResult]) -> str:
    import json

    if isinstance(result, list):
        data: object = [r.model_dump(mode="json") for r in result]
    else:
        data = result.model_dump(mode="json")
    from ic_audit.errors import json_utf8

    return json_utf8(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _markdown(result: AuditResult) -> str:
    from ic_audit.render.markdown import render_markdown

    return render_markdown(result)


def _html(result: AuditResult) -> str:
    from ic_audit.render.html import render_html

    return render_html(result)


REPORT_FORMATS: dict[str, Callable[[AuditResult], str]] = {
    "md": _markdown,
    "html": _html,
    "json": render_json,
}
