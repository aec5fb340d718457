"""Fuzzing the loaders: whatever a file holds, the result is an audit or located one-line
problems, never another exception, and always quickly."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ic_audit.answers import load_audit
from ic_audit.bank import load_bank
from ic_audit.errors import UserError
from tests.conftest import MINI_BANK

BANK = load_bank(MINI_BANK)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.dates().map(str),
    st.sampled_from(["yes", "no", "GD-01", "stop", "none", "2026-13-01"]),
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "system",
            "answers",
            "auditor",
            "audit_date",
            "bank",
            "name",
            "value",
            "note",
            "evidence",
            "GD-01",
            "CT-01",
            "CT-03",
            "AD-01",
            "AD-03",
        ]
    ),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)
    ),
    max_leaves=30,
)


@st.composite
def plausible_audits(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly well-formed files with random values, so the fuzzing reaches the answer checks."""
    answers = draw(st.dictionaries(keys, documents, max_size=8))
    return {"system": {"name": draw(st.text(max_size=30))}, "answers": answers}


def _check(path: Path) -> None:
    started = time.perf_counter()
    try:
        audit = load_audit(path, BANK)
    except UserError as exc:
        assert exc.problems
        for problem in exc.problems:
            text = str(problem)
            assert "\n" not in text and "\r" not in text and "\x1b" not in text
            assert text.startswith(str(path))
    else:
        assert audit.meta.system.name
    assert time.perf_counter() - started < 5


@FUZZ
@given(doc=st.one_of(documents, plausible_audits()), as_json=st.booleans())
def test_any_document_loads_or_gives_located_problems(
    tmp_path_factory: Any, doc: Any, as_json: bool
) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    if as_json:
        path = directory / "audit.json"
        path.write_text(json.dumps(doc, allow_nan=True))
    else:
        path = directory / "audit.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    _check(path)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".yaml", ".json"]))
def test_any_bytes_load_or_give_located_problems(
    tmp_path_factory: Any, data: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"audit{suffix}"
    path.write_bytes(data)
    _check(path)


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_loads_or_gives_located_problems(tmp_path_factory: Any, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "audit.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check(path)


def test_control_characters_in_a_key_are_escaped_in_the_message(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text('system: {name: X}\nanswers:\n  "GD\\n01\\u001b[31m": yes\n')
    try:
        load_audit(path, BANK)
    except UserError as exc:
        (text,) = [str(p) for p in exc.problems]
        assert "GD\\n01\\x1b[31m: unknown question id" in text
    else:
        raise AssertionError("an unknown id must be an error")


# -- the YAML builder against PyYAML's own composer and constructor

_PLAIN_WORDS = [
    "yes", "No", "TRUE", "off", "y", "n", "null", "Null", "~", "nan", ".nan", ".inf", "-.Inf",
    "12", "-0", "+5", "0", "1.5", "-1.5e+3", ".5", "1.", "1e5", "0.", "2026-10-01",
    "2026-10-01 10:00:00", "2026-13-01", "1:30", "0x10", "017", "0b11", "1_000", "yesterday",
    "no_agents", "one_covered", "true_north", "Refunds above 400 EUR", "acts_alone",
]  # fmt: skip
# What the builder reads as a number; every other number YAML 1.1 sees (1:30, 0x10...) is text.
_NUMBER = r"[-+]?(0|[1-9][0-9]*)|[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"  # noqa: E501
_Scalar = tuple[str, str]  # (how it is written: "plain" or "quoted", its text)
yaml_scalars = st.one_of(
    st.tuples(st.just("plain"), st.sampled_from(_PLAIN_WORDS)),
    st.tuples(st.just("plain"), st.from_regex(r"[A-Za-z0-9_~.+][A-Za-z0-9_ .+-]{0,14}[A-Za-z0-9]", fullmatch=True)),  # noqa: E501
    st.tuples(st.just("quoted"), st.text(st.characters(min_codepoint=0xA0, max_codepoint=0x2FF) | st.characters(min_codepoint=32, max_codepoint=126), max_size=12)),  # noqa: E501
    st.tuples(st.just("quoted"), st.sampled_from(_PLAIN_WORDS)),
    st.tuples(st.just("plain"), st.integers().map(str) | st.floats().map(str) | st.dates().map(str)),  # noqa: E501
    st.tuples(st.just("plain"), st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", fullmatch=True)),
)  # fmt: skip
yaml_trees = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), children, max_size=4),
    ),
    max_leaves=25,
)


def _yaml_lines(tree: Any, indent: int) -> list[str]:
    """Block-style YAML for a tree of written scalars, one line per scalar."""
    pad = " " * indent

    def inline(node: Any) -> str | None:
        if isinstance(node, tuple):
            style, text = node
            return text if style == "plain" else json.dumps(text, ensure_ascii=False)
        return None if node else ("{}" if isinstance(node, dict) else "[]")

    out: list[str] = []
    items = tree.items() if isinstance(tree, dict) else (("-", v) for v in tree)
    for key, value in items:
        lead = f"{pad}{key}" + ("" if key == "-" else ":")
        shown = inline(value)
        if shown is not None:
            out.append(f"{lead} {shown}")
        else:
            out.append(lead)
            out.extend(_yaml_lines(value, indent + 2))
    return out


