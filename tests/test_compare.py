"""`ic-audit compare`: successive audits of one system, oldest first, what changed between them,
the regression gate, bank versions reconciled, and every format safe and deterministic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ic_audit.compare import evidence_trends
from tests.conftest import DEMO, MINI_BANK, REAL_BANK, ROOT, run_main
from tests.regen_golden import GOLDEN_DIR, demo_compare_outputs
from tests.test_render import parse_html

try:
    import cmarkgfm
    from cmarkgfm.cmark import Options as CmarkOptions
except ImportError:  # pragma: no cover - the test extra installs it
    cmarkgfm = None

HISTORY = ROOT / "examples" / "history"
DEMO_1 = ROOT / "tests" / "data" / "demo-audit-1.0.yaml"

# Two small audits of the mini bank (weights: GD-01 3, CT-01 4, CT-03 2, AD-01 2; the overall
# score divides by the bank's total weight, 12, as `why.total_weight` reports), worked by hand:
#   A: GD-01 no (risk 1), CT-01 nobody (1, red flag), CT-03 [stop] (safeguards: 1 - 2/4 = 0.5),
#      AD-01 2 (0): overall 100 x (3 + 4 + 1 + 0) / 12 = 66.7 (high); controllability
#      100 x (4 + 1) / 6 = 83.3 (critical); goal drift 100 (critical); alignment decay 0 (low).
#   B: GD-01 yes (0), CT-01 named_role (0), CT-03 [none] (1, red flag), AD-01 2 (0): overall
#      100 x 2 / 12 = 16.7 (low by score, high by its red flag); controllability 100 x 2/6 =
#      33.3 (moderate by score, high by its red flag CT-03); goal drift 0 (low).
AUDIT_A = """\
system: {{name: {name}}}
audit_date: {date}
bank: {{id: mini, version: "{version}"}}
answers:
  GD-01: no
  CT-01: nobody
  CT-03: [stop]
  AD-01: 2
"""
AUDIT_B = """\
system: {{name: {name}}}
audit_date: {date}
bank: {{id: mini, version: "{version}"}}
answers:
  GD-01: yes
  CT-01: named_role
  CT-03: [none]
  AD-01: 2
