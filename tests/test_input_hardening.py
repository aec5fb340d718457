"""Reading hostile or surprising input (issue 9): nesting whatever PyYAML is installed, text no
output can carry, numbers YAML 1.1 misreads, bank numbers, glob loops, JSON shape, FIFOs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from ic_audit.answers import SystemInfo, load_audit
from ic_audit.bank import load_bank
from ic_audit.errors import UserError
from tests.conftest import MINI_BANK, ROOT, run_main

BANK = ("--bank", str(MINI_BANK))
HEAD = "system: {name: X}\naudit_date: 2026-10-01\n"


def _score(path: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return run_main("score", *BANK, "--format", "json", str(path), *more)


def _one_line_exit_2(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr.splitlines()


# -- point 1: our nesting limit, whatever PyYAML release is installed


def test_deep_flow_nesting_gives_our_message(tmp_path: Path) -> None:
    # A line of "[" is what PyYAML 6.0.4's libyaml stops at with its own wording first.
    path = tmp_path / "deep.yaml"
    path.write_text(HEAD + "answers: {CT-02: " + "[" * 3000 + "\n")
    (line,) = _one_line_exit_2(_score(path))
    assert line == f"{path}:3: is nested more than 50 levels deep"


@pytest.mark.parametrize("run", ["{" * 3000, "[{" * 1500, "[ " * 3000])
def test_a_run_of_flow_openers_gives_our_message(tmp_path: Path, run: str) -> None:
    # Whichever opener starts the run, the file is read by the parser that lets our checks
    # stop it (here, at a mapping used as a key, or at our depth limit).
    path = tmp_path / "deep.yaml"
    path.write_text(HEAD + "answers: {CT-02: " + run + "\n")
    (line,) = _one_line_exit_2(_score(path))
    assert line in (
        f"{path}:3: mapping keys must be plain text",
        f"{path}:3: is nested more than 50 levels deep",
    )


def test_brackets_inside_text_still_load(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(
        HEAD + "answers:\n"
        "  CT-02: see [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ here\n"
        '  GD-01: {value: yes, note: "{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{[{["}\n'
    )
    result = run_main("report", *BANK, "--format", "json", str(path))
    assert result.returncode == 0, result.stderr
    assert "{[" * 26 in result.stdout


def test_ci_installs_the_newest_releases_pyproject_allows() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    install = [ln for ln in script.splitlines() if ln.startswith("pip install")]
    assert install == ["pip install -q --upgrade --upgrade-strategy eager '.[test]'"]


# -- point 4 (reading): text that cannot be encoded or would drive a terminal


def test_a_lone_surrogate_in_json_is_refused_naming_file_line_and_question(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.json"
    path.write_text(
        '{"system": {"name": "X", "owner": "\\ud800"},\n "answers": {\n  "CT-02": "a\\udc00b"}}\n'
    )
    lines = _one_line_exit_2(_score(path))
    assert len(lines) == 2, lines
    assert any(ln.startswith(f"{path}:3: CT-02: ") and "U+DC00" in ln for ln in lines), lines
    assert any(ln.startswith(f"{path}:1: system.owner: ") and "U+D800" in ln for ln in lines)
    report = run_main("report", *BANK, "--format", "json", str(path))
    assert report.returncode == 2, report.stderr


@pytest.mark.parametrize(
    ("written", "code"),
    [("\\e[2J", "U+001B"), ("\\uFFFE", "U+FFFE"), ("\\uFDD0", "U+FDD0"), ("\\x85", "U+0085"),
     ("\\U0001FFFF", "U+1FFFF"), ("\\x07", "U+0007")],
)  # fmt: skip
def test_control_characters_and_noncharacters_are_refused(
    tmp_path: Path, written: str, code: str
) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(HEAD + f'answers:\n  CT-01: {{value: nobody, note: "x{written}y"}}\n')
    (line,) = _one_line_exit_2(_score(path))
    assert line.startswith(f"{path}:4: CT-01: note: holds {code}")
    assert "\x1b" not in line and "\x85" not in line


def test_every_refused_character_written_as_itself_sends_the_file_to_the_full_check() -> None:
    # The loader skips the walk over a file's strings only when its bytes cannot hold a
    # refused character: every one of them, written as itself, must be seen.
    from ic_audit.loading import _REFUSED, may_hold_refused

    refused = [chr(c) for c in range(0x110000) if _REFUSED.match(chr(c))]
    assert len(refused) > 2000  # the C0/C1 controls, surrogates and noncharacters
    for ch in refused:
        raw = f"note: a{ch}b\n".encode("utf-8", "surrogatepass")
        assert may_hold_refused(raw), f"U+{ord(ch):04X}"
    assert may_hold_refused(b'note: "a\\x07b"\n')  # an escape can make one
    assert not may_hold_refused("note: caf\u00e9 \u2014 50 %\tok\r\n".encode())
    assert not may_hold_refused((ROOT / "examples" / "demo-audit.yaml").read_bytes())


def _refused_by_rule(code: int) -> bool:
    # The rule `refused_character` states, written out by code point.
    return (
        (code < 0x20 and code not in (0x09, 0x0A, 0x0D))
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or 0xFDD0 <= code <= 0xFDEF
        or code & 0xFFFE == 0xFFFE
    )


def test_refused_character_finds_every_refused_character_in_ascii_and_other_text() -> None:
    # Text is searched one way when it is ASCII and another when not: both must agree with the
    # rule, wherever the character stands and whatever surrounds it.
    from ic_audit.loading import refused_character

    for code in range(0x110000):
        ch = chr(code)
        expected = f"U+{code:04X}" if _refused_by_rule(code) else None
        for text in (ch, f"plain text{ch}", f"line one\n\tline two {ch} end", f"caf\u00e9 {ch}"):
            found = refused_character(text)
            assert (found and found.split(" ")[0]) == expected, (hex(code), text, found)
    assert refused_character("tab\tnewline\ncr\r and printable ASCII ~!") is None
    assert refused_character("caf\u00e9 \u2014 \U0001f600") is None
    assert refused_character("a\x7fb\x01") == "U+007F (a control character)"


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from ic_audit.loading import read_bytes

    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 1000)
    assert read_bytes(path, limit=1000) == b"x" * 1000
    with pytest.raises(UserError) as caught:
        read_bytes(path, limit=999)
    assert (
        str(caught.value.problems[0])
        == f"{path}: is 1,000 bytes; the limit is 999 (is this the right file?)"
    )


def test_a_file_that_grows_while_it_is_read_is_read_whole_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The read is sized by the file's size when it was opened: what was added since is read
    # too, up to the limit.
    from ic_audit.loading import read_bytes

    path = tmp_path / "growing.yaml"
    path.write_bytes(b"x" * 500)
    real_fstat = os.fstat

    def as_when_opened(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        return os.stat_result((*st[:6], 100, *st[7:10]))  # st_size: 100

    monkeypatch.setattr(os, "fstat", as_when_opened)
    assert read_bytes(path) == b"x" * 500
    with pytest.raises(UserError) as caught:
        read_bytes(path, limit=300)
    assert str(caught.value.problems[0]) == f"{path}: is larger than the limit of 300 bytes"


@pytest.mark.parametrize("char", ["\x85", "\ufdd0", "\uffff", "\U0010fffe", "\x7f"])
def test_a_refused_character_written_as_itself_in_json_is_refused(
    tmp_path: Path, char: str
) -> None:
    path = tmp_path / "audit.json"
    body = '{"system": {"name": "X"},\n "answers": {\n  "CT-01": {"value": "nobody", "note": "x'
    path.write_text(body + char + 'y"}}}\n', encoding="utf-8")
    (line,) = _one_line_exit_2(_score(path))
    assert line.startswith(f"{path}:3: CT-01: note: holds U+{ord(char):04X}"), line


def test_a_bank_version_that_would_inject_workflow_commands_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(
        HEAD + 'bank: {id: mini, version: "9\\n::error file=README.md,line=1::INJECTED\\n\\e[2J"}\n'
    )
    result = _score(path)
    _one_line_exit_2(result)
    assert "\x1b" not in result.stderr
    assert not any(ln.startswith("::") for ln in result.stderr.splitlines())


def test_a_newline_in_a_bank_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(HEAD + 'bank: {id: mini, version: "0.1\\n"}\n')
    (line,) = _one_line_exit_2(_score(path))
    assert "bank.version" in line and "one line" in line


def test_models_refuse_what_the_loader_refuses() -> None:
    # The walkthrough builds these from typed text: it can never save what loading refuses.
    with pytest.raises(ValidationError):
        SystemInfo(name="Agent\x1b[31m")
    bank = load_bank(MINI_BANK)
    with pytest.raises(ValueError, match="U\\+D800"):
        bank.by_id["CT-02"].coerce("a\ud800")


def test_a_control_character_in_a_bank_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "bank"
    shutil.copytree(MINI_BANK, target)
    meta = target / "bank.yaml"
    meta.write_text(meta.read_text().replace("title: Mini bank for tests", 'title: "Mini\\e[2J"'))
    result = run_main("validate", str(target))
    (line,) = _one_line_exit_2(result)
    assert line.startswith(f"{target / 'bank.yaml'}:3: title: holds U+001B")


# -- point 15: numbers as people write them; bank numbers finite and ordered; whole-string ids


@pytest.mark.parametrize(
    ("written", "meant"),
    [("1:30", "90"), ("0x10", "16"), ("0b11", "3"), ("017", "15"), ("1_0", "10"),
     ('"0o17"', "15"), ('"1_000"', "1000"), ('"1:30"', "90")],
)  # fmt: skip
def test_numbers_yaml_1_1_misreads_are_refused_with_a_hint(
    tmp_path: Path, written: str, meant: str
) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(HEAD + f"answers:\n  AD-01: {written}\n")
    (line,) = _one_line_exit_2(_score(path))
    assert line.startswith(f"{path}:4: AD-01: ")
    assert f"write {meant} as a plain decimal number" in line


def test_plain_numbers_still_read(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(HEAD + 'answers:\n  AD-01: "12"\n')
    result = _score(path)
    assert result.returncode == 0, result.stderr
    (row,) = [a for a in json.loads(result.stdout)["answers"] if a["question_id"] == "AD-01"]
    assert row["value"] == 12 and row["status"] == "answered"


@pytest.mark.parametrize("written", ["!!timestamp soon", "!!timestamp 2026-13-01", "2026-13-01"])
def test_a_date_that_cannot_be_read_is_refused_by_the_question(
    tmp_path: Path, written: str
) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(HEAD + f"answers:\n  AD-03: {written}\n")
    (line,) = _one_line_exit_2(_score(path))
    assert line.startswith(f"{path}:4: AD-03: "), line


@pytest.mark.parametrize("written", ["!!bool maybe", "!!bool 1"])
def test_a_tagged_boolean_that_is_not_one_is_refused_by_the_question(
    tmp_path: Path, written: str
) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(HEAD + f"answers:\n  GD-01: {written}\n")
    (line,) = _one_line_exit_2(_score(path))
    assert line.startswith(f"{path}:4: GD-01: "), line


def _bank_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    target = tmp_path / "bank"
    shutil.copytree(MINI_BANK, target)
    path = target / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return target


@pytest.mark.parametrize(
    "bands",
    [
        "{moderate: .nan, high: 50, critical: 75}",
        "{moderate: -5, high: 50, critical: 75}",
        "{moderate: 25, high: 50, critical: 1e309}",
        "{moderate: 60, high: 50, critical: 75}",
    ],
)
def test_rating_bands_must_be_finite_and_rising(tmp_path: Path, bands: str) -> None:
    target = _bank_with(tmp_path, "bank.yaml", "title: Mini", f"rating_bands: {bands}\ntitle: Mini")
    with pytest.raises(UserError) as caught:
        load_bank(target)
    assert all("rating_bands" in str(p) for p in caught.value.problems)
    assert _one_line_exit_2(run_main("validate", str(target)))


@pytest.mark.parametrize("bound", ["{min: .nan, max: 120}", "{min: 0, max: .inf}"])
def test_range_bounds_must_be_finite(tmp_path: Path, bound: str) -> None:
    target = _bank_with(tmp_path, "20-decay.yaml", "{min: 0, max: 120}", bound)
    lines = _one_line_exit_2(run_main("validate", str(target)))
    assert any("AD-01" in ln and "range" in ln and "finite" in ln for ln in lines), lines


def test_an_id_with_a_trailing_newline_is_not_an_id(tmp_path: Path) -> None:
    target = _bank_with(tmp_path, "10-core.yaml", "- id: CT-02", '- id: "CT-02\\n"')
    lines = _one_line_exit_2(run_main("validate", str(target)))
    assert any("id must start with a letter" in ln for ln in lines), lines


# -- point 13 and 8: globs never loop nor repeat; JSON is a list for any pattern


def _audits(tmp_path: Path) -> Path:
    audits = tmp_path / "audits"
    (audits / "team-a").mkdir(parents=True)
    (audits / "team-a" / "a.yaml").write_text("system: {name: a}\n")
    (audits / "b.yaml").write_text("system: {name: b}\n")
    return audits


def test_a_glob_follows_no_link_into_a_loop_and_yields_each_file_once(tmp_path: Path) -> None:
    audits = _audits(tmp_path)
    os.symlink(".", audits / "self")
    os.symlink(".", audits / "team-a" / "again")
    os.link(audits / "b.yaml", audits / "team-a" / "hard.yaml")
    result = run_main("score", *BANK, "-f", "json", "audits/**/*.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [d["system"]["name"] for d in json.loads(result.stdout)] == ["b", "a"]


def test_a_pattern_gives_a_list_even_for_one_file(tmp_path: Path) -> None:
    _audits(tmp_path)
    result = run_main("score", *BANK, "-f", "json", "audits/team-a/*.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [d["system"]["name"] for d in json.loads(result.stdout)] == ["a"]
    literal = run_main("score", *BANK, "-f", "json", "audits/team-a/a.yaml", cwd=tmp_path)
    assert json.loads(literal.stdout)["system"]["name"] == "a"


def test_a_literal_path_named_twice_is_scored_twice(tmp_path: Path) -> None:
    _audits(tmp_path)
    result = run_main("score", *BANK, "-f", "json", "audits/b.yaml", "audits/b.yaml", cwd=tmp_path)
    assert [d["system"]["name"] for d in json.loads(result.stdout)] == ["b", "b"]


# -- point 14 (reading): nothing that could block is opened


def _run_bounded(*args: str) -> subprocess.CompletedProcess[str]:
    # A read that blocks would hang: the timeout turns that into a failure, not a stuck suite.
    return subprocess.run(
        [sys.executable, "-m", "ic_audit", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_answers_file_is_refused_up_front(tmp_path: Path) -> None:
    fifo = tmp_path / "audit.yaml"
    os.mkfifo(fifo)
    (line,) = _one_line_exit_2(_run_bounded("score", *BANK, str(fifo)))
    assert line.startswith(f"{fifo}: is a named pipe")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_a_bank_directory_does_not_block(tmp_path: Path) -> None:
    target = tmp_path / "bank"
    shutil.copytree(MINI_BANK, target)
    os.mkfifo(target / "30-extra.yaml")
    lines = _one_line_exit_2(_run_bounded("validate", str(target)))
    assert any("30-extra.yaml: is a named pipe" in ln for ln in lines), lines


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_template_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "t.md"
    os.mkfifo(fifo)
    audit = tmp_path / "audit.yaml"
    audit.write_text("system: {name: X}\n")
    result = _run_bounded("report", *BANK, "--template", str(fifo), str(audit))
    lines = _one_line_exit_2(result)
    assert any("is a named pipe" in ln for ln in lines), lines


def test_the_walkthrough_never_saves_text_the_loader_refuses(tmp_path: Path) -> None:
    from tests.test_walkthrough import drive

    path = tmp_path / "audit.yaml"
    code, script = drive(path, ["Agent\x1b[2J", "Agent\ud800", "Agent", "q"])
    assert code == 0, script.output
    assert script.output.count("U+001B") == 1 and script.output.count("U+D800") == 1
    assert script.prompts[0] == script.prompts[1] == script.prompts[2]
    assert load_audit(path, load_bank(MINI_BANK)).meta.system.name == "Agent"
