"""`ic-audit run`: the walkthrough engine, the answers-file writer, and the real program.

Three layers of tests:

- engine tests drive `run_walkthrough` with a scripted `Prompter` (lines in, rich output to a
  string) on the mini bank: navigation, follow-ups, validation, resume, revisit, saving;
- writer tests pin the file format and check the round trip `load_audit(write(x)) == x` with
  hypothesis;
- terminal tests run the real program in a pseudo-terminal (pexpect) and in tmux: answer, Ctrl-C,
  check the file and the exit code, run again and see it resume.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from ic_audit.answers import Answer, load_audit
from ic_audit.answers_text import answers_text, quote
from ic_audit.bank import Bank, load_bank
from ic_audit.errors import UsageError, UserError
from ic_audit.walkthrough import (
    EXIT_INTERRUPT,
    EXIT_OK,
    EXIT_TERMINATE,
    FileLock,
    Interrupted,
    Prompter,
    run_walkthrough,
)
from tests.conftest import FILE_CHARS, MINI_BANK, ROOT

TODAY = dt.date(2026, 10, 1)
META = ["Refund agent", "Payments team", "Dana Ruiz", "Internal audit", ""]  # date: today


# ------------------------------------------------------------------------------- scripted I/O


class Script:
    """A scripted terminal: hands out lines, records every prompt, ends with EOF."""

    def __init__(self, lines: list[Any]) -> None:
        self.lines = list(lines)
        self.prompts: list[str] = []
        self.buffer = io.StringIO()
        self.console = Console(file=self.buffer, width=250, color_system=None, force_terminal=False)

    def read(self, prompt: str) -> str:
        self.prompts.append(prompt)
        self.buffer.write(prompt)
        if not self.lines:
            raise EOFError
        line = self.lines.pop(0)
        if isinstance(line, BaseException):
            raise line
        self.buffer.write(f"{line}\n")
        return str(line)

    @property
    def output(self) -> str:
        return self.buffer.getvalue()

    def screens(self) -> list[str]:
        """The question ids shown, in order."""
        return re.findall(r"^([A-Z]{2}-\d\d) · ", self.output, flags=re.M)


def drive(
    path: Path,
    lines: list[Any],
    bank: Bank | None = None,
    **kwargs: Any,
) -> tuple[int, Script]:
    script = Script(lines)
    prompter = Prompter(script.console, script.read)
    code = run_walkthrough(
        path,
        bank or load_bank(MINI_BANK),
        prompter=prompter,
        handle_signals=False,
        today=TODAY,
        **kwargs,
    )
    return code, script


def answers_of(path: Path) -> dict[str, Any]:
    audit = load_audit(path, load_bank(MINI_BANK))
    return {qid: a.value for qid, a in audit.answers.items()}


def write(path: Path, answers: dict[str, Any], **meta: Any) -> Path:
    data: dict[str, Any] = {
        "system": {"name": "Refund agent"},
        "audit_date": "2026-10-01",
        **meta,
        "answers": answers,
    }
    path.write_text(json.dumps(data) if path.suffix == ".json" else _yaml(data))
    return path


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


ALL_SAFE = {
    "GD-01": "yes",
    "CT-01": "named_role",
    "CT-03": ["stop", "override", "rollback"],
    "AD-01": 2,
    "AD-03": "2026-09-01",
}


# ----------------------------------------------------------------------------- engine: basics


def test_new_audit_asks_metadata_then_every_question_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    lines = [
        *META,
        # GD-01 "No" (risk 1.00): a note and evidence are offered.
        "2", "Only the deploying team looks", "OPS-1, https://wiki.example/x",
        "1",  # CT-01 named_role: CT-02 does not apply
        "1,3",  # CT-03
        "3",  # AD-01 below 4: AD-02 does not apply
        "today",  # AD-03
        "",  # review: finish
    ]  # fmt: skip
    code, script = drive(path, lines)
    assert code == EXIT_OK
    assert not script.lines, "every scripted line was used"
    assert script.screens() == ["GD-01", "CT-01", "CT-03", "AD-01", "AD-03"]
    audit = load_audit(path, load_bank(MINI_BANK))
    assert audit.meta.system.name == "Refund agent"
    assert audit.meta.system.owner == "Payments team"
    assert audit.meta.auditor is not None and audit.meta.auditor.team == "Internal audit"
    assert audit.meta.audit_date == TODAY
    assert {k: a.value for k, a in audit.answers.items()} == {
        "GD-01": "no",
        "CT-01": "named_role",
        "CT-03": ["stop", "rollback"],
        "AD-01": 3,
        "AD-03": TODAY,
    }
    assert audit.answers["GD-01"].note == "Only the deploying team looks"
    assert audit.answers["GD-01"].evidence == ["OPS-1", "https://wiki.example/x"]
    assert "Review" in script.output and "Rating preview" in script.output
    assert not (tmp_path / ".audit.yaml.lock").exists()


def test_every_question_screen_shows_section_progress_options_and_hints(tmp_path: Path) -> None:
    _, script = drive(tmp_path / "a.yaml", [*META, "s", "s", "s", "s", "s", "s", "s"])
    out = script.output
    assert "Section: Core controls · question 1 of 7" in out
    assert "Section: Decay over time · question 5 of 7" in out
    assert "  1. A named role with a tested procedure" in out
    assert "  4. None of these (on its own)" in out
    assert "A whole number in months; allowed: 0 to 120 months." in out
    assert "A date as YYYY-MM-DD" in out
    assert "Section 1 of 2: Core controls" in out and "The basics." in out
    # Skipped parents leave follow-ups applicable: they are asked, saying why.
    assert "Follow-up: asked because CT-01 is unanswered" in out
    assert script.screens() == ["GD-01", "CT-01", "CT-02", "CT-03", "AD-01", "AD-02", "AD-03"]


@pytest.mark.parametrize(
    ("ct01", "ad01", "expected"),
    [
        ("1", "3", ["GD-01", "CT-01", "CT-03", "AD-01", "AD-03"]),
        ("3", "3", ["GD-01", "CT-01", "CT-02", "CT-03", "AD-01", "AD-03"]),
        ("2", "5", ["GD-01", "CT-01", "CT-02", "CT-03", "AD-01", "AD-02", "AD-03"]),
        ("1", "4", ["GD-01", "CT-01", "CT-03", "AD-01", "AD-02", "AD-03"]),
    ],
)
def test_follow_ups_appear_only_when_they_apply(
    tmp_path: Path, ct01: str, ad01: str, expected: list[str]
) -> None:
    answers = {"GD-01": "1", "CT-01": ct01, "CT-02": "The CTO", "CT-03": "4", "AD-01": ad01}
    answers |= {"AD-02": "1", "AD-03": "s"}
    lines: list[str] = [*META]
    for qid in expected:
        lines += [answers[qid]] + (["", ""] if answers[qid] != "s" else [])
    code, script = drive(tmp_path / "a.yaml", [*lines, ""])
    assert code == EXIT_OK
    assert script.screens() == expected
    if "CT-02" in expected:
        assert "Follow-up: asked because CT-01 is " in script.output


def test_back_goes_to_the_previous_question_with_its_answer_as_default(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    lines = [*META, "2", "", "", "b", "", "b", "1", "", "", "q"]
    code, script = drive(path, lines)
    # GD-01 answered, CT-01: back -> GD-01 (Enter keeps), CT-01: back -> GD-01, change to 1.
    assert code == EXIT_OK
    assert script.screens() == ["GD-01", "CT-01", "GD-01", "CT-01", "GD-01", "CT-01"]
    assert "Current answer: 2. No" in script.output
    assert answers_of(path) == {"GD-01": "yes"}


def test_back_at_the_first_question_stays_there(tmp_path: Path) -> None:
    _, script = drive(tmp_path / "a.yaml", [*META, "b", "q"])
    assert "This is the first question." in script.output


def test_skip_leaves_unanswered_and_back_returns_to_it(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    code, script = drive(path, [*META, "s", "skip", "b", "b", "yes", "", "", "q"])
    assert code == EXIT_OK
    assert script.screens() == ["GD-01", "CT-01", "CT-02", "CT-01", "GD-01", "CT-01"]
    assert "Skipped GD-01: left unanswered." in script.output
    assert answers_of(path) == {"GD-01": "yes"}


def test_help_and_rubric_on_request_only(tmp_path: Path) -> None:
    _, script = drive(tmp_path / "a.yaml", [*META, "s", "?", "??", "help", "rubric", "q"])
    out = script.output
    first_ct01 = out.index("CT-01 · ")
    assert "Someone must hold the authority and the means." in out[first_ct01:]
    # The rubric is hidden until asked: no risk figures before the first "??".
    assert "risk 1.00" not in out[: out.index("answer> ??")]
    # One row per answer, the risks right-aligned in one column; a red flag under its answer.
    rubric = out[out.index("Rubric for CT-01") :].splitlines()
    rows = [line for line in rubric if re.search(r"risk \d\.\d\d$", line)]
    assert [r.split()[0] for r in rows[:3]] == ["1.", "2.", "3."]
    assert len({len(r) for r in rows[:3]}) == 1, rows
    flag = rubric.index(rows[2]) + 1
    assert rubric[flag].strip() == "RED FLAG: Nobody has clear authority to shut it down."


@pytest.mark.parametrize(
    ("qid", "typed", "skip"),
    [
        ("GD-01", "maybe", 0),
        ("CT-01", "7", 1),
        ("CT-01", "somebody", 1),
        ("CT-03", "1 4", 3),
        ("CT-03", "1,1", 3),
        ("CT-03", "9", 3),
        ("AD-01", "200", 4),
        ("AD-01", "abc", 4),
        ("AD-01", "2.5", 4),
        ("AD-03", "2026-13-01", 6),
        ("AD-03", "yesterday", 6),
    ],
)
def test_invalid_input_reprompts_with_the_message_from_coerce(
    tmp_path: Path, qid: str, typed: str, skip: int
) -> None:
    bank = load_bank(MINI_BANK)
    q = bank.by_id[qid]
    code, script = drive(tmp_path / "a.yaml", [*META, *(["s"] * skip), typed, "q"], bank)
    assert code == EXIT_OK
    assert script.screens()[-1] == qid
    if q.type == "multi" and typed == "1 4":
        # Combining the exclusive option is said with its label, as the person saw it.
        assert "✗ 'None of these' stands on its own" in script.output
        return
    if q.options and typed.strip().isdigit() and int(typed) > len(q.option_map):
        # A menu number out of range is the walkthrough's own message, in menu terms.
        assert f"✗ {typed} is not one of the choices; type" in script.output
        assert script.prompts[-1] == "answer> " and script.prompts[-2] == "answer> "
        return
    # The exact validation message of Question.coerce, as the file loader would report it.
    raw: Any = typed
    if qid == "CT-03":
        options = list(q.option_map)
        raw = [
            options[int(t) - 1] if int(t) <= len(options) else t for t in re.split("[ ,]", typed)
        ]
    elif qid == "AD-01":
        raw = {"200": 200, "2.5": 2.5}.get(typed, typed)
    with pytest.raises(ValueError) as exc:
        q.coerce(raw)
    assert f"✗ {exc.value}" in script.output
    assert script.prompts[-1] == "answer> " and script.prompts[-2] == "answer> "


def test_answers_accept_numbers_words_and_units(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    lines = [
        *META,
        "y",
        "Nobody", "", "",  # a red flag: the note and evidence are offered
        r"\b",  # a text answer that looks like a command, escaped
        "stop override",
        "12 months",
        "1",
        "2026-01-31",
        "",
    ]  # fmt: skip
    code, script = drive(path, lines)
    assert code == EXIT_OK
    assert not script.lines
    assert answers_of(path) == {
        "GD-01": "yes",
        "CT-01": "nobody",
        "CT-02": "b",
        "CT-03": ["stop", "override"],
        "AD-01": 12,
        "AD-02": ["none_seen"],
        "AD-03": dt.date(2026, 1, 31),
    }


def test_required_question_needs_an_answer_or_skip(tmp_path: Path) -> None:
    _, script = drive(tmp_path / "a.yaml", [*META, "", "q"])
    assert "no answer typed" in script.output


# ------------------------------------------------------------------ engine: saving and resume


def test_autosave_after_every_answer(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    seen: list[dict[str, Any]] = []

    class Spy(Script):
        def read(self, prompt: str) -> str:
            if path.exists():
                seen.append(answers_of(path))
            return super().read(prompt)

    script = Spy([*META, "1", "", "", "3"])
    run_walkthrough(
        path,
        load_bank(MINI_BANK),
        prompter=Prompter(script.console, script.read),
        handle_signals=False,
        today=TODAY,
    )
    assert {"GD-01": "yes"} in seen  # on disk before the note prompt
    assert answers_of(path) == {"GD-01": "yes", "CT-01": "nobody"}


def test_keyboard_interrupt_saves_every_answer_and_exits_130(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    code, script = drive(path, [*META, "2", "", "", "3", "a note", KeyboardInterrupt()])
    assert code == EXIT_INTERRUPT == 130
    assert answers_of(path) == {"GD-01": "no", "CT-01": "nobody"}
    audit = load_audit(path, load_bank(MINI_BANK))
    assert audit.answers["CT-01"].note == "a note"
    assert f"resume with: ic-audit run {path}" in script.output
    assert not (tmp_path / ".a.yaml.lock").exists()


def test_signals_save_and_exit_128_plus_the_signal(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    code, script = drive(path, [*META, "1", Interrupted(signal.SIGTERM)])
    assert code == EXIT_TERMINATE == 143
    assert answers_of(path) == {"GD-01": "yes"}
    assert "terminated: 1 answer saved" in script.output
    code, _ = drive(path, [Interrupted(signal.SIGHUP)])
    assert code == 129


def test_closed_terminal_eof_and_io_error_save(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    code, script = drive(path, [*META, "1"])  # then EOF
    assert code == EXIT_OK
    assert "end of input: 1 answer saved" in script.output
    code, _ = drive(path, ["3", OSError(5, "Input/output error")])
    assert code == 129
    assert answers_of(path) == {"GD-01": "yes", "CT-01": "nobody"}


def test_interrupt_before_the_system_name_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    code, script = drive(path, [KeyboardInterrupt()])
    assert code == 130
    assert not path.exists()
    assert "nothing saved yet" in script.output


def test_interrupted_metadata_is_finished_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    drive(path, ["Refund agent", KeyboardInterrupt()])
    assert path.exists()
    code, script = drive(path, ["Payments", "-", "", "q"])
    assert code == EXIT_OK
    assert script.prompts[:3] == [
        "Team that owns it (Enter to skip): ",
        "Your name (the auditor) (Enter to skip): ",
        "Audit date [2026-10-01]: ",
    ]
    audit = load_audit(path, load_bank(MINI_BANK))
    assert audit.meta.system.owner == "Payments"
    assert audit.meta.auditor is None
    assert audit.meta.audit_date == TODAY


def test_back_and_skip_in_the_audit_questions(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    lines = ["s", "Sys", "s", "", "b", "b", "Owner", "Dana", "", "b", "Ops", "", "q"]
    code, script = drive(path, lines)
    assert code == EXIT_OK
    assert "the system's name is required" in script.output
    # No auditor: the team is not asked, and back from the date skips over it.
    assert script.prompts[4] == "Audit date [2026-10-01]: "
    assert script.prompts[5] == "Your name (the auditor) (Enter to skip): "
    audit = load_audit(path, load_bank(MINI_BANK))
    assert audit.meta.system.owner == "Owner"
    assert audit.meta.auditor is not None and audit.meta.auditor.team == "Ops"


def test_resume_continues_at_the_first_unanswered_question(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no", "CT-01": "named_role"})
    code, script = drive(path, ["1,2", "", "", "q"])
    assert code == EXIT_OK
    assert "Resuming" in script.output and "2 of 6 questions answered" in script.output
    assert "Continuing at CT-03 (question 3 of 6)" in script.output
    assert script.screens() == ["CT-03", "AD-01"]
    assert answers_of(path)["CT-03"] == ["stop", "override"]


def test_resume_continues_after_the_furthest_answer_and_offers_the_skipped_at_the_end(
    tmp_path: Path,
) -> None:
    # CT-01 was skipped (and CT-02, its follow-up, with it); the person stopped after CT-03.
    path = write(tmp_path / "a.yaml", {"GD-01": "no", "CT-03": ["stop"]})
    lines = ["2", "2026-09-01", "3", "1", ""]
    code, script = drive(path, lines)
    assert code == EXIT_OK
    assert not script.lines
    assert "Continuing at AD-01 (question 5 of 7)" in script.output
    assert "Left unanswered earlier: CT-01, CT-02; offered again at the end." in script.output
    assert "Go through the 2 unanswered questions now" in script.output
    # AD-02 does not apply (2 months); the review's "3" goes back to what was skipped.
    assert script.screens() == ["AD-01", "AD-03", "CT-01"]
    assert answers_of(path) == {
        "GD-01": "no",
        "CT-01": "named_role",
        "CT-03": ["stop"],
        "AD-01": 2,
        "AD-03": dt.date(2026, 9, 1),
    }


def test_resume_after_the_last_question_goes_to_the_first_unanswered(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no", "AD-03": "2026-09-01"})
    _, script = drive(path, ["q"])
    assert "Continuing at CT-01 (question 2 of 7)" in script.output


def test_back_from_the_resume_point_reaches_earlier_answers(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no", "CT-01": "named_role"})
    _, script = drive(path, ["b", "b", "", "", "q"])
    assert script.screens() == ["CT-03", "CT-01", "GD-01", "CT-01", "CT-03"]


def test_complete_file_goes_to_review(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", ALL_SAFE)
    code, script = drive(path, ["1", "2", "x", ""])
    assert code == EXIT_OK
    assert script.screens() == []
    assert "Every question in scope is answered" in script.output
    assert "Rating preview: LOW" in script.output
    assert "No red flags." in script.output
    assert (tmp_path / "a-report.md").read_text().startswith("#")
    assert "<html" in (tmp_path / "a-report.html").read_text().lower()
    assert "'x' is not a choice" in script.output


def test_review_lists_red_flags_and_unanswered_and_can_go_back_to_them(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {**ALL_SAFE, "CT-01": "nobody", "CT-03": None})
    # Resume: CT-02 (optional, Enter skips) and CT-03 are unanswered; skip CT-03 too.
    code, script = drive(path, ["", "s", "3", "", "2", "", "", ""])
    assert code == EXIT_OK
    out = script.output
    assert "Red flags (1)" in out and "CT-01: Nobody has clear authority" in out
    assert "Unanswered required questions (1)" in out and "CT-03: Which interventions" in out
    assert "3. Go through the 2 unanswered questions now (1 required)" in out
    assert script.screens() == ["CT-02", "CT-03", "CT-02", "CT-03"]
    assert answers_of(path)["CT-03"] == ["override"]


def test_revisit_walks_answered_questions_and_enter_keeps_them(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.yaml",
        {**ALL_SAFE, "GD-01": {"value": "no", "note": "kept", "evidence": ["E-1"]}},
    )
    before = answers_of(path)
    # 4 metadata prompts (no auditor: no team asked), 5 questions, the review.
    code, script = drive(path, [""] * 4 + [""] * 5 + [""], revisit=True)
    assert code == EXIT_OK
    assert not script.lines
    assert script.screens() == ["GD-01", "CT-01", "CT-03", "AD-01", "AD-03"]
    assert "Current answer: 2. No" in script.output
    assert "Current answer: 1,2,3 (Stop; Override; Rollback)" in script.output
    assert "Note: kept" in script.output
    assert not any(p.startswith(("Note", "Evidence")) for p in script.prompts)
    assert answers_of(path) == before
    assert load_audit(path, load_bank(MINI_BANK)).answers["GD-01"].evidence == ["E-1"]


def test_revisit_change_offers_the_note_with_the_current_one_as_default(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": {"value": "yes", "note": "old", "evidence": "E"}})
    meta = [""] * 4
    # Changed to "No" (risk 1.00): the note is offered, the current one as the default.
    code, script = drive(path, [*meta, "2", "", "+F, G", "q"], revisit=True)
    assert code == EXIT_OK
    assert any(p.startswith("Note — Enter keeps “old”") for p in script.prompts)
    answer = load_audit(path, load_bank(MINI_BANK)).answers["GD-01"]
    assert (answer.value, answer.note, answer.evidence) == ("no", "old", ["E", "F", "G"])


def test_note_and_clear_commands(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no"})
    _, script = drive(path, ["b", "note", "why", "e", "X-1", "clear", "q"])
    answer = load_audit(path, load_bank(MINI_BANK)).answers["GD-01"]
    assert (answer.value, answer.note, answer.evidence) == (None, "why", ["X-1"])
    assert "Cleared the answer to GD-01." in script.output


# ------------------------------------------------ engine: notes on request, red flags, review


def _note_prompts(script: Script) -> list[str]:
    return [p for p in script.prompts if p.startswith(("Note", "Evidence"))]


def test_no_note_prompt_after_an_ordinary_answer(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    # Every answer here is below the bank's high-risk cut-off and no red flag.
    code, script = drive(path, [*META, "1", "2", "1,3", "12", "1", "2026-09-01", ""])
    assert code == EXIT_OK
    assert not script.lines, "no prompt beyond the answers and the review"
    assert _note_prompts(script) == []
    assert "n note · e evidence" in script.output
    assert "✓ CT-01: Any senior manager" in script.output
    assert "RED FLAG" not in script.output.split("Review")[0]


def test_a_red_flag_answer_warns_names_the_reason_and_offers_a_note(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    code, script = drive(path, [*META, "1", "3", "Nobody owns it", "INC-9", "q"])
    assert code == EXIT_OK
    out = script.output
    warning = next(line for line in out.splitlines() if "RED FLAG" in line)
    assert "CT-01: Nobody clearly" in warning
    assert "Nobody has clear authority to shut it down." in out.split(warning)[1].split("\n")[1]
    assert "✓ CT-01" not in out, "a red flag is never shown as a success"
    assert "This is a red flag: a note and evidence help the reviewer" in out
    assert _note_prompts(script)[0] == "Note (Enter to skip): "
    answer = load_audit(path, load_bank(MINI_BANK)).answers["CT-01"]
    assert (answer.value, answer.note, answer.evidence) == ("nobody", "Nobody owns it", ["INC-9"])


def test_a_high_risk_answer_offers_a_note_at_the_banks_cut_off(tmp_path: Path) -> None:
    # GD-01 "No" has risk 1.00 and no red flag: at or above severity.high (0.75 by default).
    _, script = drive(tmp_path / "a.yaml", [*META, "2", "", "", "q"])
    assert "This is a high-risk answer (risk 1.00)" in script.output
    assert len(_note_prompts(script)) == 2
    # AD-01 at 12 months has risk 0.50: ordinary under the default cut-off ...
    answered = {"GD-01": "yes", "CT-01": "named_role", "CT-03": ["stop"]}
    _, script = drive(write(tmp_path / "b.yaml", answered), ["12", "q"])
    assert _note_prompts(script) == []
    # ... and high-risk in a bank whose cut-off is 0.5.
    bank_dir = tmp_path / "bank"
    shutil.copytree(MINI_BANK, bank_dir)
    with (bank_dir / "bank.yaml").open("a") as f:
        f.write("severity: {high: 0.5, moderate: 0.25}\n")
    _, script = drive(write(tmp_path / "c.yaml", answered), ["12", "q"], load_bank(bank_dir))
    assert "This is a high-risk answer (risk 0.50)" in script.output
    assert _note_prompts(script) == ["Note (Enter to skip): "]


def test_n_and_e_add_a_note_and_evidence_on_request(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "yes"})
    # At CT-01 (one choice): n, its note, e, its evidence, then the answer.
    lines = ["n", "Seniors only", "evidence", "OPS-1, OPS-2", "2", "q"]
    code, script = drive(path, lines)
    assert code == EXIT_OK
    # The screen is not redrawn for a note (CT-02 is the follow-up of "Any senior manager").
    assert script.screens() == ["CT-01", "CT-02"]
    # Each is confirmed, since nothing is redrawn.
    assert "CT-01: note saved" in script.output and "CT-01: evidence saved" in script.output
    answer = load_audit(path, load_bank(MINI_BANK)).answers["CT-01"]
    assert (answer.value, answer.note, answer.evidence) == (
        "anyone_senior",
        "Seniors only",
        ["OPS-1", "OPS-2"],
    )


def test_n_is_no_on_a_yes_no_question_where_note_is_the_command(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    code, script = drive(path, [*META, "note", "why", "n", "", "", "q"])
    assert code == EXIT_OK
    assert "· note note · e evidence ·" in script.output  # GD-01's command line
    answer = load_audit(path, load_bank(MINI_BANK)).answers["GD-01"]
    assert (answer.value, answer.note) == ("no", "why")


def test_review_counts_each_section_and_lists_the_first_unanswered(tmp_path: Path) -> None:
    bank = load_bank(ROOT / "questions")
    section = bank.sections[0]
    path = tmp_path / "a.yaml"
    skips = ["s"] * len(section.questions)
    code, script = drive(path, [*META, *skips, "4", ""], bank, sections=[section.id])
    assert code == EXIT_OK
    assert not script.lines
    review = script.output[script.output.index("Review") :]
    for s in bank.sections:
        assert re.search(rf"{re.escape(s.title)}\s+0 / {len(s.questions)}\s+0", review), s.id
    result_unanswered = [q.id for q in bank.questions if q.is_required]
    first, listing = review.split("4. List all", 1)
    assert f"Unanswered required questions ({len(result_unanswered)})" in first
    shown = re.findall(r"• ([A-Z]{2}-\d\d):", first)
    assert shown == result_unanswered[:5]
    assert f"and {len(result_unanswered) - 5} more" in first
    # Choice 4: every one of them, with its full text.
    listed = re.findall(r"• ([A-Z]{2}-\d\d):", listing)
    assert listed[: len(result_unanswered)] == result_unanswered
    last = bank.by_id[result_unanswered[-1]]
    assert " ".join(last.text.split())[-30:] in " ".join(listing.split())


def test_review_counts_answered_applicable_and_red_flags_per_section(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {**ALL_SAFE, "CT-01": "nobody", "CT-02": "The CTO"})
    _, script = drive(path, [""])
    review = script.output[script.output.index("Review") :]
    assert re.search(r"Core controls\s+✓ 4 / 4\s+1\b", review)
    assert re.search(r"Decay over time\s+✓ 2 / 2\s+0\b", review)
    assert "4. List all" not in review


def test_a_date_after_the_audit_date_is_refused_at_the_prompt(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    skips = ["s"] * 6  # to AD-03, "when was the last independent audit?"
    code, script = drive(path, [*META, *skips, "2026-10-02", "today", ""])
    assert code == EXIT_OK
    bank = load_bank(MINI_BANK)
    q = bank.by_id["AD-03"]
    expected = q.kind.dated_problem(q, dt.date(2026, 10, 2), TODAY, TODAY)
    assert expected is not None and "after the audit date 2026-10-01" in expected
    assert f"✗ {expected}" in script.output
    assert script.prompts.count("answer> ") >= 2
    assert answers_of(path) == {"AD-03": TODAY}


def test_an_audit_date_before_a_saved_past_date_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {**ALL_SAFE, "AD-03": "2026-09-01"})
    _, script = drive(path, ["", "", "", "2026-08-01", "2026-09-15", "q"], revisit=True)
    assert "AD-03 is answered 2026-09-01, after 2026-08-01" in script.output
    assert load_audit(path, load_bank(MINI_BANK)).meta.audit_date == dt.date(2026, 9, 15)


@pytest.mark.parametrize("form", ["short", "long"])
def test_a_file_with_a_past_date_after_the_audit_date_is_exit_2_naming_it(
    tmp_path: Path, form: str
) -> None:
    from tests.conftest import run_cli

    value: Any = "2026-10-02" if form == "short" else {"value": "2026-10-02", "note": "n"}
    path = write(tmp_path / "a.yaml", {**ALL_SAFE, "AD-03": value})
    done = run_cli("score", str(path), "--bank", str(MINI_BANK))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "a.yaml:" in lines[0] and "AD-03" in lines[0]
    assert "2026-10-02 is after the audit date 2026-10-01" in lines[0]
    # The same date on the audit date itself, or earlier, is fine.
    write(path, {**ALL_SAFE, "AD-03": "2026-10-01"})
    assert run_cli("score", str(path), "--bank", str(MINI_BANK)).returncode == 0


def test_without_an_audit_date_a_past_date_may_not_be_after_today(tmp_path: Path) -> None:
    bank = load_bank(MINI_BANK)
    future = dt.date.today() + dt.timedelta(days=1)
    path = tmp_path / "a.yaml"
    path.write_text(f"system: {{name: X}}\nanswers:\n  AD-03: {future.isoformat()}\n")
    with pytest.raises(UserError) as exc:
        load_audit(path, bank)
    assert "is in the future" in str(exc.value) and "AD-03" in str(exc.value)


def test_the_banks_planned_date_may_be_after_the_audit_date() -> None:
    # GV-09 ("last audited") records the past; MT-10 (the next review) says `past: false`.
    bank = load_bank(ROOT / "questions")
    later = dt.date(2027, 1, 15)
    gv09, mt10 = bank.by_id["GV-09"], bank.by_id["MT-10"]
    assert gv09.kind.dated_problem(gv09, later, TODAY, TODAY) is not None
    assert mt10.kind.dated_problem(mt10, later, TODAY, TODAY) is None


def test_sections_walks_only_those_and_keeps_the_other_answers(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no"})
    code, script = drive(path, ["5", "", "", "2", "", "", "", ""], sections=["decay"])
    assert code == EXIT_OK
    assert script.screens() == ["AD-01", "AD-02", "AD-03"]
    assert "question 1 of 3" in script.output
    assert answers_of(path) == {"GD-01": "no", "AD-01": 5, "AD-02": ["asked_for_access"]}


def test_unknown_section_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no section 'nope' in the bank; sections are: core"):
        drive(tmp_path / "a.yaml", [], sections=["nope"])


def test_invalid_existing_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    text = "system: {name: X}\nanswers:\n  GD-01: perhaps\n  ZZ-99: yes\n"
    path.write_text(text)
    with pytest.raises(UserError) as exc:
        drive(path, ["1"])
    messages = [str(p) for p in exc.value.problems]
    assert any("GD-01: 'perhaps' is not yes or no" in m for m in messages)
    assert any("ZZ-99: unknown question id" in m for m in messages)
    assert path.read_text() == text
    assert not (tmp_path / ".a.yaml.lock").exists()


def test_untouched_keys_and_answers_are_preserved(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(
        "# my own comment\n"
        "answers:\n  AD-01: 7\n  CT-02: null\n"
        "audit_date: 2026-09-30\n"
        "system: {description: 'Refunds < 100 EUR', name: Refund agent, version: '2.1'}\n"
        "auditor: {email: d@example.org, name: Dana}\n"
        "bank: {id: mini, version: '0.1'}\n"
    )
    code, _ = drive(path, ["1", "", "", "q"])
    assert code == EXIT_OK
    text = path.read_text()
    audit = load_audit(path, load_bank(MINI_BANK))
    assert audit.meta.system.description == "Refunds < 100 EUR"
    assert audit.meta.system.version == "2.1"
    assert audit.meta.auditor is not None and audit.meta.auditor.email == "d@example.org"
    assert audit.meta.audit_date == dt.date(2026, 9, 30)
    assert {k: a.value for k, a in audit.answers.items()} == {
        "CT-02": None,
        "AD-01": 7,
        "AD-02": ["none_seen"],  # resumed after AD-01, the furthest answer
    }
    # The file's own order and comments are kept (issue 9 point 6); the new answer goes in bank
    # order before the answers that come after it in the bank.
    order = [text.index(k) for k in ("answers:", "\naudit_date:", "\nsystem:", "\nauditor:")]
    assert order == sorted(order) and text.startswith("# my own comment\n")
    # AD-02 comes after every answer already in the file, in the bank's order.
    assert text.index("AD-01:") < text.index("CT-02:") < text.index("AD-02:")


class EditsFile(Script):
    """A script that edits the answers file behind the walkthrough's back at one prompt."""

    def __init__(self, lines: list[Any], path: Path, at: int, edit: str) -> None:
        super().__init__(lines)
        self.path, self.at, self.edit = path, at, edit

    def read(self, prompt: str) -> str:
        if len(self.prompts) == self.at:
            self.path.write_text(self.edit)
        return super().read(prompt)


