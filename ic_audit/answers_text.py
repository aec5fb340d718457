"""The answers file written whole, and the YAML style every answers writer shares.

`answers_text` writes a whole file from scratch (YAML, or JSON by key order); the walkthrough
falls back to it only if an edited `ic_audit.answers_layout.Layout` ever failed to read back as
the answers it holds. Its output:

- stable key order: ``system``, ``auditor``, ``audit_date``, ``bank``, any other top-level key,
  then ``answers`` in bank order;
- every answer is preceded by a ``# ID: question text`` comment (comments are regenerated on
  each save; a person's own comments in the file are not kept);
- the shorthand form (``GD-01: yes``) when an answer has no note and no evidence, the long form
  (``value``/``note``/``evidence``) otherwise;
- every string a person typed is a double-quoted scalar with YAML-safe escapes; option values
  are written plain when plain is unambiguous; dates in ISO form; yes/no as ``yes``/``no``.

Keys and answers the caller does not know about are written back as they were (in a generic
form), so nothing in a valid file is dropped by a save. The scalar and comment helpers here
(`quote`, `answer_value`, ...) are what `Layout` writes new text with, so both look alike.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import textwrap
from collections.abc import Mapping
from typing import Any

from ic_audit.answers import Answer
from ic_audit.bank import Bank, Question

# The order people expect at the top of the file, and inside the known mappings.
TOP_ORDER = ("system", "auditor", "audit_date", "bank")
SUB_ORDER: dict[str, tuple[str, ...]] = {
    "system": ("name", "owner", "description", "version"),
    "auditor": ("name", "team", "role", "email"),
    "bank": ("id", "version"),
}

_PLAIN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
# Words some YAML reader (1.1 or 1.2) takes for a boolean or null: never written plain.
_AMBIGUOUS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "nan", "inf"}
_WIDTH = 96


# ---------------------------------------------------------------------------------- scalars


def _is_yaml_printable(ch: str) -> bool:
    # The YAML 1.1 printable set, minus the characters PyYAML/libyaml take as line breaks or a
    # byte-order mark (U+0085, U+2028, U+2029, U+FEFF): those are escaped so they survive.
    o = ord(ch)
    if ch in "\u0085\u2028\u2029\ufeff":
        return False
    return (
        0x20 <= o <= 0x7E
        or 0xA0 <= o <= 0xD7FF
        or 0xE000 <= o <= 0xFFFD
        or 0x10000 <= o <= 0x10FFFF
    )


def quote(text: str) -> str:
    """A double-quoted YAML scalar that reads back as exactly ``text``.

    JSON's string syntax is a subset of YAML's double-quoted style; on top of it every
    character YAML does not allow raw in a file (or reads as a line break) is escaped.
    """
    out: list[str] = []
    for ch in json.dumps(text, ensure_ascii=False):
        if _is_yaml_printable(ch) or ch in "\t\n\r":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:  # pragma: no cover - every character above U+FFFF is printable
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def _plain_ok(text: str) -> bool:
    """True when ``text`` reads back as the same string when written without quotes."""
    if not _PLAIN_RE.match(text) or text.lower() in _AMBIGUOUS:
        return False
    import yaml

    resolver = yaml.resolver.Resolver()
    resolved = resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(resolved == "tag:yaml.org,2002:str")


def key(text: str) -> str:
    return text if _plain_ok(text) else quote(text)


def word(text: str) -> str:
    """An identifier-like value (option value, id): plain when safe, quoted otherwise."""
    return text if _plain_ok(text) else quote(text)


def number(x: int | float) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return ".nan"
    if math.isinf(x):
        return ".inf" if x > 0 else "-.inf"
    text = repr(x)
    # YAML 1.1 (PyYAML) needs a dot in a float with an exponent: 1e-05 would read as text.
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text


def scalar(value: Any) -> str:
    """Any plain-data scalar in a form that reads back as the same value and type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, dt.datetime):
        return quote(value.isoformat())
    if isinstance(value, dt.date):
        return value.isoformat()
    return quote(str(value))


