"""Saving from the walkthrough keeps the answers file as people wrote it (issue 9, 6 and 11).

The walkthrough is driven through `run_walkthrough` with a scripted prompter (as in
test_walkthrough.py); the files it saves are compared line by line with what was there before.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from ic_audit.answers import load_audit
from ic_audit.answers_template import answers_template
from ic_audit.atomic import atomic_write
from ic_audit.bank import Bank, load_bank
from ic_audit.walkthrough import EXIT_OK, Prompter, run_walkthrough
from tests.conftest import MINI_BANK, ROOT

TODAY = dt.date(2026, 10, 1)


class Script:
    """Scripted terminal lines; ``edits`` maps a prompt number to text written to a file then."""

    def __init__(self, lines: list[str], edits: dict[int, tuple[Path, str]] | None = None):
        self.lines = list(lines)
        self.edits = edits or {}
        self.count = 0
        self.buffer = io.StringIO()
        self.console = Console(file=self.buffer, width=250, color_system=None)

    def read(self, prompt: str) -> str:
        if self.count in self.edits:
            path, text = self.edits[self.count]
            path.write_text(text)
        self.count += 1
        self.buffer.write(prompt)
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)


def drive(path: Path, lines: list[str], bank: Bank | None = None, **kw: Any) -> Script:
    script = Script(lines, kw.pop("edits", None))
    kw_code = kw.pop("code", EXIT_OK)
    code = run_walkthrough(
        path,
        bank or load_bank(MINI_BANK),
        prompter=Prompter(script.console, script.read),
        handle_signals=False,
        today=TODAY,
        **kw,
    )
    assert code == kw_code, script.buffer.getvalue()
    return script


def answers_of(path: Path) -> dict[str, Any]:
    return {k: a.value for k, a in load_audit(path, load_bank(MINI_BANK)).answers.items()}


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines only in before, lines only in after), by a line diff."""
    import difflib

    old, new = before.splitlines(), after.splitlines()
    gone: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag != "equal":
            gone += old[i1:i2]
            added += new[j1:j2]
    return gone, added


def _filled_init(bank: Bank) -> str:
    text = answers_template(bank, TODAY)
    return text.replace('name: "Name of the AI system"', 'name: "Refund agent"')


# ------------------------------------------------------------------------------ point 6


def test_init_file_answered_in_the_walkthrough_keeps_every_comment_and_blank(
    tmp_path: Path,
) -> None:
    bank = load_bank(MINI_BANK)
    path = tmp_path / "a.yaml"
    before = _filled_init(bank)
    path.write_text(before)
    # GD-01 yes; CT-01 nobody with a note; CT-02 (follow-up) skipped; then quit.
    drive(path, ["1", "", "", "3", "Nobody owns it yet", "", "s", "q"], bank)
    after = path.read_text()
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == comments
    assert after == before.replace("  GD-01:\n", "  GD-01: yes\n").replace(
        "  CT-01:\n", '  CT-01:\n    value: nobody\n    note: "Nobody owns it yet"\n'
    )
    # Unanswered questions stay blank, never `null`.
    assert "null" not in after
    for qid in ("CT-02", "CT-03", "AD-01", "AD-02", "AD-03"):
        assert f"\n  {qid}:\n" in after
    assert answers_of(path)["CT-01"] == "nobody"
    assert len(after.splitlines()) == len(before.splitlines()) + 2


HAND = """\
# Our refund agent's audit. Reviewed by Dana every quarter.
answers:
  AD-01: 7   # months; last review was March

  # Dana: see the incident log
  CT-02: null
  CT-03: [stop, 'override']
  GD-01: no
system:
  name: 'Refund agent'   # the name in the service catalogue
  owner: Payments
bank: {id: mini, version: '0.1'}
audit_date: 2026-09-30
# end of file
"""


def test_hand_written_file_keeps_comments_order_and_quoting_apart_from_the_changed_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.yaml"
    text = HAND.replace(
        "  CT-03: [stop, 'override']\n", "  CT-01: nobody\n  CT-03: [stop, 'override']\n"
    )
    path.write_text(text)
    # Revisit: keep the metadata (4 prompts), change GD-01 to yes, keep the rest, finish.
    drive(path, ["", "", "", "", "1", "", "", "q"], revisit=True)
    assert path.read_text() == text.replace("  GD-01: no\n", "  GD-01: yes\n")


