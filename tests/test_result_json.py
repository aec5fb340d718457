"""`score/report --format json` text, written by pydantic's serializer (`AuditResult.json_text`):
the data of `to_data`, laid out as `json.dumps(indent=2, ensure_ascii=False)` lays it out."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ic_audit.answers import load_audit
from ic_audit.bank import load_bank
from ic_audit.errors import json_utf8
from ic_audit.render.json_text import dumps_indented
from ic_audit.render.jsonout import render_json
from ic_audit.result import AuditResult
from ic_audit.scoring import score_audit
from tests.conftest import MINI_BANK, REAL_BANK, ROOT, make_audit, run_cli
from tests.test_scoring_properties import BANKS, PROFILE, audits

EXAMPLES = sorted(
    [ROOT / "examples" / "demo-audit.yaml", *(ROOT / "examples").glob("*/*.yaml")],
    key=str,
)
# A float the json module writes with an exponent below 1e-4 (1e-05), and pydantic in full.
_SMALL_FLOAT = re.compile(r"\d\.?\d*e-0[5-9]")


def _results() -> list[AuditResult]:
    bank = load_bank(REAL_BANK)
    return [score_audit(bank, load_audit(path, bank)) for path in EXAMPLES if "ci" not in path.name]


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []


def test_every_shipped_example_is_written_as_the_json_module_writes_it() -> None:
    results = _results()
    assert len(results) >= 9  # the demo, the archetypes and the history
    for result in results:
        assert render_json(result) == dumps_indented(result.to_data()) + "\n"
    assert render_json(results) == dumps_indented([r.to_data() for r in results]) + "\n"
    assert render_json([]) == "[]\n"
    assert render_json(results[:1]) == dumps_indented([results[0].to_data()]) + "\n"


@pytest.mark.parametrize("name", BANKS)
@PROFILE
@given(data=st.data())
def test_generated_audits_are_written_as_the_json_module_writes_them(
    name: str, data: st.DataObject
) -> None:
    bank = BANKS[name]
    result = score_audit(bank, make_audit(bank, data.draw(audits(bank))))
    expected = dumps_indented(result.to_data()) + "\n"
    text = render_json(result)
    assert json.loads(text) == result.to_data()
    if not _SMALL_FLOAT.search(expected):
        assert text == expected
    pair = render_json([result, result])
    assert json.loads(pair) == [result.to_data()] * 2


def test_optional_keys_are_left_out_as_to_data_leaves_them_out() -> None:
    bank = load_bank(MINI_BANK)  # a 1.x bank: no exposure, roles, risk model
    result = score_audit(bank, make_audit(bank, {}))
    data = json.loads(render_json(result))
    assert data == result.to_data()
    for key in ("exposure", "roles", "risk_model", "declared_not_applicable", "evidence"):
        assert key not in data
    assert all("measured" not in metric for metric in data["metrics"].values())


def test_a_small_float_is_the_same_number_in_full_digits() -> None:
    bank = load_bank(REAL_BANK)
    result = score_audit(bank, make_audit(bank, {}))
    small = result.model_copy(update={"evidence": {"rate": 2.5e-05, "big": 1e16}})
    text = small.json_text()
    assert '"rate": 0.000025' in text and '"big": 1e+16' in text
    assert json.loads(text)["evidence"] == {"rate": 2.5e-05, "big": 1e16}
    assert all(math.isfinite(f) for f in _floats(json.loads(text)))


def test_a_file_name_that_is_not_utf8_falls_back_to_the_json_modules_escapes() -> None:
    bank = load_bank(REAL_BANK)
    result = score_audit(bank, make_audit(bank, {}))
    odd = result.model_copy(update={"answers_file": "audit-\udcff.yaml"})
    with pytest.raises(ValueError):
        odd.json_text()
    assert render_json(odd) == json_utf8(dumps_indented(odd.to_data())) + "\n"
    text = render_json([odd, result])
    text.encode("utf-8")  # writable
    assert json.loads(text)[0]["answers_file"] == "audit-\\xff.yaml"  # the byte, visible
    assert json.loads(text)[1] == result.to_data()


def test_small_evidence_scores_keep_their_value_through_score_format_json(tmp_path: Path) -> None:
    # The spellings README and `AuditResult.json_text` document for small floats, each the same
    # number: full digits from 1e-5 up to 1e-4, a one-digit exponent from 1e-9 up to 1e-5.
    audit = tmp_path / "audit.yaml"
    audit.write_text(
        "system: {name: Tiny scores}\naudit_date: 2026-10-01\nanswers: {GV-10: yes}\n"
        "evidence:\n  evaluations:\n"
        "    - {date: 2026-06-30, suite: s, score: 0.00000012}\n"
        "    - {date: 2026-09-30, suite: s, score: 0.00002}\n",
        encoding="utf-8",
    )
    proc = run_cli("score", str(audit), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    series = json.loads(proc.stdout)["evidence"]["evaluation_series"]["s"]
    assert [row["score"] for row in series] == [1.2e-07, 2e-05]
    assert '"score": 1.2e-7\n' in proc.stdout and '"score": 0.00002\n' in proc.stdout