"""


def _write(
    folder: Path,
    file: str,
    template: str,
    date: str,
    name: str = "Refund agent",
    version: str = "0.1",
) -> Path:
    path = folder / file
    path.write_text(
        template.format(name=json.dumps(name), date=date, version=version), encoding="utf-8"
    )
    return path


def _compare(*args: str, bank: Path = MINI_BANK) -> tuple[int, str, str]:
    r = run_main("compare", *args, "--bank", str(bank))
    return r.returncode, r.stdout, r.stderr


def _json(*args: str, bank: Path = MINI_BANK) -> dict[str, Any]:
    code, out, err = _compare(*args, "--format", "json", bank=bank)
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_audits_are_ordered_by_date_whatever_the_argument_order(tmp_path: Path) -> None:
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10")
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10")
    c = _write(tmp_path, "c.yaml", AUDIT_A, "2026-07-10")
    data = _json(str(c), str(b), str(a))
    assert [x["audit_date"] for x in data["audits"]] == ["2026-01-10", "2026-04-10", "2026-07-10"]
    assert [x["file"] for x in data["audits"]] == [str(a), str(b), str(c)]
    assert [(ch["from"], ch["to"]) for ch in data["changes"]] == [
        ("2026-01-10", "2026-04-10"),
        ("2026-04-10", "2026-07-10"),
    ]
    assert (data["first_to_latest"]["from"], data["first_to_latest"]["to"]) == (
        "2026-01-10",
        "2026-07-10",
    )


def test_changes_worked_by_hand(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10")
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10")
    data = _json(str(a), str(b))
    change = data["changes"][0]
    assert change["overall"] == {
        "score_from": 66.7,
        "score_to": 16.7,
        "score_change": -50.0,
        "rating_from": "high",
        "rating_to": "high",
        "rating_change": "same",
    }
    assert change["metrics"]["controllability"] == {
        "score_from": 83.3,
        "score_to": 33.3,
        "score_change": -50.0,
        "rating_from": "critical",
        "rating_to": "high",
        "rating_change": "better",
    }
    assert change["metrics"]["goal_drift"]["score_change"] == -100.0
    assert change["metrics"]["goal_drift"]["rating_change"] == "better"
    assert change["metrics"]["alignment_decay"]["rating_change"] == "same"
    # Red flags and findings by question id.
    assert [f["question_id"] for f in change["red_flags"]["new"]] == ["CT-03"]
    assert [f["question_id"] for f in change["red_flags"]["resolved"]] == ["CT-01"]
    assert change["findings"]["new"] == []
    assert sorted(f["question_id"] for f in change["findings"]["resolved"]) == ["CT-01", "GD-01"]
    # Answers changed, with their labels; the text follow-up CT-02 (unanswered, then not
    # applicable) and the unchanged AD-01 are not listed.
    assert [
        (x["question_id"], x["from"]["label"], x["to"]["label"]) for x in change["answers_changed"]
    ] == [
        ("GD-01", "No", "Yes"),
        ("CT-01", "Nobody clearly", "A named role with a tested procedure"),
        ("CT-03", "Stop", "None of these"),
    ]
    assert change["answers_changed"][0]["from"]["value"] == "no"
    assert data["regression"] is False
    assert data["first_to_latest"] == change


def test_a_finding_judged_otherwise_is_changed_in_every_format(tmp_path: Path) -> None:
    # CT-01 is a finding both times: "Any senior manager" (moderate), then "Nobody" (critical).
    a = _write(
        tmp_path, "a.yaml", AUDIT_A.replace("CT-01: nobody", "CT-01: anyone_senior"), "2026-01-10"
    )
    b = _write(tmp_path, "b.yaml", AUDIT_A, "2026-04-10")
    data = _json(str(a), str(b))
    findings = data["changes"][0]["findings"]
    assert findings["new"] == [] and findings["resolved"] == []
    assert [
        (f["question_id"], f["severity_from"], f["severity_to"], f["severity_change"])
        for f in findings["changed"]
    ] == [("CT-01", "moderate", "critical", "worse")]
    assert findings["changed"][0]["title_from"] == "Unclear shutdown authority"
    assert data["findings_more_severe"] == 1
    # The other way round it got less severe: changed, not counted.
    back = _json(
        str(
            _write(
                tmp_path,
                "c.yaml",
                AUDIT_A.replace("CT-01: nobody", "CT-01: anyone_senior"),
                "2026-07-10",
            )
        ),
        str(b),
    )
    assert back["changes"][-1]["findings"]["changed"][0]["severity_change"] == "better"
    assert back["findings_more_severe"] == 0
    code, md, err = _compare(str(a), str(b), "--format", "md")
    assert code == 0, err
    assert "Changed: CT-01 (moderate → critical: Unclear shutdown authority)" in md
    assert (
        "**Findings more severe** than in the audit before the latest: 1 "
        "(CT-01 moderate → critical)" in md
    )
    code, html, err = _compare(str(a), str(b), "--format", "html")
    assert code == 0, err
    parse_html(html)
    assert '<span class="tag">more severe</span> <span class="qid">CT-01</span>' in html
    assert "<strong>Findings more severe</strong> than in the audit before the latest: 1" in html


def test_fail_on_regression_exits_1_only_when_the_latest_audit_is_worse(tmp_path: Path) -> None:
    better = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10")
    latest_better = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10")
    code, _out, err = _compare(str(better), str(latest_better), "--fail-on-regression")
    assert code == 0, err
    # The same two audits the other way round: goal drift low → critical, controllability
    # high → critical.
    worse_first = _write(tmp_path, "c.yaml", AUDIT_B, "2026-01-10")
    latest_worse = _write(tmp_path, "d.yaml", AUDIT_A, "2026-04-10")
    code, out, err = _compare(str(worse_first), str(latest_worse), "--fail-on-regression")
    assert code == 1
    assert "Regression" in out
    assert "controllability" in err.lower() and "high → critical" in err
    assert "->" not in err and "-&gt;" not in out
    # Without the flag the report says so but the exit code stays 0.
    code, _out, _err = _compare(str(worse_first), str(latest_worse))
    assert code == 0
    data = _json(str(worse_first), str(latest_worse))
    assert data["regression"] is True
    assert len(data["regression_reasons"]) == 2


def test_a_regression_only_in_an_earlier_pair_is_not_a_regression(tmp_path: Path) -> None:
    first = _write(tmp_path, "1.yaml", AUDIT_B, "2026-01-10")
    worse = _write(tmp_path, "2.yaml", AUDIT_A, "2026-04-10")
    recovered = _write(tmp_path, "3.yaml", AUDIT_B, "2026-07-10")
    code, _out, err = _compare(str(first), str(worse), str(recovered), "--fail-on-regression")
    assert code == 0, err


def test_different_systems_exit_2_naming_both_files(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10")
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10", name="Another agent")
    code, out, err = _compare(str(a), str(b))
    assert code == 2
    assert out == ""
    assert str(a) in err and str(b) in err and "Another agent" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_audits_exit_2(tmp_path: Path, count: int) -> None:
    files = [str(_write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10"))][:count]
    if not files:
        files = [str(tmp_path / "none-*.yaml")]
    code, out, err = _compare(*files)
    assert code == 2
    assert out == ""
    assert err.strip() and "Traceback" not in err


def test_two_audits_of_one_date_exit_2(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10")
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-01-10")
    code, _out, err = _compare(str(a), str(b))
    assert code == 2
    assert str(a) in err and str(b) in err and "2026-01-10" in err


def test_another_minor_version_is_compared_with_a_note(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10", version="0.2")
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10")
    data = _json(str(a), str(b))
    first, second = data["audits"]
    assert first["bank"]["answered_version"] == "0.2" and not first["bank"]["migrated"]
    assert "minor version" in first["bank"]["note"]
    assert second["bank"]["note"] is None
    code, out, _err = _compare(str(a), str(b))
    assert code == 0 and "minor version" in out


def test_an_older_major_version_is_migrated_in_memory(tmp_path: Path) -> None:
    old = tmp_path / "demo-1.0.yaml"
    shutil.copyfile(DEMO_1, old)
    text = old.read_text(encoding="utf-8").replace(
        "audit_date: 2026-10-01", "audit_date: 2026-07-01"
    )
    old.write_text(text, encoding="utf-8")
    before = old.read_bytes()
    data = _json(str(old), str(DEMO), bank=REAL_BANK)
    first = data["audits"][0]
    assert first["bank"]["answered_version"] == "1.0"
    assert first["bank"]["migrated"] is True
    assert "migrated in memory" in first["bank"]["note"]
    assert data["audits"][1]["bank"]["migrated"] is False
    # The file itself is untouched, and no backup is written beside it.
    assert old.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-1.0.yaml"]
    code, out, _err = _compare(str(old), str(DEMO), bank=REAL_BANK)
    assert code == 0 and "migrated in memory" in out


def test_every_format_parses_and_is_self_contained(tmp_path: Path) -> None:
    hostile = "Refund <script>alert(1)</script> & [x](http://evil.example) | # h"
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10", name=hostile)
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10", name=hostile)
    data = _json(str(a), str(b))
    assert data["system"] == hostile
    code, html, err = _compare(str(a), str(b), "--format", "html")
    assert code == 0, err
    tags = parse_html(html)
    names = [t for t, _attrs in tags.starts]
    assert "svg" in names and "script" not in names
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "Content-Security-Policy" in html
    assert not any(k in ("src",) for _t, attrs in tags.starts for k, _v in attrs)


@pytest.mark.skipif(cmarkgfm is None, reason="cmarkgfm is not installed (pip install '.[test]')")
def test_markdown_stays_inert_with_hostile_system_names(tmp_path: Path) -> None:
    def rendered(name: str, folder: Path) -> list[str]:
        folder.mkdir()
        a = _write(folder, "a.yaml", AUDIT_A, "2026-01-10", name=name)
        b = _write(folder, "b.yaml", AUDIT_B, "2026-04-10", name=name)
        code, md, err = _compare(str(a), str(b))
        assert code == 0, err
        out = str(
            cmarkgfm.github_flavored_markdown_to_html(md, options=CmarkOptions.CMARK_OPT_UNSAFE)
        )
        return [t for t, _attrs in parse_html(out).starts]

    hostile = "# <img src=x onerror=alert(1)> [a](http://evil.example) ![i](http://x/y.png) | *b*"
    assert rendered(hostile, tmp_path / "hostile") == rendered("Plain", tmp_path / "plain")


def test_output_is_byte_identical_and_o_infers_the_format(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10")
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10")
    for fmt in ("md", "html", "json"):
        first = _compare(str(a), str(b), "--format", fmt)[1]
        assert first == _compare(str(b), str(a), "--format", fmt)[1]
        target = tmp_path / f"out.{fmt}"
        code, out, err = _compare(str(a), str(b), "-o", str(target))
        assert code == 0 and out == "", err
        assert target.read_text(encoding="utf-8") == first


def test_o_never_writes_over_an_input(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", AUDIT_A, "2026-01-10")
    b = _write(tmp_path, "b.yaml", AUDIT_B, "2026-04-10")
    before = b.read_bytes()
    code, _out, err = _compare(str(a), str(b), "--format", "md", "-o", str(b))
    assert code == 2 and str(b) in err
    assert b.read_bytes() == before
    code, _out, err = _compare(str(a), str(b), "-o", str(tmp_path / "out.pdf"))
    assert code == 2 and ".pdf" in err


def test_evidence_trends_read_measured_figures_and_show_nothing_without_them() -> None:
    def result(measured: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(
            metrics={m: SimpleNamespace(measured=v) for m, v in measured.items()}
        )

    plain = SimpleNamespace(metrics={"goal_drift": SimpleNamespace()})
    assert evidence_trends([plain, plain]) == []
    q1 = result({"goal_drift": {"upper_95_per_1000": 7.6, "rate_per_1000": 0.0}})
    q2 = result(
        {
            "goal_drift": {"upper_95_per_1000": 2.31, "rate_per_1000": 1.8},
            "controllability": {"success_rate": 0.75},
            "alignment_decay": [{"suite": "refusals-v3", "change": -0.03}],
        }
    )
    trends = {(t["metric"], t["figure"]): t["values"] for t in evidence_trends([plain, q1, q2])}
    assert trends == {
        ("goal_drift", "upper_95_per_1000"): [None, 7.6, 2.31],
        ("goal_drift", "rate_per_1000"): [None, 0.0, 1.8],
        ("controllability", "success_rate"): [None, None, 0.75],
        ("alignment_decay", "change:refusals-v3"): [None, None, -0.03],
    }


def test_the_demo_history_tells_its_story_and_matches_the_golden_files() -> None:
    files = sorted(HISTORY.glob("*.yaml"))
    assert len(files) >= 3
    outputs = demo_compare_outputs()
    for name, text in outputs.items():
        assert (GOLDEN_DIR / name).read_text(encoding="utf-8") == text, (
            f"{name} differs: run python -m tests.regen_golden and review the diff"
        )
    data = json.loads(outputs["demo-compare.json"])
    assert [a["file"] for a in data["audits"]] == [
        *(f"examples/history/{p.name}" for p in files),
        "examples/demo-audit.yaml",
    ]
    q1_q2 = data["changes"][0]
    assert [f["question_id"] for f in q1_q2["red_flags"]["resolved"]] == ["OV-04"]
    assert [f["question_id"] for f in q1_q2["red_flags"]["new"]] == ["GV-08"]
    # CB-20 was a finding in the first audit and the latest, judged otherwise: changed.
    cb20 = [
        f for f in data["first_to_latest"]["findings"]["changed"] if f["question_id"] == "CB-20"
    ]
    assert [(f["severity_from"], f["severity_to"]) for f in cb20] == [("moderate", "high")]
    assert data["regression"] is True


def test_the_demo_history_carries_evidence_that_agrees_with_its_answers() -> None:
    # Q1 measured nothing; Q2 to Q4 carry drift reviews, drills and evaluations, some of them in
    # CSV / JSON Lines files beside the history, and no typed answer contradicts its evidence.
    import yaml

    from ic_audit.answers import load_audit
    from ic_audit.bank import load_bank
    from ic_audit.scoring import score_audit

    bank = load_bank(REAL_BANK)
    data = json.loads(demo_compare_outputs()["demo-compare.json"])
    trends = {(t["metric"], t["figure"]): t["values"] for t in data["evidence_trends"]}
    # Pooled Wilson upper bounds: 0 in 1,200; 52 in 39,800; 74 in 41,200 reviewed actions.
    assert trends[("goal_drift", "upper_95_per_1000")] == [None, 3.19, 1.71, 2.25]
    assert trends[("controllability", "success_rate")] == [None, 0.8, 0.8, 0.8]
    assert trends[("alignment_decay", "change:refund-policy-v2")] == [None, -0.01, -0.02, -0.05]
    files = []
    for path in sorted(HISTORY.glob("*.yaml")):
        result = score_audit(bank, load_audit(path, bank))
        assert not [f.question_id for f in result.findings if "answer in the file" in f.title], path
        evidence = yaml.safe_load(path.read_text(encoding="utf-8")).get("evidence") or {}
        files += [path.parent / v for v in evidence.values() if isinstance(v, str)]
    assert files and all(f.is_file() for f in files)
    assert {f.suffix for f in files} == {".csv", ".jsonl"}


def test_demo_writes_the_comparison_and_mentions_it(tmp_path: Path) -> None:
    r = run_main("demo", "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "History of this system: 4 audits" in r.stdout
    history = next(line for line in r.stdout.splitlines() if "History of this system" in line)
    assert "(high) → " in history and "rating moderate → high" in history and "->" not in history
    for fmt in ("md", "html", "json"):
        written = (tmp_path / "out" / f"demo-compare.{fmt}").read_text(encoding="utf-8")
        assert written == (GOLDEN_DIR / f"demo-compare.{fmt}").read_text(encoding="utf-8")