def _drive_with_edit(path: Path, lines: list[Any], at: int, edit: str) -> EditsFile:
    script = EditsFile(lines, path, at, edit)
    run_walkthrough(
        path,
        load_bank(MINI_BANK),
        prompter=Prompter(script.console, script.read),
        handle_signals=False,
        today=TODAY,
    )
    return script


def test_edits_made_to_the_file_meanwhile_are_merged_not_lost(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no"})
    edit = (
        "system: {name: Renamed by hand, owner: Ops}\n"
        "answers: {GD-01: 'yes', CT-01: nobody, AD-01: 7}\n"
    )
    # Resume at CT-01; the file is edited before the first prompt; we answer CT-01 and quit.
    script = _drive_with_edit(path, ["1", "", "", "q"], 0, edit)
    audit = load_audit(path, load_bank(MINI_BANK))
    assert audit.meta.system.name == "Renamed by hand" and audit.meta.system.owner == "Ops"
    assert {k: a.value for k, a in audit.answers.items()} == {
        "GD-01": "yes",  # theirs: untouched by this session
        "CT-01": "named_role",  # ours: answered in this session
        "AD-01": 7,  # theirs
    }
    assert "was edited outside the walkthrough; merged those edits" in script.output


def test_an_invalid_edit_made_meanwhile_is_kept_beside_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no"})
    edit = "system: {name: X}\nanswers: {GD-01: perhaps}\n"
    script = _drive_with_edit(path, ["1", "", "", "q"], 0, edit)
    assert answers_of(path) == {"GD-01": "no", "CT-01": "named_role"}
    assert (tmp_path / "a.yaml.conflict").read_text() == edit
    assert "that version is kept in" in script.output


def test_empty_existing_file_starts_a_new_audit(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("\n")
    code, script = drive(path, [*META, "1", "", "", "q"])
    assert code == EXIT_OK
    assert "New audit" in script.output
    assert answers_of(path) == {"GD-01": "yes"}


def test_json_answers_file_stays_json(tmp_path: Path) -> None:
    path = write(tmp_path / "a.json", {"GD-01": "no"})
    code, _ = drive(path, ["3", "n", "", "q"])
    assert code == EXIT_OK
    data = json.loads(path.read_text())
    assert data["answers"] == {"GD-01": "no", "CT-01": {"value": "nobody", "note": "n"}}
    assert answers_of(path) == {"GD-01": "no", "CT-01": "nobody"}


def test_missing_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        drive(tmp_path / "nope" / "a.yaml", [])


def test_second_walkthrough_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    first = FileLock(path, str(path))
    first.acquire()
    try:
        with pytest.raises(UsageError) as exc:
            drive(path, [*META])
        assert str(exc.value).startswith(
            f"another walkthrough is editing {path} (pid {os.getpid()})"
        )
    finally:
        first.release()
    assert not (tmp_path / ".a.yaml.lock").exists()
    code, _ = drive(path, [*META, "q"])  # free again
    assert code == EXIT_OK


@pytest.mark.parametrize("left", ["4242\n", ""])
def test_a_lock_file_left_by_a_killed_walkthrough_is_taken_over(tmp_path: Path, left: str) -> None:
    path = write(tmp_path / "a.yaml", {"GD-01": "no"})
    (tmp_path / ".a.yaml.lock").write_text(left)
    code, _ = drive(path, ["q"])
    assert code == EXIT_OK
    assert not (tmp_path / ".a.yaml.lock").exists()


def test_terminal_text_cannot_inject_escape_sequences_or_markup(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.yaml",
        {"GD-01": {"value": "no", "note": "[bold red]boom[/]"}},
        system={"name": "X"},
    )
    _, script = drive(path, ["b", "q"])
    assert "\x1b" not in script.output
    assert "[bold red]boom[/]" in script.output


# ------------------------------------------------------------------------------------ writer


def test_writer_format_is_stable_and_readable(tmp_path: Path) -> None:
    bank = load_bank(MINI_BANK)
    meta = {
        "bank": {"version": "0.1", "id": "mini"},
        "audit_date": dt.date(2026, 10, 1),
        "system": {"owner": "Payments", "name": 'Refund "agent": #1'},
    }
    answers = {
        "AD-01": Answer(value=5),
        "GD-01": Answer(value="yes"),
        "CT-03": Answer(value=["stop", "override"], note="Staging only.", evidence=["OPS-1"]),
        "CT-02": Answer(value="yes"),
    }
    assert answers_text(bank, meta, answers) == (
        "# ic-audit answers file for bank mini 0.1: Mini bank for tests\n"
        "# Saved by `ic-audit run`, which regenerates these comments on every save.\n"
        "# Resume with `ic-audit run FILE`; score with `ic-audit score FILE`.\n"
        "\n"
        "system:\n"
        '  name: "Refund \\"agent\\": #1"\n'
        '  owner: "Payments"\n'
        "audit_date: 2026-10-01\n"
        "bank:\n"
        '  id: "mini"\n'
        '  version: "0.1"\n'
        "answers:\n"
        "\n"
        "  # ==== Core controls ====\n"
        "\n"
        "  # GD-01: Does an independent team review goal-drift incidents?\n"
        "  GD-01: yes\n"
        "\n"
        "  # CT-02: Who was the last person to stop it, and why?\n"
        '  CT-02: "yes"\n'
        "\n"
        "  # CT-03: Which interventions were exercised at production load in the last 90 days?\n"
        "  CT-03:\n"
        "    value: [stop, override]\n"
        '    note: "Staging only."\n'
        "    evidence:\n"
        '      - "OPS-1"\n'
        "\n"
        "  # ==== Decay over time ====\n"
        "\n"
        "  # AD-01: How many months since the last full reassessment?\n"
        "  AD-01: 5\n"
    )


@pytest.mark.parametrize(
    "text",
    ["", "yes", "null", "a: b # c", "\x85\u2028\u2029\ufeff", "\x7f\x80\x9f", "'\"\\", "\t\n\r"],
)
def test_quote_reads_back_as_the_same_text(text: str) -> None:
    from ic_audit.yaml_events import parse_yaml

    assert parse_yaml(f"k: {quote(text)}\n", "t").data == {"k": text}


_MINI = load_bank(MINI_BANK)
_printable_text = st.text(FILE_CHARS, max_size=60)
_evidence = st.lists(st.text(FILE_CHARS, min_size=1, max_size=30), max_size=3)


def _value(qid: str) -> st.SearchStrategy[Any]:
    q = _MINI.by_id[qid]
    options = list(q.option_map)
    if q.type in ("yes_no", "single"):
        return st.sampled_from(options)
    if q.type == "multi":
        plain = [o.value for o in q.options or [] if not o.exclusive]
        none = [o.value for o in q.options or [] if o.exclusive]
        return st.one_of(
            st.just(none),
            st.lists(st.sampled_from(plain), min_size=1, unique=True).map(
                lambda vs: sorted(vs, key=options.index)
            ),
        )
    if q.type == "number":
        return st.integers(0, 120)
    if q.type == "date":
        # Before any audit date drawn below (and before today): a past date is the only kind
        # a file may hold for a `past` date question.
        return st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31))
    return _printable_text


