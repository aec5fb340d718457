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
