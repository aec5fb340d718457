"""The Jinja2 environments and the template context shared by the Markdown and HTML reports.

Both reports render the same context, built once from ``result.model_dump(mode="json")``, so
they show the same numbers and sentences. Jinja2 is imported inside functions: ``ic-audit
--help`` and scripted ``score`` runs never pay for it.

Escaping is layered. The HTML environment autoescapes. The Markdown environment cannot, so
every user-derived string goes through the ``md`` / ``md_cell`` filters, and a ``finalize``
hook escapes anything that reaches the output without them (a forgotten filter shows up as a
visible backslash in the golden file, never as live Markdown).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ic_audit.render import escape
from ic_audit.render.charts import DEFAULT_BANDS, RATING_COLOURS, RATING_ORDER, band_label
from ic_audit.render.evidence_view import cadence_rows, measured_view, ref_label

if TYPE_CHECKING:
    from jinja2 import BaseLoader, Environment

    from ic_audit.result import AuditResult

Format = Literal["md", "html"]

RATING_EMOJI = {"low": "🟢", "moderate": "🟡", "high": "🟠", "critical": "🔴"}
SEVERITY_ALERT = {"low": "TIP", "moderate": "IMPORTANT", "high": "WARNING", "critical": "CAUTION"}
STATUS_LABELS = {
    "answered": "answered",
    "unanswered": "unanswered",
    "not_applicable": "not applicable",
}
TOP_FINDINGS = 3
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Md(str):
    """Text already made safe for Markdown: the ``finalize`` hook passes it through."""

    __slots__ = ()


def _md(s: object) -> Md:
    return s if isinstance(s, Md) else Md(escape.md_text(s))


def _md_cell(s: object) -> Md:
    # Also the `md_lines` filter: a note's line breaks and a cell's are escaped the same way.
    return s if isinstance(s, Md) else Md(escape.md_cell(s))


def _md_link(text: object, href: object) -> Md:
    return Md(escape.md_link(text, href))


def _md_finalize(value: Any) -> str:
    if isinstance(value, Md):
        return value
    if isinstance(value, bool) or value is None:
        return escape.md_value(value)
    if isinstance(value, (int, float)):
        return str(value)
    return escape.md_value(value)


def fmt(value: Any, places: int = 1) -> str:
    """A number with exactly ``places`` decimals: scores 78.3, points 33.33."""
    return f"{float(value):.{places}f}"


def fmt_short(value: Any, places: int = 2) -> str:
    """A number without trailing zeros: weights 4, 1.5; risks 0.4, 1."""
    text = f"{float(value):.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _bands(r: Mapping[str, Any]) -> dict[str, float]:
    """The bank's rating bands, as the result records them."""
    bands = r["bank"]["rating_bands"]
    return {k: float(bands[k]) for k in DEFAULT_BANDS}


def rating_sentence(r: Mapping[str, Any], bands: Mapping[str, float]) -> str:
    """One sentence saying why the overall rating is what it is."""
    overall = r["overall"]
    score, rating, score_rating = overall["score"], overall["rating"], overall["score_rating"]
    base = f"Score {fmt(score)} is {score_rating} ({band_label(score_rating, bands)})"
    model = r.get("risk_model")
    if model is not None:
        binding = [f["reason"] for f in model["floors"] if f["rating"] == rating]
        if rating != score_rating and binding:
            floors = "floors" if len(binding) > 1 else "floor"
            return f"{base}; raised to {rating} by its {floors}: {'; '.join(binding)}."
        return f"{base}."
    if overall.get("escalated_by") and rating != score_rating:
        why = (
            "any red flag lifts the overall rating to at least high"
            if rating == "high"
            else f"{r['bank']['red_flag_critical_at']} or more red flags make an audit critical"
        )
        return f"{base}; raised to {rating} by {overall['escalated_by']}: {why}."
    return f"{base}."