@st.composite
def _answers(draw: st.DrawFn) -> dict[str, Answer]:
    out: dict[str, Answer] = {}
    for q in _MINI.questions:
        if not draw(st.booleans()):
            continue
        value = draw(st.one_of(st.none(), _value(q.id)))
        note = draw(st.one_of(st.none(), _printable_text))
        out[q.id] = Answer(value=value, note=note, evidence=draw(_evidence))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    answers=_answers(),
    name=st.text(FILE_CHARS, min_size=1, max_size=40),
    owner=st.one_of(st.none(), st.text(FILE_CHARS, min_size=1, max_size=40)),
    date=st.one_of(st.none(), st.dates(dt.date(2026, 1, 1), dt.date(2999, 12, 31))),
    as_json=st.booleans(),
)
def test_round_trip_load_of_written_file_gives_the_same_answers(
    tmp_path_factory: pytest.TempPathFactory,
    answers: dict[str, Answer],
    name: str,
    owner: str | None,
    date: dt.date | None,
    as_json: bool,
) -> None:
    meta: dict[str, Any] = {"system": {"name": name}}
    if owner is not None:
        meta["system"]["owner"] = owner
    if date is not None:
        meta["audit_date"] = date
    meta["bank"] = {"id": "mini", "version": "0.1"}
    path = tmp_path_factory.mktemp("rt") / ("a.json" if as_json else "a.yaml")
    path.write_text(answers_text(_MINI, meta, answers, as_json=as_json), encoding="utf-8")
    audit = load_audit(path, _MINI)
    assert audit.meta.system.name == name
    assert audit.meta.system.owner == owner
    assert audit.meta.audit_date == date
    assert audit.answers == answers
    assert list(audit.answers) == [q.id for q in _MINI.questions if q.id in answers]