def test_new_answer_goes_in_bank_order_with_the_init_comment(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(HAND)
    # Only the core section: CT-01 is its first unanswered question.
    drive(path, ["2", "", "", "q"], sections=["core"])
    comment = (
        "\n"
        "  # CT-01 (single, metric: controllability): Who can stop the system?\n"
        "  #   named_role: A named role with a tested procedure\n"
        "  #   anyone_senior: Any senior manager\n"
        "  #   nobody: Nobody clearly\n"
    )
    # Before AD-01, the first answer in the file that comes after it in the bank.
    assert path.read_text() == HAND.replace(
        "answers:\n", f"answers:\n{comment}  CT-01: anyone_senior\n"
    )


def test_new_audit_file_reads_like_an_init_file(tmp_path: Path) -> None:
    bank = load_bank(MINI_BANK)
    path = tmp_path / "a.yaml"
    meta = ["Refund agent", "", "Dana", "", ""]
    drive(path, [*meta, "1", "", "", "2", "", "", "s", "q"], bank)
    after = path.read_text()
    template = answers_template(bank, TODAY)
    assert after.startswith(template[: template.index("\n\n") + 1])
    assert "  # ==== Core controls ====\n" in after
    assert "  #   yes | no\n  GD-01: yes\n" in after
    assert answers_of(path) == {"GD-01": "yes", "CT-01": "anyone_senior"}


def test_unknown_fields_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    text = (
        "system:\n  name: Refund agent\n  version: '2.1'   # ours\n"
        "  description: >-\n    Refunds below\n    100 EUR\n"
        "auditor: {name: Dana, email: d@example.org, role: lead}\n"
        "audit_date: 2026-09-30\n"
        "bank: {id: mini, version: '0.1'}\n"
        "answers:\n  GD-01: yes\n  CT-02: ~\n"
    )
    path.write_text(text)
    drive(path, ["1", "", "", "q"])
    comment = "\n  # CT-01 (single, metric: controllability): Who can stop the system?\n"
    assert path.read_text().startswith(text.replace("  CT-02: ~\n", comment))
    assert path.read_text().endswith("  CT-01: named_role\n  CT-02: ~\n")


def test_json_file_stays_json_in_its_own_key_order(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    data = {
        "answers": {"GD-01": "no"},
        "audit_date": "2026-09-30",
        "system": {"version": "2", "name": "Refund agent"},
    }
    path.write_text(json.dumps(data))
    drive(path, ["1", "", "", "q"])
    saved = json.loads(path.read_text())
    assert list(saved) == ["bank", "answers", "audit_date", "system"]
    assert list(saved["system"]) == ["version", "name"]
    assert saved["answers"] == {"GD-01": "no", "CT-01": "named_role"}


def test_outside_edits_merge_into_their_layout(tmp_path: Path) -> None:
    bank = load_bank(MINI_BANK)
    path = tmp_path / "a.yaml"
    path.write_text(_filled_init(bank))
    edited = _filled_init(bank).replace("  AD-01:\n", "  AD-01: 7   # by hand meanwhile\n")
    drive(path, ["1", "", "", "q"], bank, edits={1: (path, edited)})
    after = path.read_text()
    assert "  AD-01: 7   # by hand meanwhile\n" in after
    assert "  GD-01: yes\n" in after
    gone, _ = changed_lines(edited, after)
    assert gone == ["  GD-01:"]


# ----------------------------------------------------------------------------- point 11


def test_save_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "store" / "audit.yaml"
    real.parent.mkdir()
    real.write_text("system: {name: Refund agent}\naudit_date: 2026-09-30\nanswers:\n  GD-01: no\n")
    real.chmod(0o640)
    link = tmp_path / "a.yaml"
    link.symlink_to(os.path.relpath(real, tmp_path))
    drive(link, ["1", "", "", "q"])
    assert link.is_symlink()
    assert answers_of(real) == {"GD-01": "no", "CT-01": "named_role"}
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["audit.yaml"]


def test_two_invalid_edits_keep_two_backups(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("system: {name: Refund agent}\naudit_date: 2026-09-30\nanswers:\n  GD-01: no\n")
    first = "system: {name: X}\nanswers: {GD-01: perhaps}\n"
    second = "system: {name: Y}\nanswers: {GD-01: maybe}\n"
    # The first edit is found at the save after CT-01, the second at the one after CT-03.
    script = drive(
        path,
        ["1", "", "", "1", "", "", "q"],
        edits={0: (path, first), 3: (path, second)},
    )
    assert (tmp_path / "a.yaml.conflict").read_text() == first
    assert (tmp_path / "a.yaml.conflict-2").read_text() == second
    out = script.buffer.getvalue()
    assert "kept in " + str(tmp_path / "a.yaml.conflict") in out
    assert "kept in " + str(tmp_path / "a.yaml.conflict-2") in out
    assert answers_of(path)["CT-01"] == "named_role"


def test_atomic_write_follows_a_link_keeps_the_mode_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    # A file at the old predictable temporary name must be neither used nor touched.
    trap = tmp_path / f".real.txt.{os.getpid()}.tmp"
    trap.symlink_to(tmp_path / "elsewhere")
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "elsewhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [trap.name, "link.txt", "real.txt"]


# -------------------------------------------------------------------------------- start-up


def test_score_does_not_import_ruamel(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("system: {name: Refund agent}\nanswers:\n  GD-01: no\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "ic_audit",
            *("score", str(path)),
            "--bank",
            str(MINI_BANK),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ic_audit.cli" in proc.stderr  # the import log is there
    assert "ruamel" not in proc.stderr
