"""`ic-audit init`: an answers file to fill in, every question listed with its allowed values.

As written it validates and scores as incomplete; it is also what the walkthrough starts from.
"""

from __future__ import annotations

import datetime as dt
import json

from ic_audit.bank import Bank, Question

PLACEHOLDER_SYSTEM_NAME = "Name of the AI system"


def _yaml_str(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars: always safe, whatever the text.
    return json.dumps(text, ensure_ascii=False)


def _allowed(q: Question) -> list[str]:
    return q.kind.init_hint(q)


def _wrapped(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width)


HEADER = (
    "Fill in each answer after its id. Leave it empty to skip; unanswered required",
    "questions count as their riskiest answer. Long form, with a note and evidence:",
    "  CT-03:",
    "    value: [stop, override]",
    "    note: Drilled in staging only.",
    "    evidence: [OPS-1234, https://wiki.example/runbook]",
    "Check it with `ic-audit validate FILE`, score it with `ic-audit score FILE`.",
)


def header_lines(bank: Bank) -> list[str]:
    """The comment lines at the top of the file, without their ``# ``."""
    return [f"ic-audit answers file for bank {bank.id} {bank.version}: {bank.title}", *HEADER]


def section_comment(title: str) -> str:
    """The comment that opens a section, without its ``# ``."""
    return f"==== {title} ===="


def question_comment(q: Question) -> list[str]:
    """The comment lines above a question's answer, without their ``# ``.

    The walkthrough writes the same lines above an answer it adds to a file, so a file filled in
    by `ic-audit run` reads like one filled in by hand from this template.
    """
    kind = q.type.replace("_", "/")
    tags = [kind]
    if q.metric:
        tags.append(f"metric: {q.metric}")
    if not q.is_required:
        tags.append("optional")
    out = _wrapped(f"{q.id} ({', '.join(tags)}): {q.text}")
    if q.when:
        out += _wrapped(f"follow-up: applies when {q.when.describe()}")
    out += [f"  {line}" for line in _allowed(q)]
    return out


def answers_template(bank: Bank, today: dt.date) -> str:
    out = [f"# {line}".rstrip() for line in header_lines(bank)]
    out += [
        "",
        "system:",
        f"  name: {_yaml_str(PLACEHOLDER_SYSTEM_NAME)}   # required",
        '  owner: "Owning team"',
        "auditor:",
        '  name: "Your name"',
        '  team: "Your team"',
        f"audit_date: {today.isoformat()}",
        "bank:",
        f"  id: {_yaml_str(bank.id)}",
        f"  version: {_yaml_str(bank.version)}",
        "answers:",
    ]
    for section in bank.sections:
        out.append("")
        out.append(f"  # {section_comment(section.title)}")
        for q in section.questions:
            out.append("")
            out.extend(f"  # {line}" for line in question_comment(q))
            out.append(f"  {q.id}:")
    return "\n".join(out) + "\n"