# --------------------------------------------------------------------- the real program: pty


pexpect = pytest.importorskip("pexpect")


def _spawn(cwd: Path, *args: str) -> Any:
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "ic_audit", "run", *args, "--bank", str(MINI_BANK)],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 140),
    )


def _meta(child: Any) -> None:
    child.expect_exact("Name of the AI system under audit: ")
    child.sendline("Refund agent")
    for prompt, line in (
        ("Team that owns it", ""),
        ("Your name (the auditor)", "Dana Ruiz"),
        ("Your team", ""),
        ("Audit date", ""),
    ):
        child.expect_exact(prompt)
        child.sendline(line)


def _finish(child: Any) -> int:
    # Only after the last thing the program says: saving and exiting take well under a second.
    child.expect(pexpect.EOF, timeout=3)
    child.close()
    assert child.exitstatus is not None, f"killed by signal {child.signalstatus}"
    return int(child.exitstatus)


def _expect_question(child: Any, qid: str, k: int, n: int) -> None:
    child.expect_exact(f"question {k} of {n}")
    child.expect_exact(f"{qid} · ")
    child.expect_exact("answer> ")


def _no_note(child: Any) -> None:
    child.expect_exact("Note (Enter to skip): ")
    child.sendline("")
    child.expect_exact("Evidence: ")
    child.sendline("")


