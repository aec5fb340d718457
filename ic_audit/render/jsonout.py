"""The JSON format: the scored audit as data, the contract of `score`/`report --format json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ic_audit.render.registry import RenderOptions
    from ic_audit.result import AuditResult


def render_json(result: AuditResult | Sequence[AuditResult]) -> str:
    """One object for one result, a list for a sequence (whatever its length)."""
    from ic_audit.errors import json_utf8
    from ic_audit.render.json_text import dumps_indented

    if isinstance(result, Sequence):
        data: object = [r.to_data() for r in result]
    else:
        data = result.to_data()
    return json_utf8(dumps_indented(data)) + "\n"


def render(results: Sequence[AuditResult], options: RenderOptions) -> str:
    # A list whenever the command says so (any pattern or several arguments), however many
    # files matched: a CI script's `jq '.[]'` must not depend on the count.
    return render_json(results if options.as_list or len(results) != 1 else results[0])
