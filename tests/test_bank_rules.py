"""The rubric rules the loader enforces on a bank, each shown failing with its message."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ic_audit.bank import load_bank
from ic_audit.errors import UserError
from tests.conftest import MINI_BANK, run_main


def _bank_with(tmp_path: Path, edit: Callable[[str], str], file: str = "10-core.yaml") -> Path:
    target = tmp_path / "bank"
    shutil.copytree(MINI_BANK, target)
    path = target / file
    path.write_text(edit(path.read_text()))
    return target


def _problems(directory: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_bank(directory)
    return [str(p) for p in caught.value.problems]


def test_the_mini_bank_is_valid() -> None:
    bank = load_bank(MINI_BANK)
    assert [q.id for q in bank.questions][:3] == ["GD-01", "CT-01", "CT-02"]


CASES = {
    "red flag below a riskier answer": (
        lambda s: s.replace(
            "{value: anyone_senior, label: Any senior manager, risk: 0.5}",
            "{value: anyone_senior, label: Any senior manager, risk: 0.5, red_flag: bad}",
        ).replace(", red_flag: Nobody has clear authority to shut it down.", ""),
        "CT-01: red flags must point upward",
    ),
    "condition pointing downward": (
        lambda s: s.replace("in: [anyone_senior, nobody]", "in: [named_role]"),
        "CT-02: when: the condition must point upward in risk",
    ),
    "scale not anchored": (
        lambda s: s.replace(
            "{value: nobody, label: Nobody clearly, risk: 1.0,",
            "{value: nobody, label: Nobody clearly, risk: 0.9,",
        ),
        "CT-01: the scale must be anchored",
    ),
    "risky answer without recommendation": (
        lambda s: s.replace("    recommendation: Name one role with authority to stop it.\n", ""),
        "CT-01: a risky answer needs a recommendation",
    ),
    "duplicate id": (
        lambda s: s.replace("  - id: CT-01\n", "  - id: GD-01\n"),
        "GD-01: id is used twice in the bank",
    ),
    "yes/no with other options": (
        lambda s: s.replace(
            '{value: "no", label: "No", risk: 1.0}', '{value: "nope", label: "No", risk: 1.0}'
        ),
        'GD-01: a yes_no question has exactly the options "yes" and "no"',
    ),
    "option value YAML would misread": (
        lambda s: s.replace("value: nobody,", "value: 'off',"),
        "option value 'off' must be a lower-case identifier",
    ),
    "condition on a later question": (
        lambda s: s.replace("when: {question: CT-01,", "when: {question: CT-03,"),
        "CT-02: when: CT-03 must come before CT-02",
    ),
    "unknown field": (
        lambda s: s.replace("    weight: 3\n", "    wieght: 3\n", 1),
        "questions[0].wieght: is not a known field",
    ),
    "red flag on a safeguard": (
        lambda s: s.replace(
            "{value: override, label: Override}", "{value: override, label: Override, red_flag: x}"
        ),
        "only the 'none' option of a safeguards question may be a red flag",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_rule_violation_is_reported_with_its_line(tmp_path: Path, case: str) -> None:
    edit, message = CASES[case]
    directory = _bank_with(tmp_path, edit)
    problems = _problems(directory)
    assert any(message in p for p in problems), problems
    assert all(p.startswith(str(directory / "10-core.yaml") + ":") for p in problems), problems


def test_bands_must_meet_and_cover_the_range(tmp_path: Path) -> None:
    directory = _bank_with(
        tmp_path, lambda s: s.replace("{min: 4, max: 13,", "{min: 5, max: 13,"), "20-decay.yaml"
    )
    assert any("bands 0 and 1 must meet" in p for p in _problems(directory))


def test_bank_needs_quoted_version_and_bank_yaml(tmp_path: Path) -> None:
    directory = _bank_with(
        tmp_path, lambda s: s.replace('version: "0.1"', "version: 0.1"), "bank.yaml"
    )
    assert any('version must be text; quote it: version: "0.1"' in p for p in _problems(directory))
    (directory / "bank.yaml").unlink()
    assert any("has no bank.yaml" in p for p in _problems(directory))


def test_validate_lists_every_bank_problem(tmp_path: Path) -> None:
    def edit(s: str) -> str:
        for case in ("duplicate id", "scale not anchored", "condition pointing downward"):
            s = CASES[case][0](s)
        return s

    directory = _bank_with(tmp_path, edit)
    result = run_main("validate", str(directory))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) >= 3
    assert "Traceback" not in result.stderr