def test_pty_ctrl_c_saves_every_answer_exits_130_and_resume_continues(tmp_path: Path) -> None:
    child = _spawn(tmp_path, "audit.yaml")
    _meta(child)
    _expect_question(child, "GD-01", 1, 7)
    child.sendline("2")
    child.expect_exact("Note (Enter to skip): ")
    child.sendline("Deploying team only")
    child.expect_exact("Evidence: ")
    child.sendline("OPS-7")
    _expect_question(child, "CT-01", 2, 7)
    child.sendline("3")
    _no_note(child)  # a red flag: the note is offered
    _expect_question(child, "CT-02", 3, 7)  # the follow-up applies: CT-01 is "nobody"
    child.sendline("The CTO, during an outage")
    _expect_question(child, "CT-03", 4, 7)
    child.sendintr()
    child.expect_exact("resume with: ic-audit run audit.yaml")
    assert _finish(child) == 130
    audit = load_audit(tmp_path / "audit.yaml", load_bank(MINI_BANK))
    assert {k: a.value for k, a in audit.answers.items()} == {
        "GD-01": "no",
        "CT-01": "nobody",
        "CT-02": "The CTO, during an outage",
    }
    assert audit.answers["GD-01"].note == "Deploying team only"
    assert audit.answers["GD-01"].evidence == ["OPS-7"]
    assert not (tmp_path / ".audit.yaml.lock").exists()

    child = _spawn(tmp_path, "audit.yaml")
    child.expect_exact("3 of 7 questions answered")
    child.expect_exact("Continuing at CT-03")
    _expect_question(child, "CT-03", 4, 7)
    child.sendline("q")
    child.expect_exact("resume with:")
    assert _finish(child) == 0


