"""`score` and `questions` for people on a terminal (issue 13, points 1-3): views that fit the
window and never split a word, filters and the detail view of a question, `--help` that reads
as a person would write the command, shell completion; and piped output left as scripts read it.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pexpect
import pytest

from ic_audit.answers import load_audit
from ic_audit.bank import Bank, load_bank
from ic_audit.catalogue import bank_json
from ic_audit.result import AuditResult
from ic_audit.scoring import score_audit
from tests.conftest import DEMO, REAL_BANK, ROOT, run_cli, run_main

ARCHETYPES = sorted((ROOT / "examples" / "archetypes").glob("*.yaml"))
COMMANDS = ["score", "report", "questions", "validate", "init", "schema", "demo", "migrate", "run"]


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(REAL_BANK)


@pytest.fixture(scope="module")
def results(bank: Bank) -> list[AuditResult]:
    # Short display names: the file column is the one that may fold, and these never need to.
    return [
        score_audit(bank, load_audit(path, bank, f"audit-{i}.yaml"))
        for i, path in enumerate([DEMO, *ARCHETYPES])
    ]


def _vocabulary(bank: Bank, results: list[AuditResult]) -> set[str]:
    from ic_audit.render.registry import RENDERERS, RenderOptions

    text = json.dumps(bank_json(bank)) + RENDERERS["json"].render(
        results, RenderOptions(bank=bank, as_list=True)
    )
    text += (ROOT / "ic_audit" / "terminal.py").read_text(encoding="utf-8")
    words = set(re.findall(r"[A-Za-z]+", text))
    return words | {w.upper() for w in words}


def _render(width: int, draw: object) -> str:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, highlight=False)
    draw(console)  # type: ignore[operator]
    return out.getvalue()


def _assert_fits(text: str, width: int, vocabulary: set[str]) -> None:
    lines = text.splitlines()
    assert len(lines) > 5
    for line in lines:
        assert len(line) <= width, line
        # Every run of letters is a whole word of the source, or a prefix cut with "…":
        # a word split across two lines would leave a fragment that is neither.
        for match in re.finditer(r"[A-Za-z]+", line):
            cut = line[match.end() : match.end() + 1] == "…"
            assert cut or match.group() in vocabulary, (match.group(), line)


@pytest.mark.parametrize("width", [100, 60])
def test_score_views_fit_the_width_and_split_no_word(
    bank: Bank, results: list[AuditResult], width: int
) -> None:
    from ic_audit.terminal import print_score_table, print_summary

    vocabulary = _vocabulary(bank, results)
    one = _render(width, lambda c: print_summary(results[0], Path("audit-0.yaml"), c))
    _assert_fits(one, width, vocabulary)
    assert "What to do first" in one and "Key metrics" in one and "Red flags (1)" in one
    # The exposure's title and score, not its level id again.
    exposure = results[0].exposure
    assert exposure is not None
    assert f"(exposure score {exposure.score:.1f}/100)" in " ".join(one.split())
    assert f"({exposure.level}," not in one
    many = _render(width, lambda c: print_score_table(results, bank, c))
    _assert_fits(many, width, vocabulary)
    assert many.count("audit-") >= len(results) and "Red flags (9)" in many
    # The red flags are listed, each under its file.
    assert "GV-08: Instrumental-convergence language is being used as a shield" in " ".join(
        many.split()
    )


@pytest.mark.parametrize("width", [100, 60])
def test_questions_views_fit_the_width_and_split_no_word(
    bank: Bank, results: list[AuditResult], width: int
) -> None:
    from ic_audit.terminal import print_question, print_questions

    vocabulary = _vocabulary(bank, results)
    table = _render(width, lambda c: print_questions(bank, bank.questions, c))
    _assert_fits(table, width, vocabulary)
    assert all(q.id in table for q in bank.questions)
    for q in bank.questions:
        detail = _render(width, lambda c, q=q: print_question(bank, q, c))
        _assert_fits(detail, width, vocabulary)


def _tty(args: list[str], width: int) -> str:
    """What a person sees running ic-audit on a terminal `width` columns wide."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ic_audit", *args],
        cwd=str(ROOT),
        env={**env, "TERM": "xterm", "NO_COLOR": "1"},
        dimensions=(50, width),
        encoding="utf-8",
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    # Rich keeps bold and dim under NO_COLOR; only the text is looked at here.
    return re.sub(r"\x1b\[[0-9;]*m", "", str(child.before).replace("\r\n", "\n"))


def test_score_on_a_terminal_shows_the_summary_for_one_file_and_a_table_for_many() -> None:
    one = _tty(["score", "examples/demo-audit.yaml"], 60)
    assert "What to do first" in one and "Overall rating: HIGH" in one
    assert max(len(line) for line in one.splitlines()) <= 60
    many = _tty(["score", "examples/demo-audit.yaml", "examples/archetypes/*.yaml"], 100)
    assert "Red flags (9)" in many and "What to do first" not in many
    assert "examples/archetypes/06-set-and-forget-refund-agent.yaml" in many  # a red flag's file


