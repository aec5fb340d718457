"""The speed benchmark runs and reports every figure (its timings are never checked here: a
timed unit test would fail on a busy machine; `python benchmarks/bench.py` checks the goals)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.synthetic import write_answers, write_bank
from ic_audit.answers import load_audit
from ic_audit.bank import load_bank
from ic_audit.scoring import score_audit
from tests.conftest import ROOT

BENCH = ROOT / "benchmarks" / "bench.py"

ROWS = {
    "bare",
    "help",
    "score",
    "report_html",
    "score_no_cache",
    "report_html_no_cache",
    "batch_table_1",
    "batch_table_n",
    "batch_table_per_file",
    "batch_json_1",
    "batch_json_n",
    "batch_json_per_file",
    "bank_20",
    "bank_50",
    "bank_50_no_cache",
    "bank_100",
    "per_question_20",
    "per_question_50",
    "per_question_100",
    "marginal_mid",
    "marginal_large",
    "linear",
    "floor_typer",
    "floor_pydantic",
}
GOALS = {"help", "score", "report_html", "batch_table_per_file", "linear"}


def test_quick_benchmark_produces_every_row(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "must-stay-unused")}
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["quick"] is True
    rows = {row["id"]: row for row in report["rows"]}
    assert set(rows) == ROWS
    for row in rows.values():
        if row["id"] == "linear" and row["value"] is None:
            continue  # one quick run each: the small sizes can come out in the wrong order
        assert isinstance(row["value"], float) and math.isfinite(row["value"]), row
        assert row["scenario"] and row["unit"], row
        if row["unit"] == "ms":
            assert row["value"] > 0 and row["ratio"] is not None, row
    assert {rid for rid, row in rows.items() if row["goal"]} == GOALS
    assert all(isinstance(rows[rid]["passed"], bool) for rid in GOALS)
    assert not (tmp_path / "must-stay-unused").exists()  # the benchmark has its own cache


def test_quick_benchmark_prints_a_table(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--only", "startup"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].split() == ["scenario", "value", "unit", "x", "python", "goal", "result"]
    for label in ("python -c pass", "ic-audit --help", "score demo-audit.yaml", "--format html"):
        assert any(label in line for line in lines), label
    assert "<= 8x" in proc.stdout and "<= 12x" in proc.stdout and "<= 15x" in proc.stdout


def test_synthetic_banks_are_valid_and_fully_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for n in (7, 120):
        bank = load_bank(write_bank(tmp_path / f"bank-{n}", n))
        assert len(bank.questions) == n
        assert any(q.when is not None for q in bank.questions)
        audit = load_audit(write_answers(tmp_path / f"answers-{n}.yaml", n), bank)
        assert len(audit.answers) == n
        result = score_audit(bank, audit)
        assert result.counts.questions == n
        assert result.counts.unanswered == 0
    types = {q.type for q in bank.questions}
    assert types == {"yes_no", "single", "multi", "number", "text", "date"}
    assert {q.multi_mode for q in bank.questions if q.type == "multi"} == {"hazards", "safeguards"}
    assert result.not_applicable  # some follow-ups are switched off by their answer
    assert result.red_flags
