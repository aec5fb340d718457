"""The limits an answers file meets are the same in `ic-audit schema` and in the loader.

Each boundary document is judged by the JSON Schema (`catalogue.answers_schema`, what
`ic-audit schema` prints) and by the loader (`validate`/`score`); the verdicts must agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ic_audit import limits
from ic_audit.answers import load_audit
from ic_audit.bank import load_bank
from ic_audit.catalogue import answers_schema
from ic_audit.errors import UserError
from tests.conftest import MINI_BANK


def _doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "system": {"name": "S"},
        "bank": {"id": "mini", "version": "0.1"},
        "answers": {"GD-01": "no"},
    }
    for key, value in over.items():
        if key == "answer":
            doc["answers"]["GD-01"] = value
        elif key == "bank_version":
            doc["bank"]["version"] = value
        else:
            doc["system"][key] = value
    return doc


def _long(**fields: Any) -> dict[str, Any]:
    return _doc(answer={"value": "no", **fields})


N, L, E, C = (
    limits.TEXT_MAX,
    limits.LONG_TEXT_MAX,
    limits.EVIDENCE_ITEM_MAX,
    limits.EVIDENCE_COUNT_MAX,
)
CASES = {
    "evidence item at the limit": _long(evidence=["e" * E]),
    "evidence item over the limit": _long(evidence=["e" * (E + 1)]),
    "one evidence string over the limit": _long(evidence="e" * (E + 1)),
    "an empty evidence item": _long(evidence=[""]),
    "evidence count at the limit": _long(evidence=[f"E-{i}" for i in range(C)]),
    "evidence count over the limit": _long(evidence=[f"E-{i}" for i in range(C + 1)]),
    "note at the limit": _long(note="n" * L),
    "note over the limit": _long(note="n" * (L + 1)),
    "system name at the limit": _doc(name="s" * N),
    "system name over the limit": _doc(name="s" * (N + 1)),
    "system description over the limit": _doc(description="d" * (L + 1)),
    "an empty bank version": _doc(bank_version=""),
    "a bank version over the limit": _doc(bank_version="v" * (N + 1)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_json_schema_and_the_loader_agree_on_the_limits(case: str, tmp_path: Path) -> None:
    doc = CASES[case]
    bank = load_bank(MINI_BANK)
    schema_ok = jsonschema.Draft202012Validator(answers_schema(bank)).is_valid(doc)
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    try:
        load_audit(path, bank)
        loader_ok = True
    except UserError:
        loader_ok = False
    assert schema_ok == loader_ok, f"{case}: schema says {schema_ok}, loader says {loader_ok}"


def test_the_boundary_cases_include_both_verdicts() -> None:
    # Without documents on both sides, agreement above would prove nothing.
    bank = load_bank(MINI_BANK)
    validator = jsonschema.Draft202012Validator(answers_schema(bank))
    verdicts = {validator.is_valid(doc) for doc in CASES.values()}
    assert verdicts == {True, False}
