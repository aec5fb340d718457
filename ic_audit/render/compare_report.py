"""The comparison report (`ic-audit compare`) in Markdown, HTML and JSON, and its format table.

A small registry parallel to `render.registry`, not entries in it: those renderers take scored
audits (`Sequence[AuditResult]`) and `RenderOptions`, and the `score`/`report` choices, help and
tests iterate over every entry; a comparison is another input (`ic_audit.compare`'s data), so
mixing it in would make every one of those readers tell the two kinds apart. The shape is the
same (name, suffixes for `-o` inference, description, function), so the CLI reads it the same way.

Markdown and HTML go through the report's Jinja2 environments (`render.jinja_reports`): the same
escaping filters, the Markdown `finalize` hook, HTML autoescaping and the report's stylesheet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ic_audit.render import escape

DEFAULT_COMPARE_FORMAT = "md"


@dataclass(frozen=True)
class CompareFormat:
    name: str
    suffixes: tuple[str, ...]
    description: str
    render: Callable[[Mapping[str, Any]], str]


def render_json(data: Mapping[str, Any]) -> str:
    from ic_audit.errors import json_utf8
    from ic_audit.render.json_text import dumps_indented

    return json_utf8(dumps_indented(data)) + "\n"


def signed(value: float) -> str:
    """A score change as people read it: +3.2, -4.0, 0.0."""
    return "0.0" if round(value, 1) == 0 else f"{value:+.1f}"


def _format_figure(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "share":
        return f"{value * 100:.0f} %"
    if unit == "seconds":
        return f"{value:.1f} s"
    if unit == "days":
        return f"{value:.0f}"
    return f"{value:.2f}"


def build_context(data: Mapping[str, Any]) -> dict[str, Any]:
    """What both templates use, from the comparison data alone (no clock, no environment)."""
    from ic_audit.render.jinja_reports import RATING_EMOJI, SEVERITY_ALERT

    d: dict[str, Any] = escape.clean_data(dict(data))
    audits = d["audits"]
    latest = audits[-1]
    metric_ids = list(latest["metrics"])
    trends = [
        {**t, "shown": [_format_figure(v, t["unit"]) for v in t["values"]]}
        for t in d["evidence_trends"]
    ]
    return {
        "d": d,
        "audits": audits,
        "latest": latest,
        "metric_ids": metric_ids,
        "metric_titles": {m: latest["metrics"][m]["title"] for m in metric_ids},
        "changes": d["changes"],
        "overview": d["first_to_latest"],
        "trends": trends,
        "notes": [a for a in audits if a["bank"]["note"]],
        "rating_emoji": RATING_EMOJI,
        "rating_alert": SEVERITY_ALERT,
        "move_word": {"worse": "worse", "better": "better", "same": "unchanged"},
        "signed": signed,
    }


def render_markdown(data: Mapping[str, Any]) -> str:
    from ic_audit.render.jinja_reports import render

    return render("md", "compare.md.j2", build_context(data))


def _held(overall: Mapping[str, Any]) -> str | None:
    from ic_audit.result import held_note

    return held_note(overall["rating"], overall.get("score_rating"), overall.get("escalated_by"))


def held_ratings(audits: Sequence[Mapping[str, Any]]) -> list[str]:
    """One phrase per audit rated above its score's band, saying what held it there."""
    out = []
    for a in audits:
        note = _held(a["overall"])
        if note:
            o = a["overall"]
            out.append(
                f"{a['audit_date']} scores {o['score']:.1f} ({o['score_rating']} band), {note}"
            )
    return out


def render_html(data: Mapping[str, Any]) -> str:
    from ic_audit.render import compare_charts
    from ic_audit.render.jinja_reports import render

    context = build_context(data)
    audits = context["audits"]
    context["held_ratings"] = held_ratings(audits)
    dates = [a["audit_date"] for a in audits]
    bands = {k: float(v) for k, v in context["d"]["rating_bands"].items()}
    context["charts"] = {
        "overall": compare_charts.overall_trend(
            dates,
            [a["overall"]["score"] for a in audits],
            [a["overall"]["rating"] for a in audits],
            bands,
            [_held(a["overall"]) for a in audits],
        ),
        "metrics": compare_charts.metric_trends(
            dates,
            [
                (
                    context["metric_titles"][m],
                    [a["metrics"][m]["score"] if m in a["metrics"] else None for a in audits],
                )
                for m in context["metric_ids"]
            ],
            bands,
        ),
    }
    return render("html", "compare.html.j2", context)


COMPARE_FORMATS: dict[str, CompareFormat] = {
    f.name: f
    for f in (
        CompareFormat(
            "md",
            (".md", ".markdown"),
            "the comparison as GitHub-flavoured Markdown",
            render_markdown,
        ),
        CompareFormat(
            "html",
            (".html", ".htm"),
            "one self-contained HTML page with trend charts",
            render_html,
        ),
        CompareFormat("json", (".json",), "the comparison as JSON data", render_json),
    )
}


def compare_format_for_suffix(name: str) -> CompareFormat | None:
    lowered = name.lower()
    for f in COMPARE_FORMATS.values():
        if lowered.endswith(f.suffixes):
            return f
    return None


def compare_help() -> str:
    return "; ".join(f"{f.name}: {f.description}" for f in COMPARE_FORMATS.values()) + "."
