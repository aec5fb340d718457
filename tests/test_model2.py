"""Bank 2.0 model: the loader's rules on exposure, roles, evidence tags and not-applicable
options; declared-not-applicable answers; the JSON shape for banks with and without exposure."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ic_audit.bank import load_bank
from ic_audit.errors import UserError
from tests.conftest import MINI_BANK, ROOT, run_main

EXPOSURE_BANK = ROOT / "tests" / "data" / "exposure_bank"
BASE = (
    "system: {name: Expo}\naudit_date: 2026-10-01\nanswers:\n"
    "  PR-01: approved\n  PR-02: [writes]\n  CT-01: named_role\n  OB-01: tested_none\n"
)


def _bank_with(tmp_path: Path, file: str, edit: Callable[[str], str]) -> Path:
    target = tmp_path / "bank"
    shutil.copytree(EXPOSURE_BANK, target)
    path = target / file
    new = edit(path.read_text())
    assert new != path.read_text(), "the edit changed nothing"
    path.write_text(new)
    return target


def _problems(directory: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_bank(directory)
    return [str(p) for p in caught.value.problems]


CASES = {
    "role missing": (
        "20-controls.yaml",
        lambda s: s.replace("    role: control\n", "", 1),
        "CT-01: the bank defines `exposure`, so every question needs a role",
    ),
    "unknown safer than contained": (
        "30-observations.yaml",
        lambda s: s.replace("risk: 0.6, evidence: unknown", "risk: 0.4, evidence: unknown"),
        "OB-01: not knowing is never safer",
    ),
    "uncontained below the maximum": (
        "30-observations.yaml",
        lambda s: s.replace(
            "{value: seen_contained, label: Seen and contained, risk: 0.5, evidence: contained}",
            "{value: seen_contained, label: Seen and contained, risk: 0.5, evidence: uncontained}",
        ),
        "OB-01: an `uncontained` answer carries the question's maximum risk",
    ),
    "not_applicable with a risk": (
        "20-controls.yaml",
        lambda s: s.replace("risk: 0.0, not_applicable: true", "risk: 0.2, not_applicable: true"),
        "GD-01: a `not_applicable` option scores like a question that does not apply",
    ),
    "levels out of order": (
        "bank.yaml",
        lambda s: s.replace("below: 50", "below: 5"),
        "exposure levels go lowest first",
    ),
    "rating floor falling": (
        "bank.yaml",
        lambda s: s.replace(
            "{id: limited, below: 50, title: Narrow reach,",
            "{id: limited, below: 50, rating_floor: high, title: Narrow reach,",
        ),
        "rating floors must not decrease with exposure",
    ),
    "last level bounded": (
        "bank.yaml",
        lambda s: s.replace("{id: wide, title:", "{id: wide, below: 100, title:"),
        "the last exposure level (wide) leaves out `below`",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_2_0_rule_violation_is_one_line_naming_the_file(tmp_path: Path, case: str) -> None:
    file, edit, message = CASES[case]
    directory = _bank_with(tmp_path, file, edit)
    problems = _problems(directory)
    assert any(message in p for p in problems), problems
    assert all(p.startswith(str(directory / file) + ":") for p in problems), problems
    assert all("\n" not in p for p in problems)


def test_a_profile_role_needs_exposure(tmp_path: Path) -> None:
    target = tmp_path / "bank"
    shutil.copytree(MINI_BANK, target)
    path = target / "10-core.yaml"
    path.write_text(path.read_text().replace("    metric: goal_drift\n", "    role: profile\n", 1))
    assert any("role: profile needs `exposure`" in p for p in _problems(target))


@pytest.mark.parametrize(
    "answer", ["not_needed", "{value: not_needed}", "{value: not_needed, note: '  '}"]
)
def test_declaring_not_applicable_needs_a_note(tmp_path: Path, answer: str) -> None:
    audit = tmp_path / "audit.yaml"
    audit.write_text(BASE + f"  GD-01: {answer}\n")
    result = run_main("score", str(audit), "--bank", str(EXPOSURE_BANK))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "GD-01" in lines[0] and "note" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_declared_not_applicable_answer_is_listed_for_a_reviewer(tmp_path: Path) -> None:
    audit = tmp_path / "audit.yaml"
    note = "It writes only <tickets> & nothing else"
    audit.write_text(BASE + f"  GD-01: {{value: not_needed, note: '{note}'}}\n")
    bank = ["--bank", str(EXPOSURE_BANK)]
    data = json.loads(run_main("score", str(audit), "--format", "json", *bank).stdout)
    (declared,) = data["declared_not_applicable"]
    assert declared["question_id"] == "GD-01" and declared["note"] == note
    row = next(a for a in data["answers"] if a["question_id"] == "GD-01")
    assert row["risk"] == 0.0
    for fmt in ("md", "html"):
        out = run_main("report", str(audit), "--format", fmt, *bank)
        assert out.returncode == 0, out.stderr
        assert "Declared not applicable" in out.stdout
        assert "&lt;tickets&gt; &amp; nothing else" in out.stdout
        assert "<tickets>" not in out.stdout


def test_score_json_of_a_2_0_bank_has_exposure_and_roles(tmp_path: Path) -> None:
    audit = tmp_path / "audit.yaml"
    audit.write_text(BASE + "  GD-01: own_team\n")
    bank = ["--bank", str(EXPOSURE_BANK)]
    data = json.loads(run_main("score", str(audit), "--format", "json", *bank).stdout)
    assert data["exposure"] == {**data["exposure"], "level": "wide", "score": 50.0}
    assert {k: v["score"] for k, v in data["roles"].items()} == {
        "profile": 50.0,
        "control": 10.0,
        "observation": 0.0,
    }
    # Score 7.0 is low; the wide level's rating floor makes it moderate.
    assert data["overall"] == {**data["overall"], "score": 7.0, "rating": "moderate"}
    assert data["overall"]["score_rating"] == "low"
    questions = json.loads(run_main("questions", "--format", "json", *bank).stdout)
    roles = {q["id"]: q["role"] for q in questions["questions"]}
    assert roles["PR-01"] == "profile" and roles["OB-01"] == "observation"
    ob = next(q for q in questions["questions"] if q["id"] == "OB-01")
    assert [o["evidence"] for o in ob["options"]] == [
        "not_observed",
        "contained",
        "unknown",
        "uncontained",
    ]
    # Every report shows the exposure level near the top.
    for fmt in ("md", "html"):
        out = run_main("report", str(audit), "--format", fmt, *bank).stdout
        assert "Wide reach" in out
        section = "## Red flags" if fmt == "md" else '<section id="red-flags"'
        assert out.index("Wide reach") < out.index(section)


def test_a_bank_without_exposure_keeps_the_1_x_json_shape() -> None:
    data = json.loads(
        run_main(
            "score",
            str(ROOT / "tests" / "data" / "mini_audit.yaml"),
            "--bank",
            str(MINI_BANK),
            "--format",
            "json",
        ).stdout
    )
    for key in ("exposure", "roles", "risk_model", "declared_not_applicable"):
        assert key not in data


def test_the_demo_summary_shows_the_exposure_level(tmp_path: Path) -> None:
    result = run_main("demo", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Exposure:" in result.stdout and "reach" in result.stdout


@pytest.mark.parametrize("directory", [EXPOSURE_BANK, MINI_BANK, ROOT / "questions"])
def test_the_loader_asks_for_a_note_on_every_answer_that_can_declare_not_applicable(
    directory: Path,
) -> None:
    # The loader asks only the questions the bank lists once (`Bank.declarable`): they must be
    # every question one of whose answers is such a declaration.
    bank = load_bank(directory)
    can_declare = {
        q.id
        for q in bank.questions
        if any(q.declares_not_applicable(value) for value, _ in q.answer_space)
    }
    assert bank.declarable == can_declare
    if directory == EXPOSURE_BANK:
        assert "GD-01" in can_declare


@pytest.mark.parametrize(
    "answer", ["GD-01:", "GD-01: {note: not asked yet}", "GD-01: {value: null}"]
)
def test_an_unanswered_question_with_a_not_applicable_option_loads(
    tmp_path: Path, answer: str
) -> None:
    audit = tmp_path / "audit.yaml"
    audit.write_text(BASE + f"  {answer}\n")
    result = run_main("score", str(audit), "--format", "json", "--bank", str(EXPOSURE_BANK))
    assert result.returncode == 0, result.stderr
    row = next(a for a in json.loads(result.stdout)["answers"] if a["question_id"] == "GD-01")
    assert row["status"] == "unanswered"
