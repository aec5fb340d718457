"""Renderers: one module per output format, each with `render(results, options) -> str`.

`ic_audit.render.registry.RENDERERS` lists every format; the CLI and the tests read it. This
package imports nothing heavy, so the CLI can list the formats cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ic_audit.result import AuditResult


def render_json(result: Any) -> str:
    from ic_audit.render.jsonout import render_json as render

    return render(result)


def _report_formats() -> dict[str, Callable[[AuditResult], str]]:
    from ic_audit.render.registry import RENDERERS, RenderOptions

    def one(name: str) -> Callable[[AuditResult], str]:
        return lambda result: RENDERERS[name].render([result], RenderOptions())

    return {r.name: one(r.name) for r in RENDERERS.values() if "report" in r.commands}


def __getattr__(name: str) -> Any:
    # `REPORT_FORMATS[fmt](result)`: the older one-result interface, still used by the
    # walkthrough's "write a report" step.
    if name == "REPORT_FORMATS":
        return _report_formats()
    raise AttributeError(name)
