"""The committed corpus of bad answers files: each gives exit 2 and the documented one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ic_audit.answers import load_audit
from ic_audit.bank import Bank
from ic_audit.errors import UserError
from tests.conftest import MINI_BANK, ROOT, run_main

CORPUS = ROOT / "tests" / "data" / "bad_answers"


def _expected() -> list[tuple[str, str]]:
    rows = []
    for line in (CORPUS / "EXPECTED.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, message = (part.strip() for part in line.split("|", 1))
            rows.append((name, message))
    return rows


EXPECTED = _expected()


def test_every_corpus_file_has_an_expected_message() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.name != "EXPECTED.txt"}
    assert files == {name for name, _ in EXPECTED}


@pytest.mark.parametrize(("name", "message"), EXPECTED, ids=[n for n, _ in EXPECTED])
def test_bad_file_gives_its_message(mini_bank: Bank, name: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        load_audit(CORPUS / name, mini_bank, display=name)
    lines = [str(p) for p in caught.value.problems]
    assert any(message in line for line in lines), lines
    assert all("\n" not in line for line in lines)


def test_validate_lists_every_problem_in_every_file_without_a_traceback() -> None:
    files = [str(CORPUS / name) for name, _ in EXPECTED]
    result = run_main("validate", "--bank", str(MINI_BANK), *files)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for name, message in EXPECTED:
        located = message.replace(name, str(CORPUS / name), 1)
        assert located in result.stderr, name


def test_validate_reports_all_problems_of_one_file(tmp_path: Path) -> None:
    bad = tmp_path / "audit.yaml"
    bad.write_text(
        "system: {name: X}\nanswers:\n  GD-01: maybe\n  CT-01: nobody_at_all\n  AD-01: -4\n"
    )
    result = run_main("validate", "--bank", str(MINI_BANK), str(bad))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    for line, (number, qid) in zip(lines, [(3, "GD-01"), (4, "CT-01"), (5, "AD-01")], strict=True):
        assert line.startswith(f"{bad}:{number}: {qid}: "), line


@pytest.mark.parametrize("path_kind", ["missing", "directory", "unreadable"])
def test_unusable_paths_are_one_line(tmp_path: Path, path_kind: str) -> None:
    target = tmp_path / "audit.yaml"
    if path_kind == "directory":
        target.mkdir()
    elif path_kind == "unreadable":
        if os.geteuid() == 0:
            # root reads any file; this one fails to read for everybody (EIO).
            target = Path("/proc/self/mem")
        else:
            target.write_text("system: {name: X}\n")
            target.chmod(0)
    result = run_main("score", "--bank", str(MINI_BANK), str(target))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(target) in result.stderr


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("gd-01", "GD-01"), ("GD-1", "GD-01"), ("ct_3", "CT-03"), ("CT-031", "CT-03")],
)
def test_unknown_ids_suggest_the_likely_one(mini_bank: Bank, typed: str, meant: str) -> None:
    from ic_audit.answers import suggest_id

    assert suggest_id(typed, mini_bank) == meant


def test_a_wrong_bank_is_reported_alongside_other_problems(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text("system: 42\nbank: {id: other, version: '1'}\nanswers: {GD-01: maybe}\n")
    result = run_main("validate", "--bank", str(MINI_BANK), str(path))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert any("bank.id is 'other'" in line for line in lines)
    assert any(line.startswith(f"{path}:1: system") for line in lines)
    assert any("GD-01:" in line for line in lines)


def test_a_repeated_key_is_reported_with_every_other_problem(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(
        "system: {name: X}\nanswers:\n  GD-01: yes\n  GD-01: no\n  CT-01: maybe\n  AD-01: 500\n"
    )
    result = run_main("validate", "--bank", str(MINI_BANK), str(path))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:4: key 'GD-01' appears twice in one mapping; keep one"
    assert [line.split(": ")[1] for line in lines[1:]] == ["CT-01", "AD-01"]


def test_a_repeated_key_never_counts_as_an_answer(mini_bank: Bank, tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text("system: {name: X}\nanswers:\n  GD-01: yes\n  GD-01: no\n")
    with pytest.raises(UserError):
        load_audit(path, mini_bank)