def test_questions_on_a_terminal_fit_and_one_id_shows_the_detail() -> None:
    table = _tty(["questions", "--section", "Oversight"], 60)
    assert "OV-01" in table and "CT-01" not in table
    assert max(len(line) for line in table.splitlines()) <= 60
    detail = _tty(["questions", "--id", "ct-01"], 60)
    assert "Rubric" in detail and "References" in detail and "Finding" in detail


def test_piped_score_and_questions_stay_the_plain_tables() -> None:
    piped = run_main("score", str(DEMO))
    assert piped.returncode == 0
    assert piped.stdout == run_main("score", str(DEMO), "--format", "table").stdout
    assert piped.stdout.splitlines()[0].split() == [
        *["file", "system", "rating", "score", "drift", "control", "decay", "flags", "answered"]
    ]
    questions = run_main("questions").stdout
    assert questions.startswith("Instrumental convergence risk audit (ic-core 2.0): 82 questions.")
    assert questions == run_main("questions", "--format", "table").stdout


def test_questions_filters_apply_to_table_and_json() -> None:
    data = json.loads(run_main("questions", "--section", "OVERSIGHT", "-f", "json").stdout)
    assert {q["section"] for q in data["questions"]} == {"oversight"}
    one = json.loads(run_main("questions", "--id", "ct-01", "-f", "json").stdout)
    assert [q["id"] for q in one["questions"]] == ["CT-01"]
    assert set(one) == {"bank", "metrics", "sections", "questions"}  # the contract's shape
    table = run_main("questions", "--section", "oversight", "--id", "OV-01").stdout
    assert "1 of 82 questions" in table and "OV-01" in table and "OV-02" not in table
    unknown = run_main("questions", "--id", "XX-99")
    assert unknown.returncode == 2 and "XX-99" in unknown.stderr and not unknown.stdout
    bad = run_main("questions", "--section", "nope")
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_questions_detail_piped_gives_rubric_and_references() -> None:
    out = run_main("questions", "--id", "CT-01", "--detail").stdout
    for part in ("CT-01", "Rubric", "all_shown_at_peak", "Finding", "Recommendations"):
        assert part in out
    assert "NIST AI RMF MEASURE 2.6" in out
    assert "\x1b" not in out


@pytest.mark.parametrize("command", COMMANDS)
def test_usage_lines_read_as_a_person_writes_the_command(command: str) -> None:
    out = run_cli(command, "--help", env={"COLUMNS": "60"}).stdout
    usage = out.splitlines()[0]
    assert usage.startswith(f"Usage: ic-audit {command} [OPTIONS]")
    arguments = out.split("Arguments:")[1].split("Options:")[0] if "Arguments:" in out else ""
    assert not re.search(r"[{}<>]|\[\[", usage + arguments), out
    assert "Example:" in out
    for line in out.splitlines():
        # Examples are kept as written (a command is copied whole), the rest fits.
        assert len(line) <= 60 or line.startswith("    ic-audit "), line
        # No word broken at its hyphen (`--fail-on-` / `incomplete`, `ic-` / `audit`).
        assert not re.search(r"\w-$", line), line


def test_usage_lines_name_the_arguments() -> None:
    first = {c: run_main(c, "--help").stdout.splitlines()[0] for c in ("score", "validate", "run")}
    assert first["score"] == "Usage: ic-audit score [OPTIONS] ANSWERS..."
    assert first["validate"] == "Usage: ic-audit validate [OPTIONS] PATH..."
    assert first["run"] == "Usage: ic-audit run [OPTIONS] [ANSWERS]"


def test_a_subcommand_option_error_points_to_that_commands_help() -> None:
    proc = run_main("run", "--section")
    assert proc.returncode == 2
    assert "see `ic-audit run --help`" in proc.stderr


def test_shell_completion_script_and_answers() -> None:
    script = run_cli(env={"_IC_AUDIT_COMPLETE": "source_bash"})
    assert script.returncode == 0 and "_IC_AUDIT_COMPLETE" in script.stdout
    words = run_cli(
        env={"_IC_AUDIT_COMPLETE": "complete_bash", "COMP_WORDS": "ic-audit sc", "COMP_CWORD": "1"}
    )
    assert words.stdout.split() == ["score", "schema"]
    help_text = run_cli("--help").stdout
    assert "--show-completion" in help_text and "--install-completion" in help_text
    # --show-completion as README says to use it, from bash.
    import subprocess

    shown = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m ic_audit --show-completion bash; true"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert "complete " in shown.stdout and "_IC_AUDIT_COMPLETE" in shown.stdout
