"""CI integration: JUnit, SARIF, GitHub job summary and annotations, and the shipped examples."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from junitparser import Failure, JUnitXml, Skipped

from tests.conftest import DEMO, MINI_BANK, ROOT, run_main

MINI_AUDIT = ROOT / "tests" / "data" / "mini_audit.yaml"


def _score(*args: str) -> subprocess.CompletedProcess[str]:
    return run_main("score", *args)


def test_sarif_validates_and_locates_each_finding_at_its_answer(
    sarif_schema: dict[str, Any],
) -> None:
    result = _score(str(DEMO), str(MINI_AUDIT), "--format", "sarif")
    # The mini audit needs the mini bank: score them separately, then check one log each.
    assert result.returncode == 2
    demo = _score(str(DEMO), "--format", "sarif")
    assert demo.returncode == 0, demo.stderr
    log = json.loads(demo.stdout)
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    (run,) = log["runs"]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    lines = DEMO.read_text().splitlines()
    findings = [r for r in run["results"] if r["ruleId"] != "overall-rating"]
    assert findings
    for res in findings:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == DEMO.as_uri()
        line = lines[loc["region"]["startLine"] - 1]
        assert line.strip().startswith(res["ruleId"] + ":"), (res["ruleId"], line)
    levels = {r["ruleId"]: r["level"] for r in findings}
    assert levels["CT-03"] == "error"  # a red flag


def test_sarif_batch_is_one_log_with_relative_uris(
    tmp_path: Path, sarif_schema: dict[str, Any]
) -> None:
    (tmp_path / "audits").mkdir()
    for name in ("a.yaml", "b.yaml"):
        shutil.copy(DEMO, tmp_path / "audits" / name)
    result = run_main("score", "audits/*.yaml", "--format", "sarif", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"audits/a.yaml", "audits/b.yaml"}


def test_junit_parses_with_one_case_per_audit_and_per_finding() -> None:
    result = _score(str(DEMO), "--format", "junit")
    assert result.returncode == 0
    xml = JUnitXml.fromstring(result.stdout)
    suites = list(xml)
    assert len(suites) == 1
    cases = list(suites[0])
    data = json.loads(_score(str(DEMO), "--format", "json").stdout)
    assert len(cases) == 2 + len(data["findings"])  # rating + completeness + findings
    failed = {c.name for c in cases if any(isinstance(r, Failure) for r in c.result)}
    expected = {
        f"{f['question_id']}: {f['title']}"
        for f in data["findings"]
        if f["severity"] in ("high", "critical")
    }
    overall = data["overall"]
    assert overall["rating"] == "high"
    assert expected | {"overall rating below high"} == failed
    assert suites[0].failures == len(failed)


def test_junit_threshold_follows_fail_on_and_incomplete_is_skipped_or_failed(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("system: {name: Nothing answered}\n")
    loose = JUnitXml.fromstring(
        _score(str(empty), "--format", "junit", "--bank", str(MINI_BANK)).stdout
    )
    (suite,) = list(loose)
    complete = next(c for c in suite if c.name == "all required questions answered")
    assert any(isinstance(r, Skipped) for r in complete.result)
    strict = _score(
        str(empty), "--format", "junit", "--bank", str(MINI_BANK), "--fail-on-incomplete"
    )
    assert strict.returncode == 1
    (suite,) = list(JUnitXml.fromstring(strict.stdout))
    complete = next(c for c in suite if c.name == "all required questions answered")
    assert any(isinstance(r, Failure) for r in complete.result)


def test_junit_escapes_hostile_text() -> None:
    result = _score(str(MINI_AUDIT), "--format", "junit", "--bank", str(MINI_BANK))
    xml = JUnitXml.fromstring(result.stdout)  # parses: nothing broke the XML
    (suite,) = list(xml)
    assert suite.name == str(MINI_AUDIT)
    props = {p.name: p.value for p in suite.properties()}
    assert props["system"].startswith("Refund <agent> & co")


def test_fail_on_incomplete_exit_code(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("system: {name: X}\n")
    assert _score(str(DEMO), "--fail-on-incomplete").returncode == 0
    assert _score(str(empty), "--bank", str(MINI_BANK), "--fail-on-incomplete").returncode == 1


def test_step_summary_is_appended_never_overwritten(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    for fmt in ("json", "table"):
        result = run_main(
            "score", str(MINI_AUDIT), "--bank", str(MINI_BANK), "--format", fmt, env=env
        )
        assert result.returncode == 0
        if fmt == "json":
            json.loads(result.stdout)  # stdout still carries only the document
    text = summary.read_text()
    assert text.startswith("# earlier step\n")
    assert text.count("## ic-audit") == 2
    assert "<agent>" not in text and "&lt;agent&gt;" in text
    # A link needs an unescaped `[`; the user's `[click](http://...)` keeps its `\[`.
    assert "](http" not in text.replace("\\[click](http\\://", "")


def test_annotate_prints_workflow_commands_on_stderr_only() -> None:
    result = _score(str(MINI_AUDIT), "--bank", str(MINI_BANK), "--format", "json", "--annotate")
    json.loads(result.stdout)
    assert result.stderr == (
        f"::error file={MINI_AUDIT},line=8,title=Red flag CT-01::"
        "Nobody has clear authority to shut it down.\n"
    )


def _ic_audit_steps(commands: list[str]) -> list[str]:
    return [c for c in commands if c.strip().startswith("ic-audit ")]


def _run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The example's own command line, with `ic-audit` bound to this checkout's interpreter.
    prelude = f'ic-audit() {{ "{sys.executable}" -m ic_audit "$@"; }}\n'
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        ["bash", "-c", prelude + command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def audits_dir(tmp_path: Path) -> Path:
    """A repository with a nested, all-safest audit: every example command should pass."""
    questions = json.loads(run_main("questions", "--format", "json").stdout)["questions"]
    answers = {q["id"]: q["safest"] for q in questions if "safest" in q}
    (tmp_path / "audits" / "agent").mkdir(parents=True)
    (tmp_path / "audits" / "agent" / "2026-Q4.yaml").write_text(
        yaml.safe_dump(
            {"system": {"name": "Agent"}, "audit_date": "2026-10-01", "answers": answers}
        )
    )
    return tmp_path


def test_github_actions_example_runs_its_commands(audits_dir: Path) -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["audit"]["steps"]
    commands = _ic_audit_steps([s["run"] for s in steps if "run" in s])
    assert len(commands) == 2
    for command in commands:
        result = _run_shell(command, audits_dir)
        assert result.returncode == 0, (command, result.stderr)
    sarif = json.loads((audits_dir / "ic-audit.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "ic-audit.sarif"


def test_gitlab_example_runs_its_commands_and_writes_its_junit_report(audits_dir: Path) -> None:
    job = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())["ic-audit"]
    commands = _ic_audit_steps(job["script"])
    assert len(commands) == 2
    for command in commands:
        result = _run_shell(command, audits_dir)
        assert result.returncode == 0, (command, result.stderr)
    report = audits_dir / job["artifacts"]["reports"]["junit"]
    (suite,) = list(JUnitXml.fromfile(str(report)))
    assert suite.failures == 0


def test_pre_commit_hook_runs_validate(audits_dir: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "ic-audit-validate" and hook["language"] == "python"
    good = "audits/agent/2026-Q4.yaml"
    bad = audits_dir / "audits" / "bad.yaml"
    bad.write_text("system: {name: X}\nanswers: {GD-01: perhaps}\n")
    # pre-commit appends the staged file names to the entry.
    assert _run_shell(f"{hook['entry']} {good}", audits_dir).returncode == 0
    failed = _run_shell(f"{hook['entry']} {good} audits/bad.yaml", audits_dir)
    assert failed.returncode == 2 and "audits/bad.yaml:2: GD-01:" in failed.stderr


def test_junit_case_names_do_not_change_with_the_score() -> None:
    # CI servers follow a test case by its name from run to run: the score belongs in the outcome.
    other = ROOT / "examples" / "archetypes" / "01-faq-chatbot-good-governance.yaml"
    names = []
    for path in (DEMO, other):
        xml = _score(str(path), "--format", "junit").stdout
        names.append({c.name for c in next(iter(JUnitXml.fromstring(xml)))})
    assert "overall rating below high" in names[0] & names[1]
    assert not any("/100" in n for n in names[0] | names[1])


def test_validate_counts_the_questions_that_apply_as_score_does() -> None:
    result = run_main("validate", str(DEMO))
    assert result.returncode == 0, result.stderr
    counts = json.loads(_score(str(DEMO), "--format", "json").stdout)["counts"]
    expected = f"{counts['answered']} of {counts['applicable']} applicable questions answered"
    assert expected in result.stdout
