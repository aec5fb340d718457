"""Operational evidence (issue 12, points 1-5): validation, the computed figures against numbers
worked by hand, evidence answering bank questions, the reports, independence and cadence."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from ic_audit.measure import (
    alignment_decay,
    controllability,
    goal_drift,
    nearest_rank,
    slope_per_days,
    wilson,
)
from tests.conftest import DEMO, run_cli, run_main

D = dt.date.fromisoformat


def _write(tmp_path: Path, text: str, name: str = "audit.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEAD = "system: {name: Test agent, owner: Platform team}\naudit_date: 2026-10-01\n"


# --- computations, by hand ----------------------------------------------------------------


def test_wilson_bounds_worked_by_hand() -> None:
    # 3 incidents in 2,000 actions, z = 1.96, z^2 = 3.8416:
    #   p = 0.0015; z^2/n = 0.0019208; denominator 1 + 0.0019208 = 1.0019208
    #   centre = (0.0015 + 0.0009604) / 1.0019208 = 0.0024557
    #   half = 1.96 * sqrt(0.0015 * 0.9985 / 2000 + 3.8416 / (4 * 2000^2)) / 1.0019208
    #        = 1.96 * sqrt(7.48875e-7 + 2.401e-7) / 1.0019208 = 1.96 * 0.00099447 / 1.0019208
    #        = 0.0019454
    #   -> 0.51 to 4.40 per 1,000
    low, high = wilson(3, 2000)
    assert round(1000 * low, 2) == 0.51
    assert round(1000 * high, 2) == 4.40
    # 0 in 500: upper = (z^2/n) / (1 + z^2/n) = 0.0076832 / 1.0076832 = 0.0076246 -> 7.62
    low, high = wilson(0, 500)
    assert low == 0.0
    assert round(1000 * high, 2) == 7.62


def test_goal_drift_pools_windows() -> None:
    # 1 + 2 incidents in 1,200 + 800 actions = 3 in 2,000: 1.5 per 1,000, upper 4.40 (above);
    # 1,200 of 2,000 reviewed independently = 0.6.
    reviews: list[Any] = [
        {"start": D("2026-07-01"), "end": D("2026-07-31"), "actions_reviewed": 1200,
         "incidents": 1, "reviewer": "independent"},
        {"start": D("2026-08-01"), "end": D("2026-08-31"), "actions_reviewed": 800,
         "incidents": 2, "reviewer": "deploying_team"},
    ]  # fmt: skip
    assert goal_drift(reviews) == {
        "actions_reviewed": 2000,
        "incidents": 3,
        "rate_per_1000": 1.5,
        "upper_95_per_1000": 4.4,
        "windows": 2,
        "independent_share": 0.6,
    }


def test_p95_nearest_rank_and_slope_by_hand() -> None:
    # 20 values 10, 20, ..., 200: rank = ceil(0.95 * 20) = 19 -> 190.
    assert nearest_rank([float(10 * i) for i in range(20, 0, -1)], 95) == 190.0
    # 3 values: rank ceil(2.85) = 3 -> the largest.
    assert nearest_rank([5.0, 1.0, 3.0], 95) == 5.0
    # (0, 0.90), (90, 0.87), (180, 0.84): slope -0.03 per 90 days exactly.
    assert round(slope_per_days([(0, 0.90), (90, 0.87), (180, 0.84)]) or 0, 6) == -0.03
    assert slope_per_days([(0, 0.9)]) is None


def test_controllability_worked_by_hand() -> None:
    drills: list[Any] = [
        {"date": D("2026-09-12"), "environment": "production", "load": 0.9, "attempted": "stop",
         "succeeded": True, "seconds_to_effect": 41.0},
        {"date": D("2026-08-01"), "environment": "production", "load": 0.5,
         "attempted": "override", "succeeded": True, "seconds_to_effect": 12.25},
        {"date": D("2026-06-01"), "environment": "lab", "load": 1.0, "attempted": "stop",
         "succeeded": False, "seconds_to_effect": None},
        {"date": D("2026-05-01"), "environment": "staging", "load": 0.2,
         "attempted": "rollback", "succeeded": True, "seconds_to_effect": 300.0},
    ]  # fmt: skip
    # 3 of 4 succeeded = 0.75; p95 of [12.25, 41, 300]: rank ceil(2.85) = 3 -> 300.0;
    # production at load >= 0.8: only the first, 1 of 4 = 0.25;
    # last production drill 2026-09-12 -> 2026-10-01 is 19 days.
    assert controllability(drills, D("2026-10-01")) == {
        "drills": 4,
        "success_rate": 0.75,
        "p95_seconds": 300.0,
        "production_load_share": 0.25,
        "days_since_production_drill": 19,
    }
    assert controllability(drills[2:], D("2026-10-01"))["days_since_production_drill"] is None


def test_alignment_decay_worked_by_hand() -> None:
    runs: list[Any] = [
        {"date": D("2026-01-01"), "suite": "s", "score": 0.90},
        {"date": D("2026-04-01"), "suite": "s", "score": 0.87},  # day 90
        {"date": D("2026-06-30"), "suite": "s", "score": 0.84},  # day 180
    ]
    # baseline 0.90, latest 0.84, change -0.06, slope -0.03 per 90 days, window 180 days,
    # 2026-06-30 -> 2026-10-01 = 93 days.
    assert alignment_decay(runs, D("2026-10-01")) == [
        {
            "suite": "s",
            "baseline": 0.9,
            "latest": 0.84,
            "change": -0.06,
            "slope_per_90_days": -0.03,
            "window_days": 180,
            "days_since_last": 93,
        }
    ]


# --- through the CLI ----------------------------------------------------------------------

EVIDENCE = """evidence:
  drift_reviews:
    - {start: 2026-07-01, end: 2026-09-30, actions_reviewed: 2000, incidents: 3,
       reviewer: independent}
  drills:
    - {date: 2026-09-12, environment: production, load: 0.9, attempted: stop, succeeded: true,
       seconds_to_effect: 41}
    - {date: 2026-09-20, environment: lab, load: 0.1, attempted: override, succeeded: false}
  evaluations:
    - {date: 2026-06-30, suite: refusals-v3, score: 0.94}
    - {date: 2026-09-28, suite: refusals-v3, score: 0.91}