def test_pty_back_skip_help_and_conditional_follow_up(tmp_path: Path) -> None:
    child = _spawn(tmp_path, "audit.yaml")
    _meta(child)
    _expect_question(child, "GD-01", 1, 7)
    child.sendline("?")
    child.expect_exact("Teams may hide incidents they are accountable for.")
    child.expect_exact("answer> ")
    child.sendline("s")
    _expect_question(child, "CT-01", 2, 7)
    child.sendline("b")
    _expect_question(child, "GD-01", 1, 7)
    child.sendline("yes")
    _expect_question(child, "CT-01", 2, 7)
    child.sendline("1")  # a named role: the CT-02 follow-up does not apply
    _expect_question(child, "CT-03", 3, 6)
    assert "CT-02 · " not in child.before
    child.sendline("b")
    _expect_question(child, "CT-01", 2, 6)
    child.sendline("3")  # now it applies
    _no_note(child)
    _expect_question(child, "CT-02", 3, 7)
    child.sendline("q")
    assert _finish(child) == 0
    assert answers_of(tmp_path / "audit.yaml") == {"GD-01": "yes", "CT-01": "nobody"}


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_pty_sigterm_and_hangup_save_and_exit_128_plus_signal(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    child = _spawn(tmp_path, "audit.yaml")
    _meta(child)
    _expect_question(child, "GD-01", 1, 7)
    child.sendline("2")
    child.expect_exact("Note (Enter to skip): ")
    child.sendline("typed before the signal")
    child.expect_exact("Evidence: ")
    child.kill(sig)
    assert _finish(child) == code
    audit = load_audit(tmp_path / "audit.yaml", load_bank(MINI_BANK))
    assert audit.answers["GD-01"].value == "no"
    assert audit.answers["GD-01"].note == "typed before the signal"


class _RawPty:
    """The real program on a pseudo-terminal read byte by byte, so a test can act the moment
    a given part of a prompt appears (readline writes prompts one byte at a time)."""

    def __init__(self, cwd: Path, *args: str) -> None:
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 140, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ic_audit", "run", *args, "--bank", str(MINI_BANK)],
            cwd=cwd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.fd = master
        self.out = b""

    def _pull(self, wait: float) -> bool:
        import select

        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child has closed the terminal
            data = b""
        self.out += data
        return bool(data)

    def until(self, marker: str, timeout: float = 20) -> None:
        """Read until ``marker`` appears in what is new since the call."""
        want = marker.encode()
        start = len(self.out)
        end = time.monotonic() + timeout
        while want not in self.out[start:]:
            left = end - time.monotonic()
            assert left > 0, f"{marker!r} never appeared:\n{self.text()}"
            assert self._pull(left), f"ended before {marker!r}:\n{self.text()}"

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def finish(self, timeout: float) -> int | None:
        """The exit code, or None if the program was still running after ``timeout``."""
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self._pull(0.02)
        code = self.proc.poll()
        if code is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.fd)
        return code

    def text(self) -> str:
        return self.out.decode("utf-8", "replace")


