"""A bank defines its key metrics and severity cut-offs; every format shows the bank's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ic_audit.bank import DEFAULT_METRICS, load_bank
from ic_audit.render.registry import RENDERERS, Command, format_names
from tests.conftest import MINI_BANK, ROOT, run_cli

OWN_BANK = ROOT / "tests" / "data" / "metrics_bank"
OWN_AUDIT = ROOT / "tests" / "data" / "metrics_audit.yaml"
MINI_AUDIT = ROOT / "tests" / "data" / "mini_audit.yaml"
OWN_METRICS = {
    "privacy_drift": ("Privacy slippage", "privacy"),
    "stop_latency": ("Time to halt", "stop_latency"),
}
COMMANDS: tuple[Command, ...] = ("score", "report")
# Everything by which a format could name one of the default metrics.
DEFAULT_NAMES = [name for i, t, _, h in DEFAULT_METRICS for name in (i, t, f" {h} ")]


def _shows(text: str, metric: str) -> bool:
    title, heading = OWN_METRICS[metric]
    return metric in text or title in text or heading in text


@pytest.mark.parametrize(
    ("command", "name"),
    [(c, n) for c in COMMANDS for n in format_names(c)],
)
def test_every_format_shows_the_banks_own_metrics_and_not_the_default_ones(
    command: str, name: str
) -> None:
    # --fail-on moderate: JUnit lists the metrics in the failure of a rating at the threshold.
    result = run_cli(
        command, str(OWN_AUDIT), "--bank", str(OWN_BANK), "--format", name, "--fail-on", "moderate"
    )
    assert result.returncode == 1, result.stderr
    for metric in OWN_METRICS:
        assert _shows(result.stdout, metric), (name, metric)
    for default in DEFAULT_NAMES:
        assert default not in result.stdout, (name, default)


def test_the_github_summary_has_one_column_per_bank_metric(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    result = run_cli("score", str(OWN_AUDIT), "--bank", str(OWN_BANK), env=env)
    assert result.returncode == 0, result.stderr
    header, rule, row = summary.read_text(encoding="utf-8").splitlines()[2:5]
    # Markdown escaping may put a backslash before `_`; what GitHub shows has none.
    assert "| score | privacy | stop_latency | red flags |" in header.replace("\\", "")
    assert header.count("|") == rule.count("|") == row.count("|")
    assert "| 30.0 | 80.0 |" in row
    for default in DEFAULT_NAMES:
        assert default not in header


def test_json_metrics_are_keyed_by_the_banks_ids_in_its_order() -> None:
    result = run_cli("score", str(OWN_AUDIT), "--bank", str(OWN_BANK), "--format", "json")
    data = json.loads(result.stdout)
    assert list(data["metrics"]) == list(OWN_METRICS)
    for metric, (title, _) in OWN_METRICS.items():
        assert data["metrics"][metric]["id"] == metric
        assert data["metrics"][metric]["title"] == title
    default = json.loads(
        run_cli("score", str(MINI_AUDIT), "--bank", str(MINI_BANK), "-f", "json").stdout
    )
    assert list(default["metrics"]) == [i for i, *_ in DEFAULT_METRICS]
    assert [m["title"] for m in default["metrics"].values()] == [t for _, t, *_ in DEFAULT_METRICS]


def test_severity_follows_the_banks_cut_offs() -> None:
    data = json.loads(
        run_cli("score", str(OWN_AUDIT), "--bank", str(OWN_BANK), "--format", "json").stdout
    )
    severity = {f["question_id"]: f["severity"] for f in data["findings"]}
    # Risk 0.8 is below this bank's `high: 0.9` (high by default); 0.3 is at or above its
    # `moderate: 0.2` (low by default).
    assert severity == {"SL-01": "moderate", "PD-01": "moderate"}


def test_the_catalogue_lists_the_banks_metrics_and_cut_offs() -> None:
    data = json.loads(run_cli("questions", "--format", "json", "--bank", str(OWN_BANK)).stdout)
    assert [m["id"] for m in data["metrics"]] == list(OWN_METRICS)
    assert [m["short"] for m in data["metrics"]] == [h for _, h in OWN_METRICS.values()]
    assert data["bank"]["severity"] == {"high": 0.9, "moderate": 0.2}


def test_the_cached_bank_keeps_its_metrics_and_cut_offs() -> None:
    from ic_audit.bank.cache_codec import _bank_from_data, _bank_to_data

    bank = load_bank(OWN_BANK)
    again = _bank_from_data(json.loads(json.dumps(_bank_to_data(bank))), bank.sha256)
    assert again.metrics == bank.metrics and again.severity == bank.severity
    default = load_bank(MINI_BANK)
    restored = _bank_from_data(json.loads(json.dumps(_bank_to_data(default))), default.sha256)
    assert [m.id for m in restored.metrics] == [i for i, *_ in DEFAULT_METRICS]


def _bank_copy(tmp_path: Path, source: Path, edit: dict[str, tuple[str, str]]) -> Path:
    target = tmp_path / "bank"
    target.mkdir()
    for file in source.glob("*.yaml"):
        text = file.read_text(encoding="utf-8")
        if file.name in edit:
            old, new = edit[file.name]
            assert old in text
            text = text.replace(old, new)
        (target / file.name).write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("source", "edit", "expected"),
    [
        # The default bank defines none of the test bank's metrics...
        (MINI_BANK, {"10-core.yaml": ("metric: goal_drift", "metric: privacy_drift")}, "GD-01"),
        # ...and a bank that defines its own no longer has the default ones.
        (OWN_BANK, {"10-main.yaml": ("metric: stop_latency", "metric: controllability")}, "SL-01"),
    ],
)
def test_a_question_naming_a_metric_the_bank_does_not_define_is_refused(
    tmp_path: Path, source: Path, edit: dict[str, tuple[str, str]], expected: str
) -> None:
    bank = _bank_copy(tmp_path, source, edit)
    result = run_cli("validate", str(bank))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert expected in line and "metric" in line


@pytest.mark.parametrize(
    "edit",
    [
        ("  high: 0.9\n  moderate: 0.2", "  high: 0.3\n  moderate: 0.5"),  # cut-offs fall
        ("  - id: stop_latency", "  - id: privacy_drift"),  # an id twice
        ("    title: Time to halt\n", ""),  # a metric without a title
    ],
)
def test_a_bad_metrics_or_severity_block_is_one_line_exit_2(
    tmp_path: Path, edit: tuple[str, str]
) -> None:
    bank = _bank_copy(tmp_path, OWN_BANK, {"bank.yaml": edit})
    result = run_cli("validate", str(bank))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines and all("bank.yaml" in line for line in lines), lines
    assert not any("Traceback" in line for line in lines)


def test_every_renderer_entry_is_covered() -> None:
    # The format test above runs every command's formats; this keeps that list honest.
    assert {n for c in COMMANDS for n in format_names(c)} == set(RENDERERS)