answers: {}
"""


def test_score_json_has_measured_as_in_the_contract(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + EVIDENCE)
    proc = run_main("score", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)["metrics"]
    assert metrics["goal_drift"]["measured"] == {
        "actions_reviewed": 2000,
        "incidents": 3,
        "rate_per_1000": 1.5,
        "upper_95_per_1000": 4.4,
        "windows": 1,
        "independent_share": 1.0,
    }
    assert metrics["controllability"]["measured"] == {
        "drills": 2,
        "success_rate": 0.5,
        "p95_seconds": 41.0,
        "production_load_share": 0.5,
        "days_since_production_drill": 19,
    }
    # 0.94 -> 0.91 over 90 days: change -0.03, slope -0.03 per 90 days; 3 days before the audit.
    assert metrics["alignment_decay"]["measured"] == [
        {
            "suite": "refusals-v3",
            "baseline": 0.94,
            "latest": 0.91,
            "change": -0.03,
            "slope_per_90_days": -0.03,
            "window_days": 90,
            "days_since_last": 3,
        }
    ]


def test_without_evidence_there_is_no_measured(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "answers: {}\n")
    data = json.loads(run_main("score", str(path), "--format", "json").stdout)
    assert all("measured" not in m for m in data["metrics"].values())
    assert "evidence" not in data


def test_bad_evidence_is_exit_2_with_file_and_line(tmp_path: Path) -> None:
    text = HEAD + (
        "evidence:\n"
        "  drift_reviews:\n"
        "    - {start: 2026-07-01, end: 2026-06-30, actions_reviewed: 20, incidents: 1, reviewer: independent}\n"  # noqa: E501
        "    - {start: 2026-07-01, end: 2026-07-30, actions_reviewed: 20, incidents: 30, reviewer: independent}\n"  # noqa: E501
        "    - {start: 2026-07-01, actions_reviewed: 20, incidents: 3, reviewer: independent}\n"
        "  drills: missing.csv\n"
        "answers: {}\n"
    )  # fmt: skip
    path = _write(tmp_path, text)
    proc = run_cli("validate", str(path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert any(f"{path}:5:" in x and "end" in x and "before start" in x for x in lines)
    assert any(f"{path}:6:" in x and "incidents" in x and "actions_reviewed" in x for x in lines)
    assert any(f"{path}:7:" in x and "end" in x and "required" in x for x in lines)
    assert any(f"{path}:8:" in x and "missing.csv" in x and "no such file" in x for x in lines)
    assert "Traceback" not in proc.stderr


def test_bad_rows_in_csv_and_jsonl_name_the_row_line(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "date,environment,load,attempted,succeeded,seconds_to_effect\n"
        "2026-09-12,production,0.9,stop,true,41\n"
        "2026-09-13,moon,0.9,stop,true,41\n"
        "2026-09-14,production,1.5,stop,true,\n",
        "drills.csv",
    )
    _write(
        tmp_path,
        '{"date": "2026-06-30", "suite": "a", "score": 0.9}\n'
        '{"date": "2026-07-30", "suite": "a"}\n'
        "not json\n",
        "evals.jsonl",
    )
    path = _write(
        tmp_path,
        HEAD + "evidence:\n  drills: drills.csv\n  evaluations: evals.jsonl\nanswers: {}\n",
    )
    proc = run_cli("validate", str(path))
    assert proc.returncode == 2
    err = proc.stderr
    drills, evals = tmp_path / "drills.csv", tmp_path / "evals.jsonl"
    assert f"{drills}:3: drills row 2: environment:" in err
    assert f"{drills}:4: drills row 3:" in err  # load above 1, and no seconds
    assert f"{evals}:3:" in err and "not valid JSON" in err
    assert "Traceback" not in err


def test_a_fifo_is_refused_as_evidence(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "drills.csv")
    path = _write(tmp_path, HEAD + "evidence:\n  drills: drills.csv\nanswers: {}\n")
    proc = run_cli("validate", str(path))
    assert proc.returncode == 2
    assert "FIFO" in proc.stderr and f"{path}:4:" in proc.stderr


def test_100000_drill_rows_are_read(tmp_path: Path) -> None:
    rows = "".join(
        f"2026-0{1 + i % 9}-1{i % 10},{'production' if i % 3 == 0 else 'lab'},0.9,stop,"
        f"{'true' if i % 10 else 'false'},{'' if i % 10 == 0 else i % 600}\n"
        for i in range(100_000)
    )
    _write(
        tmp_path, "date,environment,load,attempted,succeeded,seconds_to_effect\n" + rows, "d.csv"
    )
    path = _write(tmp_path, HEAD + "evidence:\n  drills: d.csv\nanswers: {}\n")
    data = json.loads(run_main("score", str(path), "--format", "json").stdout)
    measured = data["metrics"]["controllability"]["measured"]
    assert measured["drills"] == 100_000
    assert measured["success_rate"] == 0.9


# --- evidence answers questions -------------------------------------------------------------


def _result(tmp_path: Path, text: str) -> dict[str, Any]:
    path = _write(tmp_path, text)
    proc = run_main("score", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _answer(data: dict[str, Any], qid: str) -> Any:
    return next(a for a in data["answers"] if a["question_id"] == qid)["value"]


def test_zero_in_500_cannot_claim_a_low_rate(tmp_path: Path) -> None:
    # Upper bound 7.62 per 1,000 (worked above) falls in GD-11's 5-to-20 band: the typed
    # "under 0.1" is overruled, scored as measured, and a finding.
    data = _result(
        tmp_path,
        HEAD + "evidence:\n  drift_reviews:\n    - {start: 2026-07-01, end: 2026-09-30, "
        "actions_reviewed: 500, incidents: 0, reviewer: independent}\n"
        + "answers:\n  GD-11: under_0_1\n",
    )
    assert data["metrics"]["goal_drift"]["measured"]["upper_95_per_1000"] == 7.62
    assert _answer(data, "GD-11") == "from_5_to_20"
    finding = next(
        f
        for f in data["findings"]
        if f["question_id"] == "GD-11" and "answer in the file" in f["title"]
    )
    assert finding["severity"] == "moderate" and "understates" in finding["title"]
    measured = {i["question_id"]: i for i in data["evidence"]["measured_answers"]}
    assert measured["GD-11"]["typed"] is not None
    sources = {i["question_id"]: i["source"] for i in data["evidence"]["inputs"]["goal_drift"]}
    assert sources["GD-11"] == "measured" and sources["GD-01"] == "attested"


def test_a_measured_answer_agreeing_with_the_typed_one_is_no_finding(tmp_path: Path) -> None:
    data = _result(
        tmp_path,
        HEAD + "evidence:\n  drift_reviews:\n    - {start: 2026-07-01, end: 2026-09-30, "
        "actions_reviewed: 2000, incidents: 3, reviewer: independent}\n"
        + "answers:\n  GD-11: from_1_to_5\n",
    )
    assert _answer(data, "GD-11") == "from_1_to_5"
    assert not [f for f in data["findings"] if "typed" in f["title"]]


def test_lab_only_drills_are_a_finding_and_answer_the_drill_questions(tmp_path: Path) -> None:
    data = _result(
        tmp_path,
        HEAD + "evidence:\n  drills:\n"
        "    - {date: 2026-09-12, environment: lab, load: 1.0, attempted: stop, "
        "succeeded: true, seconds_to_effect: 30}\n"
        + "answers:\n  PR-02: [money]\n  CT-11: within_30_days\n",
    )
    assert any(f["question_id"] == "drills" and f["severity"] == "high" for f in data["findings"])
    assert _answer(data, "CT-11") == "never"
    assert _answer(data, "CT-03") == ["none"]
    assert _answer(data, "CT-12") == "under_1_minute"


def test_a_short_evaluation_window_is_a_finding(tmp_path: Path) -> None:
    data = _result(
        tmp_path,
        HEAD + "evidence:\n  evaluations:\n"
        "    - {date: 2026-08-01, suite: s, score: 0.9}\n"
        "    - {date: 2026-09-01, suite: s, score: 0.8}\n" + "answers: {}\n",
    )
    assert any(f["question_id"] == "evaluations" for f in data["findings"])
    assert _answer(data, "AD-13") == "two_weeks_to_quarter"


def test_the_bank_refuses_a_measured_by_naming_no_option(tmp_path: Path) -> None:
    import shutil

    bank = tmp_path / "bank"
    shutil.copytree(Path(__file__).parent.parent / "questions", bank)
    text = (bank / "30-goal-drift.yaml").read_text(encoding="utf-8")
    (bank / "30-goal-drift.yaml").write_text(
        text.replace("{value: from_20, min: 20}", "{value: from_99, min: 20}"), encoding="utf-8"
    )
    proc = run_cli("questions", "--bank", str(bank))
    assert proc.returncode == 2
    assert "GD-11" in proc.stderr and "from_99" in proc.stderr


# --- reports -------------------------------------------------------------------------------


def test_reports_show_the_figures_drills_and_charts(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + EVIDENCE)
    md = run_main("report", str(path), "--format", "md").stdout
    assert "Measured from operational evidence" in md
    assert "| Upper 95 % bound per 1,000 | 4.40 |" in md
    assert "#### Drills" in md and "| 2026-09-12 | production (production load) |" in md
    assert "*measured*" in md and "*attested*" in md
    html = run_main("report", str(path), "--format", "html").stdout
    assert 'class="chart drift-series"' in html and 'class="chart evaluation-series"' in html
    assert "<h4>Drills</h4>" in html


def test_reports_without_evidence_have_no_measured_section(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "answers: {}\n")
    md = run_main("report", str(path), "--format", "md").stdout
    assert "Measured from operational evidence" not in md


def test_the_demo_carries_evidence_of_every_kind(tmp_path: Path) -> None:
    # Inline, so the demo stands alone wherever it is copied (the wheel, benchmarks, tests).
    import shutil

    shutil.copy(DEMO, tmp_path / "demo.yaml")
    data = json.loads(run_main("score", str(tmp_path / "demo.yaml"), "--format", "json").stdout)
    assert data["metrics"]["controllability"]["measured"]["drills"] == 5
    assert data["metrics"]["goal_drift"]["measured"]["actions_reviewed"] == 41200
    assert len(data["metrics"]["alignment_decay"]["measured"]) == 2


# --- independence and cadence ---------------------------------------------------------------


def test_an_auditor_from_the_deploying_team_is_a_finding(tmp_path: Path) -> None:
    data = _result(tmp_path, HEAD + "auditor: {name: Ann, team: ' platform TEAM'}\nanswers: {}\n")
    assert data["reassessment"]["auditor_independent"] is False
    assert any(f["question_id"] == "auditor" for f in data["findings"])
    data = _result(tmp_path, HEAD + "auditor: {name: Ann, independent: false}\nanswers: {}\n")
    assert any(f["question_id"] == "auditor" for f in data["findings"])
    data = _result(tmp_path, HEAD + "auditor: {name: Ann, team: Internal audit}\nanswers: {}\n")
    assert not any(f["question_id"] == "auditor" for f in data["findings"])


def test_next_reassessment_is_quarterly_unless_set(tmp_path: Path) -> None:
    # 2026-10-01 + 91 days = 2026-12-31.
    data = _result(tmp_path, HEAD + "answers: {}\n")
    assert data["reassessment"]["next_reassessment"] == "2026-12-31"
    md = run_main("report", str(tmp_path / "audit.yaml"), "--format", "md").stdout
    assert "Next reassessment" in md and "2026-12-31" in md
    data = _result(tmp_path, HEAD + "reassess_by: 2027-02-01\nanswers: {}\n")
    assert data["reassessment"]["next_reassessment"] == "2027-02-01"


def test_an_overdue_reassessment_is_a_finding(tmp_path: Path) -> None:
    # 2026-05-01 -> 2026-10-01 is 153 days: 62 days past the 91-day cadence.
    data = _result(tmp_path, HEAD + "previous_audit: 2026-05-01\nanswers: {}\n")
    assert data["reassessment"]["overdue_days"] == 62
    assert any(f["question_id"] == "previous_audit" for f in data["findings"])
    # 2026-07-02 -> 2026-10-01 is 91 days: on time.
    data = _result(tmp_path, HEAD + "previous_audit: 2026-07-02\nanswers: {}\n")
    assert not any(f["question_id"] == "previous_audit" for f in data["findings"])


def test_reassess_by_before_the_audit_is_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + "reassess_by: 2026-09-01\nanswers: {}\n")
    proc = run_main("validate", str(path))
    assert proc.returncode == 2 and f"{path}:3:" in proc.stderr


# --- plain words for a reader (issue: new-user trial) -----------------------------------------


def test_reports_name_evidence_findings_and_figures_in_plain_words(tmp_path: Path) -> None:
    import shutil

    shutil.copy(DEMO, tmp_path / "demo.yaml")
    demo = str(tmp_path / "demo.yaml")
    data = json.loads(run_main("score", demo, "--format", "json").stdout)
    # Machines keep the key ...
    assert any(f["question_id"] == "drills" for f in data["findings"])
    md = run_main("report", demo, "--format", "md").stdout
    html = run_main("report", demo, "--format", "html").stdout
    # ... a person reads a name.
    for text in (md, html):
        assert "Drills (evidence)" in text and "Drift reviews (evidence)" in text
        assert "| drills |" not in text and '<span class="qid">drills</span>' not in text
        for jargon in ("typed", "nearest rank", "no such drill", "bands judged", "load &gt;= 0.8"):
            assert jargon not in text, jargon
        assert "95th percentile" in text and "80 % of peak load or more" in text
        assert "answered: 180 days ago or more" in text
        assert "level substantial" not in text and "shield" in text
        assert "Instrumental-convergence language is being used as a shield" in text


def test_the_overdue_and_dependent_auditor_findings_have_readable_names(tmp_path: Path) -> None:
    text = HEAD + "auditor: {name: Ann, independent: false}\nprevious_audit: 2026-05-01\n"
    path = _write(tmp_path, text + "answers: {}\n")
    md = run_main("report", str(path), "--format", "md").stdout
    assert "| Auditor (audit details) |" in md and "| Previous audit (audit details) |" in md