_EVIDENCE_PROMPT = "Evidence: links, ticket ids, file paths, comma-separated (Enter to skip): "


# Each round spawns one walkthrough per moment (about a third of a second each). CI (CI=true)
# sweeps twice, for more chances to land inside a race; a local run sweeps once, and
# IC_AUDIT_SIGNAL_ROUNDS=N sweeps N times.
SIGNAL_ROUNDS = int(os.environ.get("IC_AUDIT_SIGNAL_ROUNDS", "2" if os.environ.get("CI") else "1"))


def _signal_moments() -> list[tuple[str, float]]:
    """Moments around the (long) evidence prompt that follows an answer and its note."""
    return [
        # the note line just sent: before, during or after it is read and saved
        *(("after-enter", d) for d in (0, 0.0002, 0.001, 0.003, 0.01)),
        # the prompt partly written: the main thread is inside readline's C code
        *(("prompt-chars", k) for k in (1, 2, 3, 5, 8, 13, 21, 34, 55)),
        # the prompt written, waiting in input()
        *(("prompt-wait", d) for d in (0, 0.001, 0.02)),
    ]


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_pty_a_signal_at_any_moment_around_a_prompt_saves_and_exits_at_once(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    def one(moment: str, amount: float, round_: int) -> None:
        cwd = tmp_path / f"{moment}-{amount}-{round_}"
        cwd.mkdir()
        write(cwd / "a.yaml", {"GD-01": "no"})
        child = _RawPty(cwd, "a.yaml")
        child.until("answer> ")
        child.send("3\r")  # CT-01: nobody, a red flag: the note is offered
        child.until("Note (Enter to skip): ")
        child.send("drilled\r")
        if moment == "after-enter":
            time.sleep(amount)
        elif moment == "prompt-chars":
            child.until(_EVIDENCE_PROMPT[: int(amount)])
        else:
            child.until(_EVIDENCE_PROMPT)
            time.sleep(amount)
        child.proc.send_signal(sig)
        got = child.finish(timeout=3)
        where = f"{sig.name} at {moment} {amount}"
        assert got == code, f"{where}: exit {got}; the screen:\n{child.text()}"
        audit = load_audit(cwd / "a.yaml", load_bank(MINI_BANK))
        answers = {k: a.value for k, a in audit.answers.items()}
        assert answers == {"GD-01": "no", "CT-01": "nobody"}, where
        if "Evidence" in child.text():  # the note was taken: it must be in the file
            assert audit.answers["CT-01"].note == "drilled", where
        assert not (cwd / ".a.yaml.lock").exists(), where

    # Two walkthroughs at a time: each spends most of its time starting up, and the test waits.
    cases = [(m, a, r) for r in range(SIGNAL_ROUNDS) for m, a in _signal_moments()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(one, *case) for case in cases]:
            future.result()


def test_pty_section_ignores_case(tmp_path: Path) -> None:
    write(tmp_path / "audit.yaml", {"GD-01": "no"})
    child = _spawn(tmp_path, "audit.yaml", "--section", "DECAY", "--section", " Core ")
    _expect_question(child, "CT-01", 2, 7)
    child.sendline("q")
    child.expect_exact("--section decay --section core")
    assert _finish(child) == 0


def test_pty_a_file_holding_escape_sequences_is_refused_cleanly(tmp_path: Path) -> None:
    # The loader refuses control characters in any string (issue 9, point 4), so text from the
    # file can no longer drive the terminal through a prompt; the refusal itself is clean.
    audit = tmp_path / "audit.yaml"
    audit.write_text(
        'system: {name: "Agent \\e[2J", owner: "Ops \\e]0;x\\a"}\n'
        "audit_date: 2026-10-01\n"
        "answers:\n"
        '  GD-01: {value: "no", note: "see \\e]0;x\\a here"}\n'
    )
    before = audit.read_bytes()
    child = _spawn(tmp_path, "audit.yaml", "--revisit")
    child.logfile_read = io.StringIO()
    child.expect_exact("system.name")
    assert _finish(child) == 2
    screen = child.logfile_read.getvalue()
    assert "U+001B" in screen and "GD-01" in screen
    for raw in ("\x1b[2J", "\x1b]0;", "\x07"):
        assert raw not in screen
    assert audit.read_bytes() == before


def test_every_prompt_is_cleaned_before_it_reaches_the_terminal() -> None:
    # Defence in depth: whatever reaches a prompt (a value, a note, a file name) is one line
    # with control characters shown as escapes.
    script = Script(["x"])
    Prompter(script.console, script.read).ask("Name [Agent \x1b[2J\x07]\n: ")
    assert script.prompts == ["Name [Agent \\x1b[2J\\x07]\\n: "]


def test_pty_lock_refuses_a_second_walkthrough(tmp_path: Path) -> None:
    first = _spawn(tmp_path, "audit.yaml")
    first.expect_exact("Name of the AI system under audit: ")
    second = _spawn(tmp_path, "audit.yaml")
    second.expect_exact(f"another walkthrough is editing audit.yaml (pid {first.pid})")
    assert _finish(second) == 2
    first.sendline("q")
    assert _finish(first) == 0


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("symlink", "is a symbolic link"),
        ("dangling-symlink", "is a symbolic link"),
        ("fifo", "is not a regular file"),
        ("directory", "is a directory"),
        ("hardlink", "is a hard link to another file"),
        ("not-a-pid", "holds something other than a process id"),
    ],
)
def test_pty_a_lock_path_that_is_not_a_lock_file_is_refused_and_nothing_written(
    tmp_path: Path, kind: str, says: str
) -> None:
    audit = write(tmp_path / "audit.yaml", {"GD-01": "no"})
    before = audit.read_bytes()
    lock = tmp_path / ".audit.yaml.lock"
    if kind == "symlink":
        lock.symlink_to("audit.yaml")
    elif kind == "dangling-symlink":
        lock.symlink_to("elsewhere.yaml")
    elif kind == "fifo":
        os.mkfifo(lock)
    elif kind == "directory":
        lock.mkdir()
    elif kind == "hardlink":
        os.link(audit, lock)
    else:
        lock.write_text("my notes\n")
    child = _spawn(tmp_path, "audit.yaml")
    child.expect_exact("move it away and run again")
    shown = child.before + child.after
    assert _finish(child) == 2
    assert shown.strip().splitlines() == [
        f"audit.yaml: the lock file {tmp_path.resolve() / lock.name} "
        f"{says}{' (not a lock file)' if 'symbolic' in says else ''}; move it away and run again"
    ]
    assert audit.read_bytes() == before
    assert not (tmp_path / "elsewhere.yaml").exists()
    if kind == "not-a-pid":
        assert lock.read_text() == "my notes\n"


