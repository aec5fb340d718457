"""`ic-audit migrate` and bank `replaces`: answers carried from one major bank version to the
next, nothing dropped, the original kept as a backup; a file of another major version refused
by score, report and validate with the hint to migrate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ic_audit.bank import cache_codec
from ic_audit.bank.load import load_bank
from tests.conftest import REAL_BANK, ROOT, run_main

DATA = ROOT / "tests" / "data" / "migrate"
OLD_BANK = DATA / "old_bank"
NEW_BANK = DATA / "new_bank"
AUDIT = DATA / "audit-1.0.yaml"
DEMO_1 = ROOT / "tests" / "data" / "demo-audit-1.0.yaml"


def _copy(tmp_path: Path, source: Path = AUDIT, name: str = "audit.yaml") -> Path:
    target = tmp_path / name
    shutil.copyfile(source, target)
    return target


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _value(data: dict[str, Any], qid: str) -> Any:
    raw = data["answers"].get(qid)
    return raw.get("value") if isinstance(raw, dict) else raw


def _note(data: dict[str, Any], qid: str) -> str:
    raw = data["answers"].get(qid)
    return str(raw.get("note") or "") if isinstance(raw, dict) else ""


def test_the_test_audit_is_a_valid_1_0_audit() -> None:
    r = run_main("validate", str(OLD_BANK), str(NEW_BANK), "--bank", str(OLD_BANK), str(AUDIT))
    assert r.returncode == 0, r.stderr


def test_migrate_in_place_carries_maps_and_keeps_everything(tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    original = audit.read_bytes()
    r = run_main("migrate", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 0, r.stderr
    backup = tmp_path / "audit.yaml.bak-1.0"
    assert backup.read_bytes() == original
    data = _load(audit)
    assert data["bank"] == {"id": "mig", "version": "2.0"}
    # Kept ids are copied; a question that renames its values maps them.
    assert _value(data, "KP-01") is True
    assert _value(data, "TX-01") == "Nothing else."
    assert _value(data, "RN-01") == "annually"
    # Two old ids feed one multiple-choice question: combined, the exclusive "none" dropped.
    assert _value(data, "REACH") == ["memory", "changes_monitoring"]
    # Several old values into one single-choice question: the riskiest mapped one stands.
    assert _value(data, "SEEN") == "not_looked"
    # The old note and evidence go with the answer to every question it feeds.
    for qid in ("REACH", "SEEN"):
        assert "From the Q3 review." in _note(data, qid)
        assert data["answers"][qid]["evidence"] == ["REV-7"]
    # Nothing dropped: each unmapped answer is a note on its nearest question, or top-level.
    assert "anyone" in _note(data, "KP-02")
    assert "Any senior manager, in practice." in _note(data, "KP-02")
    assert data["answers"]["KP-02"]["evidence"] == ["OPS-1"]
    assert _value(data, "KP-02") is None
    assert "odd_thing" in _note(data, "REACH")
    assert "120" in _note(data, "DRILL") and _value(data, "DRILL") is None
    assert len(data["migration_notes"]) == 1 and "OLD-GONE" in data["migration_notes"][0]
    assert "bad" in data["migration_notes"][0]
    for old in ("OLD-MULTI", "OLD-YN", "OLD-NUM", "OLD-GONE"):
        assert old not in data["answers"]
    # Comments stay where their answer (or the one after a removed answer) stays.
    text = audit.read_text(encoding="utf-8")
    for comment in (
        "# An audit answered against bank mig 1.0.",
        "# Reviewed by Internal Audit.",
        "KP-01: yes  # confirmed in the steering minutes",
        "# What we saw",
        "# Free text stays",
    ):
        assert comment in text
    assert text.index("# Free text stays") < text.index("TX-01:")
    # The summary: counts, then one line per answer not mapped.
    assert "2 kept, 3 mapped, 4 not mapped" in r.stderr
    lines = [line for line in r.stderr.splitlines() if "not mapped:" in line]
    assert len(lines) == 4
    for what in ("KP-02", "odd_thing", "OLD-NUM", "OLD-GONE"):
        assert any(what in line for line in lines), what
    # The result validates and scores against the new bank.
    assert run_main("validate", "--bank", str(NEW_BANK), str(audit)).returncode == 0
    score = run_main("score", "--bank", str(NEW_BANK), "--format", "json", str(audit))
    assert score.returncode == 0, score.stderr
    assert json.loads(score.stdout)["bank"]["version"] == "2.0"


def test_a_backup_is_never_written_over(tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    original = audit.read_bytes()
    earlier = tmp_path / "audit.yaml.bak-1.0"
    earlier.write_text("an earlier backup\n", encoding="utf-8")
    r = run_main("migrate", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 0, r.stderr
    assert earlier.read_text(encoding="utf-8") == "an earlier backup\n"
    assert (tmp_path / "audit.yaml.bak-1.0-2").read_bytes() == original
    assert "audit.yaml.bak-1.0-2" in r.stderr


def test_output_file_leaves_the_original_alone(tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    original = audit.read_bytes()
    out = tmp_path / "audit-2.0.yaml"
    r = run_main("migrate", str(audit), "-o", str(out), "--bank", str(NEW_BANK))
    assert r.returncode == 0, r.stderr
    assert audit.read_bytes() == original
    assert not list(tmp_path.glob("*.bak-*"))
    assert _load(out)["bank"]["version"] == "2.0"
    assert run_main("validate", "--bank", str(NEW_BANK), str(out)).returncode == 0
    # An existing file is never written over.
    again = run_main("migrate", str(audit), "-o", str(out), "--bank", str(NEW_BANK))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_output_on_the_backup_name_is_refused(tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    original = audit.read_bytes()
    backup = tmp_path / "audit.yaml.bak-1.0"
    r = run_main("migrate", str(audit), "-o", str(backup), "--bank", str(NEW_BANK))
    assert r.returncode == 2
    assert "backup" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not backup.exists() and audit.read_bytes() == original


def test_output_on_the_input_is_in_place_with_a_backup(tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    r = run_main("migrate", str(audit), "-o", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "audit.yaml.bak-1.0").read_bytes() == AUDIT.read_bytes()
    assert _load(audit)["bank"]["version"] == "2.0"


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_a_file_on_the_current_major_version_has_nothing_to_migrate(
    tmp_path: Path, version: str
) -> None:
    audit = tmp_path / "audit.yaml"
    audit.write_text(
        f'system: {{name: X}}\nbank: {{id: mig, version: "{version}"}}\nanswers:\n  KP-01: yes\n',
        encoding="utf-8",
    )
    before = audit.read_bytes()
    r = run_main("migrate", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 2
    assert "nothing to migrate" in r.stderr
    assert audit.read_bytes() == before and not list(tmp_path.glob("*.bak-*"))


def test_another_bank_id_is_refused(tmp_path: Path) -> None:
    audit = _copy(tmp_path)
    audit.write_text(audit.read_text().replace("id: mig", "id: other"), encoding="utf-8")
    r = run_main("migrate", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 2
    assert "'other'" in r.stderr and "--bank" in r.stderr
    assert not list(tmp_path.glob("*.bak-*"))


def test_a_file_without_a_bank_version_is_refused(tmp_path: Path) -> None:
    audit = tmp_path / "audit.yaml"
    audit.write_text("system: {name: X}\nanswers:\n  OLD-YN: yes\n", encoding="utf-8")
    r = run_main("migrate", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 2 and "version" in r.stderr


def test_json_answers_migrate_to_json(tmp_path: Path) -> None:
    source = _load(AUDIT)
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps(source, default=str), encoding="utf-8")
    r = run_main("migrate", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 0, r.stderr
    data = json.loads(audit.read_text(encoding="utf-8"))
    assert data["bank"]["version"] == "2.0"
    assert _value(data, "REACH") == ["memory", "changes_monitoring"]
    assert "OLD-GONE" in data["migration_notes"][0]
    assert (tmp_path / "audit.json.bak-1.0").exists()


def test_an_answer_under_a_kept_id_wins_over_a_mapped_one(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(NEW_BANK, bank)
    section = bank / "10-all.yaml"
    section.write_text(
        section.read_text().replace(
            "    replaces:\n      - id: OLD-NUM\n",
            "    replaces:\n      - id: OLD-NUM\n      - id: OLD-GONE\n"
            "        values: {bad: never, good: within_90_days}\n",
        ),
        encoding="utf-8",
    )
    audit = tmp_path / "audit.yaml"
    audit.write_text(
        'system: {name: X}\nbank: {id: mig, version: "1.0"}\n'
        "answers:\n  DRILL: within_90_days\n  OLD-GONE: bad\n",
        encoding="utf-8",
    )
    r = run_main("migrate", str(audit), "--bank", str(bank))
    assert r.returncode == 0, r.stderr
    data = _load(audit)
    assert _value(data, "DRILL") == "within_90_days"
    assert "OLD-GONE" in _note(data, "DRILL") and "never" in _note(data, "DRILL")
    assert "not mapped: OLD-GONE" in r.stderr


# ---------------------------------------------------------------- a major version mismatch


@pytest.mark.parametrize("command", ["score", "report", "validate"])
def test_scoring_a_file_of_another_major_version_says_run_migrate(command: str) -> None:
    r = run_main(command, "--bank", str(NEW_BANK), str(AUDIT))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"run: ic-audit migrate {AUDIT}" in lines[0] and "bank.version" in lines[0]
    assert r.stdout == ""


def test_another_minor_version_is_still_a_warning(tmp_path: Path) -> None:
    audit = tmp_path / "audit.yaml"
    audit.write_text(
        'system: {name: X}\nbank: {id: mig, version: "2.3"}\nanswers:\n  KP-01: yes\n',
        encoding="utf-8",
    )
    r = run_main("score", "--bank", str(NEW_BANK), str(audit))
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "2.3" in r.stderr


# ------------------------------------------------------------------------- bank rules


def _bank_with(tmp_path: Path, old: str, new: str) -> Path:
    bank = tmp_path / "bank"
    shutil.copytree(NEW_BANK, bank)
    section = bank / "10-all.yaml"
    text = section.read_text(encoding="utf-8")
    assert old in text
    section.write_text(text.replace(old, new), encoding="utf-8")
    return bank


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("grabbed_memory: memory}", "grabbed_memory: remembers}", "'remembers'"),
        ("      - id: OLD-NUM\n", "      - id: KP-01\n", "KP-01 is a question of this bank"),
        (
            "      - id: RN-01\n        values: {yearly: annually}\n",
            "      - id: RN-01\n",
            "own id",
        ),
        (
            "      - id: OLD-NUM\n",
            "      - id: OLD-NUM\n      - id: OLD-NUM\n",
            "OLD-NUM is listed twice",
        ),
    ],
)
def test_bank_rules_on_replaces(tmp_path: Path, old: str, new: str, message: str) -> None:
    bank = _bank_with(tmp_path, old, new)
    r = run_main("validate", str(bank))
    assert r.returncode == 2
    assert message in r.stderr
    assert "10-all.yaml:" in r.stderr


def test_a_value_map_on_a_question_without_options_is_refused(tmp_path: Path) -> None:
    bank = _bank_with(
        tmp_path,
        "    help: Free text, kept.\n",
        "    help: Free text, kept.\n"
        "    replaces:\n      - id: OLD-GONE\n        values: {bad: x}\n",
    )
    r = run_main("validate", str(bank))
    assert r.returncode == 2 and "no option values" in r.stderr


def test_an_old_id_may_feed_several_questions() -> None:
    bank = load_bank(NEW_BANK)
    feeding = [q.id for q in bank.questions if any(r.id == "OLD-MULTI" for r in q.replaces)]
    assert feeding == ["REACH", "SEEN"]


def test_the_cache_codec_round_trips_replaces() -> None:
    bank = load_bank(NEW_BANK)
    data = json.loads(json.dumps(cache_codec._bank_to_data(bank)))
    back = cache_codec._bank_from_data(data, bank.sha256)
    assert [q.replaces for q in back.questions] == [q.replaces for q in bank.questions]
    assert back.by_id["SEEN"].replaces[0].values["disabled_logs"] == "uncontained"


# ------------------------------------------------------------- the real demo audit, 1.0 -> 2.0


def test_the_1_0_demo_audit_migrates_to_the_2_0_bank_with_nothing_lost(tmp_path: Path) -> None:
    """Needs the 2.0 loader (role, evidence, exposure...) to load the real bank."""
    audit = _copy(tmp_path, DEMO_1, "demo.yaml")
    old = _load(DEMO_1)["answers"]
    r = run_main("migrate", str(audit), "--bank", str(REAL_BANK))
    assert r.returncode == 0, r.stderr
    bank = load_bank(REAL_BANK)
    new = _load(audit)
    notes = "\n".join(
        [*(str(_note(new, qid)) for qid in new["answers"]), *new.get("migration_notes", [])]
    )
    for qid, raw in old.items():
        value = raw.get("value") if isinstance(raw, dict) else raw
        if value is None:
            continue
        if qid in bank.by_id and _value(new, qid) == value:
            continue  # carried under the same id
        feeds = [q for q in bank.questions if any(r.id == qid for r in q.replaces)]
        values = value if isinstance(value, list) else [value]
        words = ["yes" if v is True else "no" if v is False else v for v in values]
        for word in words:
            mapped = [
                r.values[word]
                for q in feeds
                for r in q.replaces
                if r.id == qid and isinstance(word, str) and word in r.values
            ]
            carried = any(
                _value(new, q.id) == m
                or (isinstance(_value(new, q.id), list) and m in _value(new, q.id))
                for q in feeds
                for m in mapped
            )
            # A value folded into a riskier single choice is carried by that choice.
            folded = bool(mapped) and any(_value(new, q.id) is not None for q in feeds)
            listed = qid in notes and str(word) in notes and f"not mapped: {qid}" in r.stderr
            assert carried or folded or listed, (qid, word)
    assert run_main("validate", str(audit)).returncode == 0
    score = run_main("score", "--format", "json", str(audit))
    assert score.returncode == 0, score.stderr
    assert json.loads(score.stdout)["bank"]["version"] == bank.version


def _comment_owners(text: str) -> list[tuple[str, str]]:
    """Each comment line with the key on the first line after it that is not a comment."""
    owners: list[tuple[str, str]] = []
    waiting: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            waiting.append(line.strip())
        elif ":" in line and line.strip() and not line.lstrip().startswith("- "):
            key = line.strip().split(":", 1)[0]
            owners += [(comment, key) for comment in waiting]
            waiting = []
    return owners


def test_migrating_keeps_the_file_s_indentation_and_each_comment_above_its_answer(
    tmp_path: Path,
) -> None:
    audit = _copy(tmp_path, DEMO_1, "demo.yaml")
    before = audit.read_text(encoding="utf-8")
    r = run_main("migrate", str(audit), "--bank", str(REAL_BANK))
    assert r.returncode == 0, r.stderr
    after = audit.read_text(encoding="utf-8")
    # The file's own two-space indentation and list style, nothing re-indented.
    assert "\nsystem:\n  name: " in after and "\nauditor:\n  name: " in after
    assert "\n  GV-01:\n    value: specific_not_addressed\n" in after
    assert "\n    evidence:\n      - docs/refundpilot/rollout-proposal-v3.pdf\n" in after
    # Every comment line still stands above the answer it stood above (where that survives);
    # the new section's heading and answers go above the old first section's heading.
    kept = set(_load(audit)["answers"])
    owners = set(_comment_owners(after))
    for comment, key in _comment_owners(before):
        if key in kept:
            assert (comment, key) in owners, (comment, key)
    assert after.index("# ==== System profile") < after.index("PR-01:")
    assert after.index("PR-09:") < after.index("# Governance") < after.index("GV-01:")


@pytest.mark.parametrize(
    ("mapping", "dash"),
    [(2, "  - "), (2, "- "), (4, "    - "), (4, "  - "), (3, "- ")],
)
def test_a_migrated_file_keeps_its_own_indent_and_list_style(
    tmp_path: Path, mapping: int, dash: str
) -> None:
    pad = " " * mapping
    # The test audit, re-indented, with a block list.
    lines = AUDIT.read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(pad * ((len(x) - len(x.lstrip(" "))) // 2) + x.lstrip(" ") for x in lines)
    text = text.replace(
        f"{pad * 2}evidence: [REV-7]",
        f"{pad * 2}evidence:\n{pad * 2}{dash}REV-7\n{pad * 2}{dash}REV-8",
    )
    audit = tmp_path / "audit.yaml"
    audit.write_text(text, encoding="utf-8")
    assert yaml.safe_load(text)["answers"]["OLD-MULTI"]["evidence"] == ["REV-7", "REV-8"]
    r = run_main("migrate", str(audit), "--bank", str(NEW_BANK))
    assert r.returncode == 0, r.stderr
    after = audit.read_text(encoding="utf-8")
    assert f"\nsystem:\n{pad}name: Test agent\n" in after
    assert f"\n{pad}KP-01: yes" in after and f"\n{pad}KP-02:\n{pad * 2}value:" in after
    # The evidence carried to REACH is a list written as the file writes its lists.
    assert f"\n{pad * 2}evidence:\n{pad * 2}{dash}" in after


def test_the_summary_says_in_plain_words_what_to_answer_again(tmp_path: Path) -> None:
    audit = _copy(tmp_path, DEMO_1, "demo.yaml")
    r = run_main("migrate", str(audit), "--bank", str(REAL_BANK))
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if "GD-02" in line]
    assert lines == [
        "  not mapped: GD-02 (old answer 1.8): the new question GD-11 asks differently; answer "
        "GD-11 again (the old answer is kept as a note on it)"
    ]
    for jargon in ("value map", "afresh"):
        assert jargon not in r.stderr
        assert jargon not in audit.read_text(encoding="utf-8")
    # One answer left out altogether says where it is kept.
    r = run_main("migrate", str(_copy(tmp_path)), "--bank", str(NEW_BANK))
    assert (
        "  not mapped: OLD-GONE (old answer bad): no question of bank mig 2.0 takes its place "
        "(the old answer is kept under migration_notes at the end of the file)"
    ) in r.stderr.splitlines()
