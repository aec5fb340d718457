"""The speed benchmark runs and reports every figure with its goal (its timings are never
checked here: a timed unit test would fail on a busy machine; `python benchmarks/bench.py` checks
the goals). The script-running tests take a while: opt-in with `pytest -m benchmark`."""

from __future__ import annotations

import json
import math
import os
import re
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

# Each figure's fields in `--json` (a row of the table).
ROW_KEYS = {"id", "scenario", "value", "unit", "ratio", "goal", "passed"}


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Its own cache: the run must leave the caller's XDG_CACHE_HOME unused.
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "must-stay-unused")}
    return subprocess.run(
        [sys.executable, str(BENCH), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.benchmark
def test_quick_benchmark_reports_every_figure_as_json(tmp_path: Path) -> None:
    proc = _bench(tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["quick"] is True
    assert isinstance(report["all_goals_met"], bool)
    rows = report["rows"]
    assert isinstance(rows, list) and len(rows) > 1
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids), "every figure has its own id"
    for row in rows:
        assert ROW_KEYS <= set(row), row
        assert row["scenario"].strip() and row["unit"].strip(), row
        value = row["value"]
        # None only where one quick run cannot compute a figure (a fit over noisy sizes).
        assert value is None or (isinstance(value, float) and math.isfinite(value)), row
        if row["unit"] == "ms" and value is not None:
            assert value > 0 and row["ratio"] is not None and row["ratio"] > 0, row
        if row["goal"]:
            assert row["passed"] is None or isinstance(row["passed"], bool), row
        else:
            assert row["passed"] is None, row  # a verdict needs a goal
    gated = [row for row in rows if row["goal"]]
    assert gated, "the benchmark checks at least one goal"
    assert any(isinstance(row["passed"], bool) for row in gated)
    # Three baselines, sampled in the same run; the stack floor (the import floor plus one
    # pydantic model used) is what the start-up goals are measured against.
    assert ids[:3] == ["bare", "floor", "stack"]
    assert report["stack_floor_ms"] == rows[2]["value"] > report["floor_ms"] == rows[1]["value"]
    ratio_goals = {row["id"]: row for row in rows if row["goal"] and row["unit"] == "ms"}
    assert ratio_goals["help"]["goal"].endswith("x floor")  # reads no file: no model
    for rid in ("score", "report_html"):
        row = ratio_goals[rid]
        assert row["goal"].endswith("x stack")
        assert row["stack_ratio"] == pytest.approx(row["value"] / report["stack_floor_ms"])
    assert not (tmp_path / "must-stay-unused").exists()


@pytest.mark.benchmark
def test_quick_benchmark_prints_each_figure_with_its_goal(tmp_path: Path) -> None:
    proc = _bench(tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if "scenario" in line and "goal" in line)
    rule = lines[header + 1]
    assert set(rule.replace(" ", "")) == {"-"}
    # The rule's dashes give each column's extent; cut every figure's line into its cells.
    spans, start = [], 0
    for width in (len(cell) for cell in rule.split("  ")):
        spans.append((start, start + width))
        start += width + 2
    head = [lines[header][a:b].strip() for a, b in spans]
    goal_at, result_at = head.index("goal"), len(head) - 1
    # A figure's line has a number (or "-") in the value column and a unit; the lines after
    # the table are sentences.
    value, unit = spans[1], spans[2]
    body = [
        line
        for line in lines[header + 2 :]
        if re.fullmatch(r"-|[0-9.]+", line[value[0] : value[1]].strip())
        and line[unit[0] : unit[1]].strip()
    ]
    figures = [[line[a:b].strip() for a, b in spans] for line in body]
    assert len(figures) > 1
    with_goal = [cells for cells in figures if cells[goal_at]]
    assert with_goal, "some figure is printed with its goal"
    for cells in figures:
        assert cells[0], cells  # every figure names its scenario
        if cells[goal_at]:
            assert cells[result_at].split()[0] in ("PASS", "FAIL"), cells
        else:
            assert not cells[result_at], cells
    assert not (tmp_path / "must-stay-unused").exists()


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