def _oracle(text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The data and lines PyYAML's pure-Python composer and constructor give, with the
    builder's rules applied to the YAML 1.1 numbers and impossible dates it keeps as text."""
    import re

    loader = yaml.SafeLoader(text)
    root = loader.get_single_node()
    lines: dict[tuple[Any, ...], int] = {(): root.start_mark.line + 1}

    def value(node: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key, item in node.value:
                lines[(*path, key.value)] = key.start_mark.line + 1
                out[key.value] = value(item, (*path, key.value))
            return out
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*path, i)] = item.start_mark.line + 1
            return [value(item, (*path, i)) for i, item in enumerate(node.value)]
        number = node.tag.endswith((":int", ":float"))
        if number and not re.fullmatch(_NUMBER, node.value):
            return node.value
        try:
            return loader.construct_object(node)
        except ValueError:
            assert node.tag.endswith(":timestamp")
            return node.value

    return value(root, ()), lines


def _typed(data: Any) -> Any:
    # True == 1 and nan != nan: compare types and reprs.
    if isinstance(data, dict):
        return {k: _typed(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_typed(v) for v in data]
    return (type(data).__name__, repr(data))


@FUZZ
@given(tree=st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), yaml_trees, min_size=1))
def test_the_builder_reads_what_pyyaml_reads_with_our_number_and_date_rules(tree: Any) -> None:
    from ic_audit.yaml_events import parse_yaml

    text = "\n".join(_yaml_lines(tree, 0)) + "\n"
    data, lines = _oracle(text)
    doc = parse_yaml(text, "t.yaml")
    assert _typed(doc.data) == _typed(data), text
    assert doc.lines == lines, text


# -- answers read in one call (every answer valid) are the answers read one by one

EXPOSURE_BANK = load_bank(MINI_BANK.parent / "exposure_bank")
_EXTRA_VALUES = [None, True, "zzz", "", "free text", [], {}, 5, -1, "1:30", 1e9, "2026-01-01", "2027-01-01", "soon", ["stop", "stop"], ["none", "stop"]]  # fmt: skip # noqa: E501


@st.composite
def answer_files(draw: st.DrawFn, bank: Any) -> dict[str, Any]:
    # Half the files hold only what is valid alone (a note may still be missing where an
    # answer declares the question does not apply), so that many are valid as a whole.
    clean = draw(st.booleans())
    answers: dict[str, Any] = {}
    for q in bank.questions:
        values = [v for v, _ in q.answer_space] or {"text": ["text"], "date": ["2026-01-01"]}[
            q.type
        ]
        value = draw(st.sampled_from(values if clean else values + _EXTRA_VALUES))
        form = draw(st.sampled_from(["none", "short", "long", "long"]))
        if form == "short":
            answers[q.id] = value
        elif form == "long":
            long: dict[str, Any] = {}
            if draw(st.integers(0, 5)):
                long["value"] = value
            notes = [None, "why", "", "  "] + ([] if clean else [5, "x" * 5000])
            note = draw(st.sampled_from(notes))
            if note is not None:
                long["note"] = note
            evidences = [None, "T-1", ["a", "b"]] + ([] if clean else [[""], 3, {"a": 1}])
            evidence = draw(st.sampled_from(evidences))
            if evidence is not None:
                long["evidence"] = evidence
            if not clean and draw(st.integers(0, 20)) == 0:
                long["notes"] = "a misspelt key"
            answers[q.id] = long
    if not clean and draw(st.integers(0, 10)) == 0:
        answers["XX-99"] = "yes"
    return {"system": {"name": "S"}, "audit_date": "2026-10-01", "answers": answers}


def _outcome(path: Path, bank: Any) -> Any:
    try:
        audit = load_audit(path, bank)
    except UserError as exc:
        return [str(p) for p in exc.problems]
    return [(qid, a.model_dump(), a.model_fields_set) for qid, a in audit.answers.items()]


@FUZZ
@given(data=st.data(), exposure=st.booleans())
def test_answers_read_in_one_call_are_those_read_one_by_one(
    tmp_path_factory: Any, data: st.DataObject, exposure: bool
) -> None:
    import ic_audit.answers

    bank = EXPOSURE_BANK if exposure else BANK
    path = tmp_path_factory.mktemp("one-call") / "audit.yaml"
    path.write_text(yaml.safe_dump(data.draw(answer_files(bank))))
    together = _outcome(path, bank)
    one_by_one = ic_audit.answers._all_valid
    try:
        ic_audit.answers._all_valid = lambda *_: None  # type: ignore[assignment]
        assert _outcome(path, bank) == together
    finally:
        ic_audit.answers._all_valid = one_by_one