def flow(value: Any) -> str:
    """Any plain data (mappings, lists, scalars) as one line of flow-style YAML."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key(str(k))}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


# ---------------------------------------------------------------------------------- answers


def answer_value(q: Question | None, value: Any) -> str:
    """The YAML for one normalised answer value of question ``q``."""
    if value is None:
        return "null"
    if q is None:
        return flow(value)
    return q.kind.yaml(q, value)


def _comment_text(text: str) -> str:
    cleaned = " ".join(text.split())
    return "".join(ch if _is_yaml_printable(ch) else "?" for ch in cleaned)


def _comment_line(text: str) -> str:
    # Like `_comment_text`, but the indentation inside the comment (allowed values) is kept.
    return "".join(ch if _is_yaml_printable(ch) else "?" for ch in text)


def _comment(indent: str, text: str) -> list[str]:
    lines = textwrap.wrap(_comment_text(text), _WIDTH - len(indent) - 2) or [""]
    return [f"{indent}# {lines[0]}"] + [f"{indent}#   {line}" for line in lines[1:]]


def _mapping_lines(name: str, value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{key(name)}: {flow(value)}"]
    if not value:
        return [f"{key(name)}: {{}}"]
    order = SUB_ORDER.get(name, ())
    keys = [k for k in order if k in value] + [k for k in value if k not in order]
    out = [f"{key(name)}:"]
    for k in keys:
        out.append(f"  {key(str(k))}: {flow(value[k])}")
    return out


def _answer_lines(qid: str, q: Question | None, answer: Answer) -> list[str]:
    out = _comment("  ", f"{qid}: {q.text}" if q is not None else qid)
    if answer.note is None and not answer.evidence:
        out.append(f"  {key(qid)}: {answer_value(q, answer.value)}")
        return out
    out.append(f"  {key(qid)}:")
    out.append(f"    value: {answer_value(q, answer.value)}")
    if answer.note is not None:
        out.append(f"    note: {quote(answer.note)}")
    if answer.evidence:
        out.append("    evidence:")
        out.extend(f"      - {quote(item)}" for item in answer.evidence)
    return out


def ordered_answers(bank: Bank, answers: Mapping[str, Answer]) -> list[tuple[str, Answer]]:
    """Answers in bank order; ids the bank does not know keep their order, at the end."""
    known = [(q.id, answers[q.id]) for q in bank.questions if q.id in answers]
    unknown = [(qid, a) for qid, a in answers.items() if qid not in bank.by_id]
    return known + unknown


def answers_text(
    bank: Bank,
    meta: Mapping[str, Any],
    answers: Mapping[str, Answer],
    *,
    as_json: bool = False,
) -> str:
    """Serialise an answers file.

    ``meta`` holds the top-level keys other than ``answers`` as plain data (as read from the
    file, or built by the walkthrough); ``answers`` maps question ids to `Answer`.
    """
    if as_json:
        return _json_text(bank, meta, answers)
    out = [
        f"# ic-audit answers file for bank {_comment_text(bank.id)} "
        f"{_comment_text(bank.version)}: {_comment_text(bank.title)}",
        "# Saved by `ic-audit run`, which regenerates these comments on every save.",
        "# Resume with `ic-audit run FILE`; score with `ic-audit score FILE`.",
        "",
    ]
    rest = [k for k in meta if k not in TOP_ORDER and k != "answers"]
    for name in [*[k for k in TOP_ORDER if k in meta], *rest]:
        value = meta[name]
        if name == "audit_date" and isinstance(value, dt.date):
            out.append(f"audit_date: {scalar(value)}")
        else:
            out.extend(_mapping_lines(name, value))
    items = ordered_answers(bank, answers)
    if not items:
        out.append("answers: {}")
        return "\n".join(out) + "\n"
    out.append("answers:")
    current_section: str | None = None
    for qid, answer in items:
        q = bank.by_id.get(qid)
        section = q.section if q is not None else ""
        if section != current_section:
            current_section = section
            title = bank.section_by_id[section].title if section in bank.section_by_id else ""
            out.append("")
            out.append(f"  # ==== {_comment_text(title or 'Other answers')} ====")
        out.append("")
        out.extend(_answer_lines(qid, q, answer))
    return "\n".join(out) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _json_text(bank: Bank, meta: Mapping[str, Any], answers: Mapping[str, Answer]) -> str:
    data: dict[str, Any] = {}
    rest = [k for k in meta if k not in TOP_ORDER and k != "answers"]
    for name in [*[k for k in TOP_ORDER if k in meta], *rest]:
        value = meta[name]
        if isinstance(value, Mapping):
            order = SUB_ORDER.get(name, ())
            keys = [k for k in order if k in value] + [k for k in value if k not in order]
            value = {k: value[k] for k in keys}
        data[name] = _plain(value)
    out: dict[str, Any] = {}
    for qid, answer in ordered_answers(bank, answers):
        value = _plain(answer.value)
        if answer.note is None and not answer.evidence:
            out[qid] = value
            continue
        long: dict[str, Any] = {"value": value}
        if answer.note is not None:
            long["note"] = answer.note
        if answer.evidence:
            long["evidence"] = list(answer.evidence)
        out[qid] = long
    data["answers"] = out
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