def completeness_sentence(r: Mapping[str, Any]) -> tuple[str, bool]:
    """The completeness line and whether it is a warning."""
    counts = r["counts"]
    answered, applicable = counts["answered"], counts["applicable"]
    if not r["complete"]:
        missing = len(r["unanswered"])
        return (
            f"Incomplete: {answered} of {applicable} applicable questions answered. "
            f"{plural(missing, 'required question')} "
            f"{'is' if missing == 1 else 'are'} unanswered and each counts as its riskiest "
            "answer until answered.",
            True,
        )
    if answered == applicable:
        return f"Complete: all {applicable} applicable questions answered.", False
    blank = applicable - answered
    return (
        f"Complete: {answered} of {applicable} applicable questions answered; "
        f"the {plural(blank, 'question')} left blank "
        f"{'is' if blank == 1 else 'are'} optional and not scored.",
        False,
    )


def _why_blocks(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    titles = {"overall": "Overall score"}
    titles.update({k: m["title"] for k, m in r["metrics"].items()})
    order = ["overall", *r["metrics"].keys()]
    order += [k for k in r["why"] if k not in order]
    model = r.get("risk_model")
    roles = r.get("roles") or {}
    if model is not None:
        titles["exposure"] = "Exposure (system profile)"
    for key in order:
        why = r["why"].get(key)
        if why is None:
            continue
        source = r["overall"] if key == "overall" else r["metrics"].get(key, {})
        if key == "exposure" and "profile" in roles:
            source = roles["profile"]
        rating = source.get("rating", "low")
        total = float(why["total_weight"])
        weighted = sum(float(c["weight"]) * float(c["risk"]) for c in why["top"])
        weighted += float(why["others_points"]) * total / 100.0
        blocks.append(
            {
                "key": key,
                "title": titles.get(key, key),
                "why": why,
                "rating": rating,
                "weighted_sum": fmt_short(weighted, 2),
                "total_weight": fmt_short(total, 4),
                "formula": _formula_2(r, key) if model is not None else None,
            }
        )
    return blocks


def _formula_2(r: Mapping[str, Any], key: str) -> str | None:
    """The bank 2.0 formula of one score with its figures (None: the weighted mean applies)."""
    m = r["risk_model"]
    impact = fmt_short(m["impact"], 4)
    if key == "overall":
        return (
            f"score = 100 × I × L; I = {fmt_short(m['impact_floor'], 4)} + "
            f"(1 − {fmt_short(m['impact_floor'], 4)}) × E = {impact} (E = "
            f"{fmt_short(m['exposure'], 4)}); L = 1 − (1 − G)(1 − O) = "
            f"{fmt_short(m['likelihood'], 4)} (G = {fmt_short(m['control_gap'], 4)}, O = "
            f"{fmt_short(m['observed'], 4)}); 100 × {impact} × {fmt_short(m['likelihood'], 4)}"
            f" = {fmt(r['overall']['score'])} = {fmt(m['control_points'], 2)} control points "
            f"(100 × I × G) + {fmt(m['observation_points'], 2)} observation points "
            "(100 × I × (1 − G) × O)"
        )
    part = m["metrics"].get(key)
    if part is None:
        return None
    return (
        f"score = 100 × I × L_m; L_m = 1 − (1 − G_m)(1 − O_m) = "
        f"{fmt_short(part['likelihood'], 4)} (G_m = {fmt_short(part['control_gap'], 4)}, "
        f"O_m = {fmt_short(part['observed'], 4)}); 100 × {impact} × "
        f"{fmt_short(part['likelihood'], 4)} = {fmt(r['metrics'][key]['score'])}"
    )


ROLE_LABELS = {
    "profile": "Exposure (what the system can reach)",
    "control": "Control gap (what the team does)",
    "observation": "Observed (what the system was seen doing)",
}


def _red_flag_rule(r: Mapping[str, Any]) -> str:
    """How red flags move the rating, in one sentence."""
    m = r.get("risk_model")
    if m is None:
        return "Any red flag lifts the overall rating to at least high."
    return (
        f"Any red flag lifts the overall rating to at least {m['red_flag_floor']}, and "
        f"{r['bank']['red_flag_critical_at']} or more to critical; at the lowest exposure level "
        f"red flags, however many, lift it only to {m['red_flag_floor_at_lowest']}. Observed "
        f"behaviour that was not contained lifts it to at least {m['uncontained_floor']}."
    )


def _is_hash(value: object) -> bool:
    # Only a real hex digest goes into a Markdown code span, where escapes do not apply.
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _metadata(r: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(label, value, is_hash) rows of the metadata table at the top, in a fixed order."""
    system = r["system"]
    rows: list[tuple[str, str, bool]] = [("System", system.get("name", ""), False)]
    for key, label in (
        ("owner", "Owner"),
        ("version", "System version"),
        ("description", "Description"),
    ):
        if system.get(key):
            rows.append((label, system[key], False))
    auditor = r.get("auditor") or {}
    if auditor:
        rows.append(("Auditor", auditor.get("name", ""), False))
        for key, label in (
            ("team", "Auditor team"),
            ("role", "Auditor role"),
            ("email", "Auditor e-mail"),
        ):
            if auditor.get(key):
                rows.append((label, auditor[key], False))
    else:
        rows.append(("Auditor", "not given", False))
    bank = r["bank"]
    rows += [
        ("Audit date", r["audit_date"] or "not given", False),
        ("Question bank", f"{bank['id']} {bank['version']}: {bank['title']}", False),
    ]
    rows += cadence_rows(r)
    return rows


def _record(r: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """What the report was computed from, for a reviewer to check (kept out of the summary)."""
    bank = r["bank"]
    return [
        ("Question bank", f"{bank['id']} {bank['version']}", False),
        ("Bank sha256", bank["sha256"], _is_hash(bank["sha256"])),
        ("Answers file", r["answers_file"], False),
        ("Answers sha256", r["answers_sha256"], _is_hash(r["answers_sha256"])),
        ("Tool", f"{r['tool']['name']} {r['tool']['version']}", False),
    ]


def build_context(result: AuditResult) -> dict[str, Any]:
    """Everything the templates use, derived from the result alone (no clock, no environment)."""
    r: dict[str, Any] = escape.clean_data(result.model_dump(mode="json"))
    bands = _bands(r)
    question_text = {a["question_id"]: a["text"] for a in r["answers"]}
    answers_by_section = [
        {"section": s, "answers": [a for a in r["answers"] if a["section"] == s["id"]]}
        for s in r["sections"]
    ]
    known = {s["id"] for s in r["sections"]}
    orphans = [a for a in r["answers"] if a["section"] not in known]
    if orphans:
        answers_by_section.append(
            {
                "section": {"id": "", "title": "Other questions"},
                "answers": orphans,
            }
        )
    completeness, incomplete = completeness_sentence(r)
    top = r["findings"][:TOP_FINDINGS]
    return {
        "r": r,
        "bands": bands,
        "band_rows": [{"rating": name, "label": band_label(name, bands)} for name in RATING_ORDER],
        "metadata": _metadata(r),
        "record": _record(r),
        "metrics": list(r["metrics"].values()),
        "rating_sentence": rating_sentence(r, bands),
        "completeness": completeness,
        "incomplete": incomplete,
        "top_findings": top,
        "first_actions": [f for f in top if f["recommendation"]],
        "why_blocks": _why_blocks(r),
        "measured": measured_view(r),
        "roles": [
            {"id": k, "label": ROLE_LABELS.get(k, k), **v}
            for k, v in (r.get("roles") or {}).items()
        ],
        "red_flag_rule": _red_flag_rule(r),
        "question_text": question_text,
        "answers_by_section": answers_by_section,
        "section_titles": {s["id"]: s["title"] for s in r["sections"]},
        "status_labels": STATUS_LABELS,
        "rating_emoji": RATING_EMOJI,
        "rating_alert": SEVERITY_ALERT,
        "rating_colours": RATING_COLOURS,
    }


def _filters() -> dict[str, Any]:
    return {
        "fmt": fmt,
        "fmt_short": fmt_short,
        "plural": plural,
        "qid": ref_label,
        "held": _held,
    }


def _held(overall: Mapping[str, Any]) -> str:
    """What held a rating above its score's band, or "" (see `result.held_note`)."""
    from ic_audit.result import held_note

    return (
        held_note(overall["rating"], overall.get("score_rating"), overall.get("escalated_by")) or ""
    )


@functools.cache
def environment(fmt_name: Format, sandboxed: bool = False) -> Environment:
    """The Jinja2 environment for one report format, built once per process.

    The built-in templates come precompiled from the package when it has them (see
    `compile_builtin`), else are compiled from their source in memory: never through a cache
    of code that someone else could write.

    `sandboxed` is for templates a user supplies (`report --template`): Jinja2's immutable
    sandbox, so a template can read the report data but not reach Python internals or change it,
    with the time and size budget of `ic_audit.render.user_template`.
    """
    if sandboxed:
        return _make_environment(fmt_name, None, sandboxed=True)
    return _make_environment(fmt_name, _compiled_loader(fmt_name) or _source_loader())


def _source_loader() -> BaseLoader:
    import jinja2

    from ic_audit.resources import data_dir

    return jinja2.FileSystemLoader(str(data_dir("report_templates")))


def _make_environment(
    fmt_name: Format, loader: BaseLoader | None, sandboxed: bool = False
) -> Environment:
    import jinja2

    common: dict[str, Any] = {
        "keep_trailing_newline": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "undefined": jinja2.StrictUndefined,
    }
    cls: type[Environment] = jinja2.Environment
    if sandboxed:
        from ic_audit.render.user_template import sandbox_class

        cls = sandbox_class()
    else:
        common["loader"] = loader
    if fmt_name == "html":
        env = cls(autoescape=True, **common)
        env.filters.update(_filters())
    else:
        env = cls(autoescape=False, finalize=_md_finalize, **common)
        env.filters.update(_filters())
        env.filters.update(
            {
                # Numbers we format ourselves carry no Markdown: mark them safe as they are.
                "fmt": lambda v, places=1: Md(fmt(v, places)),
                "fmt_short": lambda v, places=2: Md(fmt_short(v, places)),
                "md": _md,
                "md_lines": _md_cell,
                "md_cell": _md_cell,
                "md_link": _md_link,
                # Our own numbers and labels: no user text, so no escaping needed.
                "raw": Md,
            }
        )
    env.globals["safe_href"] = escape.safe_href
    return env


# Precompiled built-in templates: Python modules that the wheel build writes (hatch_build.py,
# through `compile_builtin`) next to the rest of the package, so they are as trusted as
# ic-audit's own code and only the install writes them. A checkout or an editable install has
# none and compiles in memory.
COMPILED_DIR = Path(__file__).resolve().parent.parent / "_data" / "compiled_templates"
_MANIFEST = "manifest.json"
_FORMATS: tuple[Format, ...] = ("html", "md")


def _template_names(fmt_name: Format, names: list[str]) -> list[str]:
    # Each environment compiles only its own templates (the Markdown filters exist only in the
    # Markdown one).
    return [n for n in names if (".md." in n) == (fmt_name == "md")]


def _sources() -> dict[str, str]:
    """The shipped template sources' SHA-256, by name."""
    import hashlib

    from ic_audit.resources import data_dir

    folder = data_dir("report_templates")
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name.endswith(".j2")
    }


def compile_builtin(target: Path) -> None:
    """Compile the built-in templates for every format into ``target`` (used by the build)."""
    import json

    import jinja2

    sources = _sources()
    for fmt_name in _FORMATS:
        folder = target / fmt_name
        folder.mkdir(parents=True, exist_ok=True)
        env = _make_environment(fmt_name, _source_loader())
        names = _template_names(fmt_name, list(sources))
        env.compile_templates(
            str(folder), filter_func=set(names).__contains__, zip=None, ignore_errors=False
        )
        manifest = {
            "jinja2": jinja2.__version__,
            "templates": {n: sources[n] for n in names},
        }
        (folder / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _compiled_loader(fmt_name: Format, root: Path | None = None) -> BaseLoader | None:
    """A loader for the precompiled templates, if they were built by this Jinja2 from exactly
    the templates shipped; otherwise None (compile from source)."""
    import json

    import jinja2

    folder = (root or COMPILED_DIR) / fmt_name
    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
        sources = _sources()
        wanted = {n: sources[n] for n in _template_names(fmt_name, list(sources))}
        if manifest != {"jinja2": jinja2.__version__, "templates": wanted}:
            return None
    except (OSError, ValueError, KeyError):
        return None
    return jinja2.ModuleLoader(str(folder))


def render(fmt_name: Format, template: str, context: Mapping[str, Any]) -> str:
    return environment(fmt_name).get_template(template).render(**context)