def test_pty_the_lock_holds_for_the_file_a_link_points_to(tmp_path: Path) -> None:
    write(tmp_path / "audit.yaml", {"GD-01": "no"})
    (tmp_path / "link.yaml").symlink_to("audit.yaml")
    first = _spawn(tmp_path, "audit.yaml")
    first.expect_exact("answer> ")
    second = _spawn(tmp_path, "link.yaml")
    second.expect_exact(f"another walkthrough is editing link.yaml (pid {first.pid})")
    assert _finish(second) == 2
    first.sendline("q")
    assert _finish(first) == 0
    assert not (tmp_path / ".link.yaml.lock").exists()


def test_without_a_terminal_run_exits_2_pointing_to_init_and_score(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ic_audit", "run", "audit.yaml"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
    assert "ic-audit init" in result.stderr and "ic-audit score" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "audit.yaml").exists()


# -------------------------------------------------------------------- the real program: tmux


class Tmux:
    """One tmux server on a private socket, driving the installed console script."""

    def __init__(self, socket: str, cwd: Path) -> None:
        self.socket = socket
        self.cwd = cwd
        self.window = 0

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, command: str, width: int = 130) -> str:
        self.window += 1
        name = f"walk{self.window}"
        rc = self.cwd / f"{name}.rc"
        # `trap : INT`: Ctrl-C must reach the walkthrough, not end this wrapper shell.
        shell = f"trap : INT; {command}; echo $? > {shlex.quote(str(rc))}; sleep 300"
        self.tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", "50",
                  "-c", str(self.cwd), "sh", "-c", shell)  # fmt: skip
        return name

    def screen(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", name, "-S", "-300")

    def wait(self, name: str, text: str, timeout: float = 20) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.screen(name)
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen(name)}")

    def type(self, name: str, *lines: str) -> None:
        for line in lines:
            if line:
                self.tmux("send-keys", "-t", name, "-l", line)
            self.tmux("send-keys", "-t", name, "Enter")

    def exit_code(self, name: str, timeout: float = 5) -> int:
        rc = self.cwd / f"{name}.rc"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if rc.exists() and rc.read_text().strip():
                return int(rc.read_text())
            time.sleep(0.1)
        raise AssertionError(f"the walkthrough did not exit; the screen:\n{self.screen(name)}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is required in CI (.ci/run installs it)")
        pytest.skip("tmux is not installed")
    server = Tmux(f"ic-audit-test-{uuid.uuid4().hex[:12]}", tmp_path)
    yield server
    subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True, timeout=30)


def _console_script() -> str:
    candidate = Path(sys.executable).parent / "ic-audit"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ic-audit")
    if found is None:
        pytest.fail("the ic-audit console script is not installed")
    return found


def test_tmux_console_script_ctrl_c_then_resume(tmux: Tmux, tmp_path: Path) -> None:
    command = " ".join(
        shlex.quote(part)
        for part in (_console_script(), "run", "audit.yaml", "--bank", str(MINI_BANK))
    )
    w = tmux.start(command)
    tmux.wait(w, "Name of the AI system under audit:")
    tmux.type(w, "Support triage agent", "Customer platform", "Dana Ruiz", "Internal audit", "")
    tmux.wait(w, "Section: Core controls · question 1 of 7")
    tmux.type(w, "1")
    tmux.wait(w, "Section: Core controls · question 2 of 7")
    # No note prompt after an ordinary answer: `n` and `e` add them on request.
    tmux.type(w, "n", "Only senior managers", "e", "OPS-1234, https://wiki.example/runbook", "2")
    tmux.wait(w, "Section: Core controls · question 3 of 7")
    # Wait for the line itself: the header is drawn before it, and a capture can fall between.
    tmux.wait(w, "Follow-up: asked because CT-01 is Any senior manager")
    tmux.tmux("send-keys", "-t", w, "C-c")
    assert tmux.exit_code(w) == 130
    screen = tmux.wait(w, "resume with:")
    assert "2 answers saved in audit.yaml" in screen
    audit = load_audit(tmp_path / "audit.yaml", load_bank(MINI_BANK))
    assert {k: a.value for k, a in audit.answers.items()} == {
        "GD-01": "yes",
        "CT-01": "anyone_senior",
    }
    assert audit.answers["CT-01"].note == "Only senior managers"
    assert audit.answers["CT-01"].evidence == ["OPS-1234", "https://wiki.example/runbook"]
    assert audit.meta.system.name == "Support triage agent"

    w = tmux.start(command)
    screen = tmux.wait(w, "Continuing at CT-02 (question 3 of 7)")
    assert "Resuming audit.yaml: 2 of 7 questions answered." in screen
    tmux.wait(w, "Section: Core controls · question 3 of 7")
    tmux.type(w, "q")
    assert tmux.exit_code(w) == 0


@pytest.mark.parametrize("width", [100, 60])
def test_tmux_a_red_flag_answer_shows_a_warning_with_its_reason(
    tmux: Tmux, tmp_path: Path, width: int
) -> None:
    write(tmp_path / "audit.yaml", {"GD-01": "yes"})
    command = " ".join(
        shlex.quote(part)
        for part in (_console_script(), "run", "audit.yaml", "--bank", str(MINI_BANK))
    )
    w = tmux.start(command, width=width)
    tmux.wait(w, "Section: Core controls · question 2 of 7")
    tmux.wait(w, "answer>")
    tmux.type(w, "3")  # CT-01: "Nobody clearly", a red flag
    screen = tmux.wait(w, "Note (Enter to skip):")
    lines = screen.splitlines()
    warning = next(i for i, line in enumerate(lines) if "RED FLAG" in line)
    assert "CT-01: Nobody clearly" in lines[warning]
    assert "Nobody has clear authority to shut it down." in lines[warning + 1]
    assert "✓ CT-01" not in screen, "a red flag is never shown as a success"
    assert all(len(line) <= width for line in lines)
    # The warning is drawn in colour (reverse red), set apart from the ordinary lines.
    coloured = tmux.tmux("capture-pane", "-p", "-e", "-t", w, "-S", "-300")
    assert re.search(r"\x1b\[[0-9;]*41[;m][^\n]*RED FLAG", coloured), coloured
    tmux.type(w, "", "")
    tmux.wait(w, "Section: Core controls · question 3 of 7")
    tmux.type(w, "q")
    assert tmux.exit_code(w) == 0
    assert answers_of(tmp_path / "audit.yaml") == {"GD-01": "yes", "CT-01": "nobody"}


def _exposure_audit(tmp_path: Path) -> tuple[Bank, Path]:
    """The 2.0-style test bank, and an audit with its profile answered, GD-01 still open."""
    path = tmp_path / "audit.yaml"
    path.write_text(
        "system: {name: Expo}\naudit_date: 2026-10-01\nanswers:\n"
        "  PR-01: approved\n  PR-02: [writes]\n  CT-01: named_role\n",
        encoding="utf-8",
    )
    return load_bank(ROOT / "tests" / "data" / "exposure_bank"), path


def test_declaring_not_applicable_asks_why_before_saving(tmp_path: Path) -> None:
    # The loader refuses a not-applicable declaration without a note, so the walkthrough asks
    # for the note first: the file it saves always loads again.
    bank, path = _exposure_audit(tmp_path)
    # GD-01: choose "not applicable" (3), give no reason (refused), then one; then quit.
    code, script = drive(
        path, ["3", "", "It takes no actions to review", "q"], bank, sections=["controls"]
    )
    assert code == 0, script.output
    assert "a note is required" in script.output
    answer = load_audit(path, bank).answers["GD-01"]
    assert answer.value == "not_needed" and answer.note == "It takes no actions to review"


def test_backing_out_of_a_not_applicable_declaration_saves_nothing_for_it(tmp_path: Path) -> None:
    bank, path = _exposure_audit(tmp_path)
    code, script = drive(path, ["3", "b", "1", "q"], bank, sections=["controls"])
    assert code == 0, script.output
    assert load_audit(path, bank).answers["GD-01"].value == "independent"
