"""What ic-audit prints and writes holds only what its readers accept, and never destroys input.

- every line printed from file content (warnings, bank titles, tables, `--annotate`) is cleaned
  the same way: no escape sequence, no line of its own;
- JUnit is XML 1.0, every document is valid UTF-8, SARIF URIs are percent-encoded;
- a gate that trips is a JUnit failure, never a skip;
- `report` and `demo` never write over a file they read;
- exit codes mean one thing: a closed pipe, a full disk, a stdout encoding or a FIFO nobody reads
  are not `1` and not "a bug";
- the CI examples install ic-audit in a way that works when copied.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from junitparser import Failure, JUnitXml, Skipped

from ic_audit.bank import Bank
from ic_audit.result import AuditResult
from ic_audit.scoring import score_audit
from tests.conftest import DEMO, MINI_BANK, REAL_BANK, ROOT, make_audit, run_cli, run_main

MINI_AUDIT = ROOT / "tests" / "data" / "mini_audit.yaml"
INJECTED = "9\n::error file=README.md,line=1::INJECTED\n\x1b[2J"
# What XML 1.0 or UTF-8 cannot carry, and what no terminal or report should obey.
HOSTILE = "a\x01b\x1b[2Jc\ufffed\uffffe\U0001fffef\ufdd0g\ud800h\u202ei\x85j"
# A file name whose bytes are not UTF-8 (Python keeps them as surrogates).
BAD_BYTES_NAME = os.fsdecode(b"b c#%\xff\xfe\xc3\xa9.yaml")


def _run_bytes(
    *args: str, cwd: Path | None = None, **kw: Any
) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env.update({"NO_COLOR": "1", "PYTHONPATH": str(ROOT)}, **kw.pop("env", {}))
    return subprocess.run(
        [sys.executable, "-m", "ic_audit", *args],
        cwd=cwd,
        env=env,
        capture_output="stdout" not in kw,
        timeout=120,
        **kw,
    )


def _assert_clean_lines(text: str, commands: int = 0) -> None:
    """Nothing in `text` drives a terminal or starts a GitHub workflow command of its own: the
    only workflow commands are the `commands` ones ic-audit meant to print."""
    assert "\x1b" not in text and "\x85" not in text and "\u202e" not in text
    assert not any(line.startswith("::error file=README.md") for line in text.splitlines())
    assert sum(line.startswith("::") for line in text.splitlines()) == commands, text


def _hostile_result(bank: Bank, name: str = HOSTILE) -> AuditResult:
    """A scored result whose every user-controlled string is hostile (bypassing the loader)."""
    result = score_audit(bank, make_audit(bank, {"GD-01": "no", "CT-01": "nobody"}))
    flags = [f.model_copy(update={"reason": HOSTILE + "%,:"}) for f in result.red_flags]
    findings = [f.model_copy(update={"title": HOSTILE}) for f in result.findings]
    return result.model_copy(
        update={
            "answers_file": name,
            "red_flags": flags,
            "findings": findings,
            "system": {"name": HOSTILE, "owner": HOSTILE},
        }
    )


# --- point 12: one cleaning for every printed line ------------------------------------------


def test_a_bank_version_in_an_answers_file_cannot_inject_a_workflow_command(tmp_path: Path) -> None:
    audit = tmp_path / "a.yaml"
    audit.write_text(
        yaml.safe_dump(
            {
                "system": {"name": "X"},
                "bank": {"id": "mini", "version": INJECTED},
                "answers": {"GD-01": "no"},
            }
        )
    )
    for command in ("score", "validate"):
        result = run_main(command, str(audit), "--bank", str(MINI_BANK))
        # The loader may refuse control characters (exit 2) or warn (exit 0): either way the
        # text shows as one escaped line.
        assert result.returncode in (0, 2), result.stderr
        _assert_clean_lines(result.stderr)
        _assert_clean_lines(result.stdout)
        if result.returncode == 0:
            assert "INJECTED" in result.stderr  # a warning shows it, escaped, not dropped
        else:
            assert "bank.version" in result.stderr  # refused, naming the field


def test_a_file_name_cannot_inject_lines_into_warnings_tables_or_annotations(
    tmp_path: Path,
) -> None:
    # The name itself carries the injection: no loader check on file content can stop it.
    name = "a\n::error file=README.md,line=1::INJECTED\n\x1b[2J.yaml"
    text = MINI_AUDIT.read_text().replace("answers:", 'bank: {id: mini, version: "0.0"}\nanswers:')
    (tmp_path / name).write_text(text)
    for fmt in ("table", "json"):
        result = run_main(
            "score", name, "--bank", str(MINI_BANK), "--annotate", "-f", fmt, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert "answered against bank version" in result.stderr  # the warning is there
        _assert_clean_lines(result.stderr, commands=1)  # the one red flag's annotation
        if fmt == "table":
            _assert_clean_lines(result.stdout)
    valid = run_main("validate", name, "--bank", str(MINI_BANK), cwd=tmp_path)
    assert valid.returncode == 0
    _assert_clean_lines(valid.stdout + valid.stderr)


def test_bank_title_and_version_are_cleaned_in_validate_and_questions(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(MINI_BANK, bank)
    meta = yaml.safe_load((bank / "bank.yaml").read_text())
    meta["title"] = "Title" + INJECTED
    meta["version"] = INJECTED
    (bank / "bank.yaml").write_text(yaml.safe_dump(meta))
    for args in (("validate", str(bank)), ("questions", "--bank", str(bank))):
        result = run_main(*args)
        assert result.returncode in (0, 2), result.stderr  # refused or shown: never raw
        _assert_clean_lines(result.stdout)
        _assert_clean_lines(result.stderr)


def test_questions_table_and_summary_clean_bank_text_in_process(
    mini_bank: Bank, capsys: pytest.CaptureFixture[str]
) -> None:
    import copy

    from ic_audit.render.table import render_questions_table, render_score_table
    from ic_audit.terminal import print_summary

    bank = copy.copy(mini_bank)
    bank.title, bank.version = "T" + INJECTED, INJECTED
    table = render_questions_table(bank)
    _assert_clean_lines(table)
    assert table.splitlines()[0].startswith("T9\\n::error")
    result = _hostile_result(mini_bank, name="f" + INJECTED)
    _assert_clean_lines(render_score_table([result]))
    print_summary(result, Path(result.answers_file))
    out = capsys.readouterr().out
    _assert_clean_lines(out)
    assert "\ufffe" not in out and "\ud800" not in out


def test_annotations_are_one_command_per_flag_with_github_escaping(mini_bank: Bank) -> None:
    from ic_audit.github import workflow_annotations

    result = _hostile_result(mini_bank, name="dir,x:y%z\n::error ::INJECTED.yaml")
    text = workflow_annotations([result])
    lines = text.splitlines()
    assert len(lines) == len(result.red_flags) >= 1
    for line in lines:
        assert line.startswith("::error file=")
        props, _, data = line[len("::error ") :].partition("::")
        file_prop = props.split(",")[0]
        # `,` and `:` in a property, `%` anywhere, are escaped; no control character is left.
        assert file_prop == "file=dir%2Cx%3Ay%25z\\n%3A%3Aerror %3A%3AINJECTED.yaml"
        assert data.endswith("%25,:")
        assert all(c.isprintable() for c in line)


# --- points 4 and 12: formats hold only what their consumers accept ---------------------------


def test_junit_is_xml_1_0_for_hostile_names_and_values(mini_bank: Bank) -> None:
    from ic_audit.render.junit import render_junit

    text = render_junit([_hostile_result(mini_bank)])
    data = text.encode("utf-8")  # strict: no lone surrogate
    root = ET.fromstring(data)  # expat refuses U+FFFE, U+FFFF and C0 controls
    suite = root.find("testsuite")
    assert suite is not None
    shown = suite.get("name", "")
    assert "\\ufffe" in shown and "\\ud800" in shown and "\\x01" in shown
    JUnitXml.fromstring(text)


def test_json_markdown_html_junit_sarif_survive_a_file_name_that_is_not_utf8(
    tmp_path: Path, sarif_schema: dict[str, Any]
) -> None:
    if sys.platform == "darwin":  # APFS refuses names that are not UTF-8
        pytest.skip("the file system needs UTF-8 names")
    shutil.copy(DEMO, tmp_path / BAD_BYTES_NAME)
    docs = {}
    for fmt in ("json", "junit", "sarif"):
        result = _run_bytes("score", BAD_BYTES_NAME, "-f", fmt, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        docs[fmt] = result.stdout.decode("utf-8")  # strict
    for fmt in ("md", "html", "json"):
        result = _run_bytes("report", BAD_BYTES_NAME, "-f", fmt, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode("utf-8")
        assert "\\xff" in text and "\\xfe" in text, fmt  # shown escaped
    assert json.loads(docs["json"])["answers_file"] == "b c#%\\xff\\xfeé.yaml"
    ET.fromstring(docs["junit"].encode())
    log = json.loads(docs["sarif"])
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    # RFC 3986: relative stays relative; space, #, %, bytes and non-ASCII percent-encoded.
    assert uris == {"b%20c%23%25%FF%FE%C3%A9.yaml"}


def test_sarif_uris_are_percent_encoded_and_documents_valid_in_process(
    mini_bank: Bank, sarif_schema: dict[str, Any]
) -> None:
    from ic_audit.render import render_json
    from ic_audit.render.sarif import render_sarif

    results = [
        _hostile_result(mini_bank, name="audits/q 1#x%y/é?.yaml"),
        _hostile_result(mini_bank, name="/abs/dir name/a.yaml"),
    ]
    log = json.loads(render_sarif(results).encode("utf-8"))
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    ]
    assert set(uris) == {"audits/q%201%23x%25y/%C3%A9%3F.yaml", "file:///abs/dir%20name/a.yaml"}
    data = json.loads(render_json(results).encode("utf-8"))
    assert "\\ud800" in data[0]["system"]["name"]


# --- point 10: a tripped gate is a failure, never a skip --------------------------------------


@pytest.mark.parametrize("fail_on", [None, "low", "critical"])
def test_junit_shows_every_tripped_gate_as_a_failure(tmp_path: Path, fail_on: str | None) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("system: {name: Nothing answered}\n")
    args = ["score", str(empty), "-f", "junit", "--bank", str(MINI_BANK), "--fail-on-incomplete"]
    if fail_on:
        args += ["--fail-on", fail_on]
    result = run_main(*args)
    assert result.returncode == 1  # the incompleteness gate trips
    (suite,) = list(JUnitXml.fromstring(result.stdout))
    assert suite.skipped == 0
    assert not any(isinstance(r, Skipped) for case in suite for r in case.result)
    complete = next(c for c in suite if c.name == "all required questions answered")
    assert any(isinstance(r, Failure) for r in complete.result)


# --- point 11: report and demo never write over an input --------------------------------------


def _assert_refused(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_report_refuses_to_write_over_its_answers_file(tmp_path: Path) -> None:
    audit = tmp_path / "a.yaml"
    shutil.copy(DEMO, audit)
    before = audit.read_bytes()
    _assert_refused(run_main("report", "-o", "a.yaml", "a.yaml", cwd=tmp_path))
    _assert_refused(run_main("report", "-o", str(audit), "./a.yaml", cwd=tmp_path))
    (tmp_path / "link.md").symlink_to("a.yaml")
    _assert_refused(run_main("report", "-o", "link.md", "a.yaml", cwd=tmp_path))
    os.link(audit, tmp_path / "hard.md")
    _assert_refused(run_main("report", "-o", "hard.md", "a.yaml", cwd=tmp_path))
    assert audit.read_bytes() == before
    assert (tmp_path / "link.md").is_symlink()


def test_report_refuses_to_write_over_its_template_or_a_bank_file(tmp_path: Path) -> None:
    template = tmp_path / "t.md"
    template.write_text("# {{ system.name }}\n")
    _assert_refused(
        run_main("report", str(MINI_AUDIT), "--bank", str(MINI_BANK), "--template", str(template),
                "-o", str(template))
    )  # fmt: skip
    assert template.read_text() == "# {{ system.name }}\n"
    bank = tmp_path / "bank"
    shutil.copytree(MINI_BANK, bank)
    before = (bank / "bank.yaml").read_bytes()
    _assert_refused(
        run_main("report", str(MINI_AUDIT), "--bank", str(bank), "-o", str(bank / "bank.yaml"))
    )
    assert (bank / "bank.yaml").read_bytes() == before
    ok = run_main("report", str(MINI_AUDIT), "--bank", str(bank), "-o", str(tmp_path / "r.md"))
    assert ok.returncode == 0, ok.stderr


def test_demo_refuses_a_report_name_that_links_to_an_input_before_writing_any(
    tmp_path: Path,
) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(REAL_BANK, bank)
    before = (bank / "bank.yaml").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / "demo-report.json").symlink_to(bank / "bank.yaml")
    _assert_refused(run_main("demo", "--bank", str(bank), "-o", str(out)))
    assert (bank / "bank.yaml").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["demo-report.json"]  # nothing written


def test_demo_never_writes_through_a_link_to_a_file_it_did_not_read(tmp_path: Path) -> None:
    answers = tmp_path / "audit.yaml"
    answers.write_text("system: {name: Mine}\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "demo-report.md").symlink_to(answers)
    result = run_main("demo", "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert "symbolic link" in result.stderr
    assert answers.read_text(encoding="utf-8") == "system: {name: Mine}\n"
    assert sorted(p.name for p in out.iterdir()) == ["demo-report.md"]


# --- point 14: exit codes mean one thing ------------------------------------------------------


def test_a_closed_pipe_is_not_the_fail_on_exit_code() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written: always EPIPE
    try:
        result = _run_bytes("score", str(DEMO), "-f", "json", "--fail-on", "critical",
                            stdout=write_end, stderr=subprocess.PIPE)  # fmt: skip
    finally:
        os.close(write_end)
    assert result.returncode == 141  # as a shell reports a process stopped by SIGPIPE
    assert result.stderr == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("score", str(DEMO), "-f", "json"), ("demo",)])
def test_a_full_disk_on_stdout_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    with open("/dev/full", "wb") as full:
        result = _run_bytes(*args, stdout=full, stderr=subprocess.PIPE)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.count("\n") == 1 and "bug" not in err and "http" not in err


@pytest.mark.parametrize("args", [("score", str(DEMO)), ("demo",)])
def test_a_stdout_encoding_that_cannot_show_the_output_is_exit_2(args: tuple[str, ...]) -> None:
    result = _run_bytes(*args, env={"PYTHONIOENCODING": "ascii"})
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.count("\n") == 1 and "ascii" in err and "bug" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_output_fifo_without_a_reader_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "report.md"
    os.mkfifo(fifo)
    result = run_cli("report", str(DEMO), "-o", str(fifo))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and str(fifo) in result.stderr


def _install_targets(commands: list[str], env: dict[str, str]) -> list[str]:
    targets = []
    for command in commands:
        for line in command.splitlines():
            if "pip install" not in line:
                continue
            target = line.split("pip install", 1)[1].strip().strip("\"'")
            for name, value in env.items():
                target = target.replace("${" + name + "}", value).replace("$" + name, value)
            targets.append(target.strip("\"'"))
    return targets


# --- point 9: CI examples that work when copied -----------------------------------------------

_GIT_URL = re.compile(r"^git\+https://[^\s@]+/[^\s@/]+@[\w.\-/]+$")


def _works(target: str) -> bool:
    """A pinned git URL, or this repository / a wheel built from it: never a bare PyPI name."""
    return bool(_GIT_URL.match(target)) or target in (".", "./") or target.endswith(".whl")


def test_ci_examples_install_ic_audit_in_a_form_that_works() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["audit"]["steps"]
    targets = _install_targets([s["run"] for s in steps if "run" in s], workflow.get("env", {}))
    assert targets and all(_works(t) for t in targets), targets

    job = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())["ic-audit"]
    targets = _install_targets(job["script"], job.get("variables", {}))
    assert targets and all(_works(t) for t in targets), targets
    if any(t.startswith("git+") for t in targets):
        # pip needs git for a git URL: the -slim images have none unless the job installs it.
        image = job["image"]
        installs_git = any("install" in c and " git" in c for c in job.get("before_script", []))
        installs_git |= any("apt-get install" in c and " git" in c for c in job["script"])
        assert not image.endswith("-slim") or installs_git, image

    readme = (ROOT / "README.md").read_text()
    assert "ic-audit==" not in readme
    targets = _install_targets(
        [ln for ln in readme.splitlines() if "pip install" in ln and "git+" in ln], {}
    )
    assert targets and all(_works(t.split("#")[0].strip().strip("\"'")) for t in targets)


def test_a_reader_leaving_early_is_141_even_for_output_larger_than_a_pipe() -> None:
    # One large write to a pipe can be cut short without an error; the output must never be
    # dropped silently with exit 0.
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ic_audit", "questions", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.read(10) == b'{\n  "bank"'
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err
    assert err == b""


def test_run_with_stdin_closed_is_usage_not_a_bug(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m ic_audit run audit.yaml <&-'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "needs a terminal" in result.stderr and "internal error" not in result.stderr
