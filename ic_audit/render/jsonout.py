"""The JSON format: the scored audit as data, the contract of `score`/`report --format json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ic_audit.render.registry import RenderOptions
    from ic_audit.result import AuditResult


def render_json(result: AuditResult | Sequence[AuditResult]) -> str:
    """One object for one result, a list for a sequence (whatever its length)."""
    if isinstance(result, Sequence):
        if not result:
            return "[]\n"
        # Each result's text one level in: its layout newlines are the only raw ones (JSON
        # escapes a newline inside a string).
        items = ",\n  ".join(_text(r).replace("\n", "\n  ") for r in result)
        return "[\n  " + items + "\n]\n"
    return _text(result) + "\n"


def _text(result: AuditResult) -> str:
    try:
        return result.json_text()
    except ValueError:  # text that cannot be UTF-8: the json module writes its escapes
        from ic_audit.errors import json_utf8
        from ic_audit.render.json_text import dumps_indented

        return json_utf8(dumps_indented(result.to_data()))


def render(results: Sequence[AuditResult], options: RenderOptions) -> str:
    # A list whenever the command says so (any pattern or several arguments), however many
    # files matched: a CI script's `jq '.[]'` must not depend on the count.
    return render_json(results if options.as_list or len(results) != 1 else results[0])
