"""The contract's commands, run through `ic_audit.cli.main` (in this process, `run_main`) and,
where a real process matters, through `python -m ic_audit` (`run_cli`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema
import pytest
import yaml

from tests.conftest import DEMO, MINI_BANK, ROOT, SARIF_SCHEMA, run_cli, run_main

MINI_AUDIT = ROOT / "tests" / "data" / "mini_audit.yaml"
COMMANDS = [
    "score",
    "report",
    "questions",
    "validate",
    "init",
    "schema",
    "demo",
    "run",
    "compare",
]
RESULT_KEYS = {
    "system",
    "audit_date",
    "bank",
    "answers_sha256",
    "overall",
    "sections",
    "metrics",
    "red_flags",
    "findings",
    "unanswered",
    "complete",
}


def _json(*args: str) -> Any:
    result = run_main(*args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip().startswith("ic-audit 0.")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_main(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example:" in result.stdout
    assert "--bank" in result.stdout


def test_unknown_option_is_one_line_and_exit_2() -> None:
    result = run_main("score", "--bogus", "x.yaml")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ic-audit score: No such option: --bogus (see `ic-audit score --help`)"
    )


def test_score_json_has_the_contract_keys() -> None:
    data = _json("score", str(DEMO), "--format", "json")
    assert RESULT_KEYS <= set(data)
    assert set(data["metrics"]) == {"goal_drift", "controllability", "alignment_decay"}
    for metric in data["metrics"].values():
        assert 0 <= metric["score"] <= 100
        assert metric["rating"] in ("low", "moderate", "high", "critical")
    assert {"score", "rating"} <= set(data["overall"])
    assert all({"id", "title", "score", "rating"} <= set(s) for s in data["sections"])
    assert all({"question_id", "reason"} <= set(f) for f in data["red_flags"])
    assert all(
        {"question_id", "severity", "title", "recommendation"} <= set(f) for f in data["findings"]
    )
    assert data["bank"]["id"] == "ic-core" and data["bank"]["version"] == "2.0"
    assert data["audit_date"] == "2026-10-01"
    # Bank 2.0: the exposure level and the score it came from, and a score per role.
    assert data["exposure"]["level"] in ("minimal", "limited", "substantial", "extensive")
    assert data["exposure"]["score"] == data["roles"]["profile"]["score"]
    assert set(data["roles"]) == {"profile", "control", "observation"}
    for role in data["roles"].values():
        assert 0 <= role["score"] <= 100
        assert role["rating"] in ("low", "moderate", "high", "critical")
    assert len(data["answers_sha256"]) == 64


def test_score_many_files_keeps_argument_order_and_expands_globs(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/one.yaml", "a/b/two.yaml"):
        (tmp_path / name).write_text(f"system: {{name: {Path(name).stem}}}\n")
    result = run_main("score", "--format", "json", str(DEMO), str(tmp_path / "**" / "*.yaml"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [d["system"]["name"] for d in data][1:] == ["two", "one"]  # sorted paths: a/b < a/o
    assert data[0]["system"]["name"].startswith("RefundPilot")


def test_a_glob_matching_nothing_is_exit_2(tmp_path: Path) -> None:
    result = run_main("score", str(tmp_path / "*.yaml"))
    assert result.returncode == 2
    assert "matches no files" in result.stderr


def test_one_bad_file_fails_the_batch(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: {name: X}\nanswers: {GD-01: perhaps}\n")
    result = run_main("score", str(DEMO), str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{bad}:2: GD-01:" in result.stderr


@pytest.mark.parametrize(
    ("threshold", "code"), [("low", 1), ("moderate", 1), ("high", 1), ("critical", 0)]
)
def test_fail_on_sets_the_exit_code(threshold: str, code: int) -> None:
    # The demo audit is rated high.
    assert run_main("score", str(DEMO), "--fail-on", threshold).returncode == code
    assert run_main("report", str(DEMO), "--fail-on", threshold).returncode == code


def test_no_threshold_means_exit_0_even_when_critical() -> None:
    result = run_main("score", str(MINI_AUDIT), "--bank", str(MINI_BANK))
    assert result.returncode == 0
    assert "critical" in result.stdout


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_reports_are_byte_identical_across_runs(tmp_path: Path, fmt: str) -> None:
    first = run_main("report", str(DEMO), "--format", fmt)
    assert first.returncode == 0, first.stderr
    second = run_main("report", str(DEMO), "--format", fmt, "-o", str(tmp_path / f"r.{fmt}"))
    assert second.returncode == 0, second.stderr
    assert (tmp_path / f"r.{fmt}").read_text() == first.stdout


def test_report_format_follows_the_output_suffix(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert run_main("report", str(DEMO), "-o", str(out)).returncode == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_report_into_a_missing_directory_is_exit_2(tmp_path: Path) -> None:
    result = run_main("report", str(DEMO), "-o", str(tmp_path / "nope" / "r.md"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_a_failed_report_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    out.write_text("previous report\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: {name: X}\nanswers: {GD-01: perhaps}\n")
    assert run_main("report", str(bad), "-o", str(out)).returncode == 2
    assert out.read_text() == "previous report\n"


def test_questions_json_describes_the_rubric() -> None:
    data = _json("questions", "--format", "json")
    assert data["bank"] == {**data["bank"], "id": "ic-core", "version": "2.0"}
    questions = data["questions"]
    assert len(questions) >= 40
    assert len({q["section"] for q in questions}) >= 6
    assert len({q["id"] for q in questions}) == len(questions)
    for q in questions:
        assert {"id", "section", "type", "text", "help", "required", "metric"} <= set(q)
        assert q["metric"] in (None, "goal_drift", "controllability", "alignment_decay")
        assert q["role"] in ("profile", "control", "observation")
        if q["type"] in ("single", "multi", "yes_no"):
            assert all(
                0.0 <= o["risk"] <= 1.0 and isinstance(o["red_flag"], bool) for o in q["options"]
            )
        if q["type"] == "number":
            assert all({"min", "max", "risk"} <= set(b) for b in q["bands"])
        if q["type"] in ("single", "multi", "yes_no", "number"):
            assert "safest" in q and "riskiest" in q
    conditional = [q for q in questions if q["when"]]
    assert conditional and all("question" in q["when"] for q in conditional)
    # The profile comes first; every role is used.
    assert questions[0]["role"] == "profile"
    assert {q["role"] for q in questions} == {"profile", "control", "observation"}
    tags = {o.get("evidence") for q in questions for o in q.get("options", [])}
    assert {"unknown", "contained", "uncontained", "not_observed"} <= tags


def test_safest_and_riskiest_from_questions_json_build_low_and_critical_audits(
    tmp_path: Path,
) -> None:
    questions = _json("questions", "--format", "json")["questions"]
    for key, rating in (("safest", "low"), ("riskiest", "critical")):
        answers = {q["id"]: q[key] for q in questions if key in q}
        path = tmp_path / f"{key}.json"
        path.write_text(json.dumps({"system": {"name": key}, "answers": answers}))
        data = _json("score", str(path), "--format", "json")
        assert data["overall"]["rating"] == rating
        assert bool(data["red_flags"]) is (key == "riskiest")


def test_init_writes_a_template_that_validates_and_scores_incomplete(tmp_path: Path) -> None:
    out = tmp_path / "audit.yaml"
    assert run_main("init", "-o", str(out)).returncode == 0
    assert run_main("validate", str(out)).returncode == 0
    data = _json("score", str(out), "--format", "json")
    assert data["complete"] is False
    assert data["overall"]["rating"] in ("high", "critical")
    again = run_main("init", "-o", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert run_main("init", "-o", str(out), "--force").returncode == 0


def test_schema_accepts_the_demo_and_the_template_and_rejects_bad_values(tmp_path: Path) -> None:
    schema = _json("schema")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    # As JSON sees it: YAML dates become ISO strings.
    demo = json.loads(json.dumps(yaml.safe_load(DEMO.read_text()), default=str))
    validator.validate(demo)
    template = tmp_path / "t.yaml"
    run_main("init", "-o", str(template))
    validator.validate(json.loads(json.dumps(yaml.safe_load(template.read_text()), default=str)))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"system": {"name": "x"}, "answers": {"GD-01": "perhaps"}})


def test_demo_writes_markdown_html_and_json(tmp_path: Path) -> None:
    result = run_main("demo", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "Overall rating" in result.stdout
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [
        "demo-compare.html",
        "demo-compare.json",
        "demo-compare.md",
        "demo-report.html",
        "demo-report.json",
        "demo-report.md",
    ]


def test_json_answers_files_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text(
        json.dumps(
            {
                "system": {"name": "J"},
                "audit_date": "2026-10-01",
                "answers": {"GD-01": "yes", "CT-03": {"value": ["stop"], "evidence": "OPS-1"}},
            }
        )
    )
    data = _json("score", str(path), "--format", "json")
    assert data["system"]["name"] == "J"


def test_yes_no_accepts_yes_no_true_false(tmp_path: Path) -> None:
    ratings = set()
    for value in ("yes", "true", "'yes'", "True"):
        path = tmp_path / "a.yaml"
        path.write_text(f"system: {{name: X}}\nanswers:\n  GD-01: {value}\n")
        data = _json("score", str(path), "--format", "json", "--bank", str(MINI_BANK))
        row = next(a for a in data["answers"] if a["question_id"] == "GD-01")
        ratings.add((row["value"], row["risk"]))
    assert ratings == {("yes", 0.0)}


def test_internal_errors_are_one_line_with_a_report_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ic_audit import cli

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("simulated")

    import ic_audit.bank

    monkeypatch.setattr(ic_audit.bank, "load_bank", boom)
    with pytest.raises(SystemExit) as exited:
        cli.main(["questions"])
    assert exited.value.code == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: simulated" in err
    assert "please report it" in err and "command you ran" in err
    assert not re.search(r"https?://", err)  # no link to a tracker that does not exist


def test_an_unwritable_output_path_is_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    result = run_main("report", str(DEMO), "-o", str(blocker / "report.md"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(blocker / "report.md") in result.stderr


def _reference() -> dict[str, Any]:
    return dict(_json("score", str(DEMO), "--format", "json"))


def _check_json_result(out: str, ref: dict[str, Any]) -> None:
    data = json.loads(out)
    assert RESULT_KEYS <= set(data)
    assert data["overall"] == ref["overall"] and data["answers_sha256"] == ref["answers_sha256"]


def _check_table(out: str, ref: dict[str, Any]) -> None:
    head, rule, *rows = out.splitlines()
    assert set(rule.replace(" ", "")) == {"-"}
    assert head.split()[:4] == ["file", "system", "rating", "score"]
    (row,) = rows
    # The row shows this audit's file, rating and overall score (the file name is the first
    # column; later columns are cut at the rule's widths).
    cells = row.split()
    assert cells[0] == str(DEMO)
    assert ref["overall"]["rating"] in cells and f"{ref['overall']['score']:.1f}" in cells


def _check_junit(out: str, ref: dict[str, Any]) -> None:
    root = ElementTree.fromstring(out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1 and suites[0].findall("testcase")
    cases = list(root.iter("testcase"))
    assert int(root.get("tests", "0")) == len(cases)
    # A case for every finding (and for the audit as a whole), as the README says.
    named = " ".join(case.get("name", "") + " " + case.get("classname", "") for case in cases)
    assert all(f["question_id"] in named for f in ref["findings"])
    assert len(cases) > len(ref["findings"])


def _check_sarif(out: str, ref: dict[str, Any]) -> None:
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    rule_ids = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert {f["question_id"] for f in ref["findings"]} <= rule_ids


def _check_markdown(out: str, ref: dict[str, Any]) -> None:
    title = out.splitlines()[0]
    # Markdown escapes punctuation in user text: compare the words.
    assert title.startswith("# ") and ref["system"]["name"].split()[0] in title
    assert f"{ref['overall']['score']:.1f}" in out and ref["overall"]["rating"] in out


def _check_html(out: str, ref: dict[str, Any]) -> None:
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    parsed = Tags()
    parsed.feed(out)
    parsed.close()
    assert parsed.tags[:1] == ["html"] and "body" in parsed.tags and "table" in parsed.tags
    assert ref["system"]["name"] in "".join(parsed.text)


# One check per format each command offers: a new format fails here until it has one.
FORMAT_CHECKS = {
    ("score", "table"): _check_table,
    ("score", "json"): _check_json_result,
    ("score", "junit"): _check_junit,
    ("score", "sarif"): _check_sarif,
    ("report", "md"): _check_markdown,
    ("report", "html"): _check_html,
    ("report", "json"): _check_json_result,
}


def _format_choices() -> list[tuple[str, str]]:
    from ic_audit.render.registry import format_names

    return [(command, name) for command in ("score", "report") for name in format_names(command)]


@pytest.mark.parametrize(("command", "fmt"), _format_choices())
def test_every_format_choice_gives_a_document_of_its_kind(command: str, fmt: str) -> None:
    check = FORMAT_CHECKS.get((command, fmt))
    assert check is not None, f"add a check of `{command} --format {fmt}` to FORMAT_CHECKS"
    result = run_main(command, str(DEMO), "--format", fmt)
    assert result.returncode == 0, result.stderr
    check(result.stdout, _reference())


def test_every_questions_format_lists_every_question() -> None:
    from ic_audit.cli import ListFormat

    assert {f.value for f in ListFormat} == {"table", "json"}
    listed = _json("questions", "--format", "json")["questions"]
    ids = [q["id"] for q in listed]
    assert len(ids) > 1 and len(set(ids)) == len(ids)
    table = run_main("questions", "--format", "table")
    assert table.returncode == 0, table.stderr
    first_column = [line.split()[0] for line in table.stdout.splitlines() if line.strip()]
    header = first_column.index("id")
    assert first_column[header + 2 :] == ids  # after the header and its rule, in bank order


def test_output_through_a_symlink_replaces_the_file_it_names(tmp_path: Path) -> None:
    target = tmp_path / "target.md"
    target.write_text("old\n")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    assert run_main("report", str(DEMO), "-o", str(link)).returncode == 0
    assert link.is_symlink()
    assert target.read_text().startswith("# Instrumental convergence risk report")


def test_output_to_a_device_writes_through_it_and_never_replaces_it() -> None:
    import stat

    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full here")
    result = run_cli("report", str(DEMO), "-o", str(full))
    assert result.returncode == 2
    assert result.stderr.strip() == "/dev/full: cannot write: No space left on device"
    assert stat.S_ISCHR(full.stat().st_mode)


def test_output_dash_is_stdout() -> None:
    result = run_main("report", str(DEMO), "-o", "-", "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["system"]["name"].startswith("RefundPilot")
    assert result.stderr == ""
