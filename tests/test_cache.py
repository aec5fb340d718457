"""The on-disk cache (validated banks, compiled templates): where it lives, that it is safe, and
that it never changes a result.

Every test points ``XDG_CACHE_HOME`` at its own temporary directory (the autouse fixture), so
nothing here reads or writes the real cache in the user's home.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ic_audit import bank as bank_module
from ic_audit import cache
from ic_audit.answers import load_audit
from ic_audit.bank import Bank, load_bank
from ic_audit.errors import UserError
from ic_audit.render import render_json, templating
from ic_audit.render.html import render_html
from ic_audit.render.markdown import render_markdown
from ic_audit.scoring import score_audit
from tests.conftest import DEMO, MINI_BANK, REAL_BANK, run_cli
from tests.regen_golden import GOLDEN_DIR, MINI_AUDIT, ROOT


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache for each test, and no bank or template left over in memory."""
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv(cache.ENV_DISABLE, raising=False)
    monkeypatch.setattr(bank_module, "_BANK_CACHE", {})
    templating.environment.cache_clear()
    yield home / "ic-audit"
    templating.environment.cache_clear()


def fresh(directory: Path | str | None) -> Bank:
    """Load a bank as a new process would: nothing in memory, whatever is on disk."""
    bank_module._BANK_CACHE.clear()
    return load_bank(directory)


def entries(root: Path, namespace: str) -> list[Path]:
    folder = root / namespace
    return sorted(folder.iterdir()) if folder.is_dir() else []


def same_bank(a: Bank, b: Bank) -> None:
    assert (a.id, a.version, a.title, a.description, a.sha256, a.path) == (
        b.id,
        b.version,
        b.title,
        b.description,
        b.sha256,
        b.path,
    )
    assert a.rating_bands == b.rating_bands
    assert a.red_flag_critical_at == b.red_flag_critical_at
    assert [(s.id, s.title, s.intro, s.weight) for s in a.sections] == [
        (s.id, s.title, s.intro, s.weight) for s in b.sections
    ]
    assert [q.model_dump() for q in a.questions] == [q.model_dump() for q in b.questions]
    assert [(q.safest, q.riskiest, q.max_risk) for q in a.questions] == [
        (q.safest, q.riskiest, q.max_risk) for q in b.questions
    ]


# ---------------------------------------------------------------------------------------------
# where it lives


def test_cache_dir_follows_xdg_cache_home(cache_home: Path) -> None:
    assert cache.cache_dir() == cache_home


def test_relative_xdg_cache_home_is_ignored_for_the_home_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "ic-audit"


@pytest.mark.parametrize(("value", "enabled"), [("1", False), ("yes", False), ("0", True)])
def test_ic_audit_no_cache_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, value: str, enabled: bool
) -> None:
    monkeypatch.setenv(cache.ENV_DISABLE, value)
    assert cache.enabled() is enabled
    assert (cache.cache_dir() is not None) is enabled


def test_keys_change_with_the_code_that_made_the_entry(tmp_path: Path) -> None:
    stamp = cache.code_stamp("ic_audit.cache", "yaml", "no_such_module_anywhere")
    ours = Path(cache.__file__).stat()
    assert stamp[0] == ("ic_audit.cache", ours.st_size, ours.st_mtime_ns)
    assert stamp[1][0] == "yaml" and stamp[1][1] is not None  # type: ignore[index]
    assert stamp[2] == ("no_such_module_anywhere", None)
    assert cache.fingerprint("bank", "abc") != cache.fingerprint("bank", "abd")
    assert cache.fingerprint("bank", stamp) == cache.fingerprint("bank", stamp)


# ---------------------------------------------------------------------------------------------
# entries: atomic, checked, and ignored when damaged or not to be trusted


def test_an_entry_reads_back_and_leaves_no_temporary_file(cache_home: Path) -> None:
    cache.write("things", "k1", b"payload")
    assert cache.read("things", "k1") == b"payload"
    assert [p.name for p in entries(cache_home, "things")] == ["k1"]
    assert cache.read("things", "other") is None


def test_an_entry_is_private_to_the_user(cache_home: Path) -> None:
    cache.write("things", "k1", b"payload")
    assert (cache_home / "things" / "k1").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],  # truncated
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit flipped in the payload
        lambda data: b"X" + data[1:],  # not an entry at all
        lambda data: b"",
    ],
)
def test_a_damaged_entry_is_ignored(cache_home: Path, damage: object) -> None:
    cache.write("things", "k1", b"payload" * 100)
    path = cache_home / "things" / "k1"
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.read("things", "k1") is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="no file owners here")
def test_an_entry_others_can_write_is_ignored(cache_home: Path) -> None:
    cache.write("things", "k1", b"payload")
    (cache_home / "things" / "k1").chmod(0o666)
    assert cache.read("things", "k1") is None


def test_a_cache_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    cache.write("things", "k1", b"payload")
    assert cache.read("things", "k1") is None


# ---------------------------------------------------------------------------------------------
# the bank cache


def test_a_cached_bank_is_the_bank(cache_home: Path) -> None:
    validated = fresh(MINI_BANK)
    (stored,) = entries(cache_home, "banks")
    cached = fresh(MINI_BANK)
    assert cached is not validated
    same_bank(cached, validated)
    audit = load_audit(ROOT / MINI_AUDIT, cached, display=MINI_AUDIT)
    result = score_audit(cached, audit)
    assert render_json(result) == render_json(score_audit(validated, audit))
    assert render_markdown(result) == (GOLDEN_DIR / "mini.md").read_text(encoding="utf-8")
    assert entries(cache_home, "banks") == [stored]


def test_the_built_in_bank_from_the_cache_scores_the_demo_the_same(cache_home: Path) -> None:
    validated = fresh(None)
    cached = fresh(None)
    same_bank(cached, validated)
    assert cached.path == "(built-in bank)"
    audit = load_audit(DEMO, validated)
    assert render_json(score_audit(cached, audit)) == render_json(score_audit(validated, audit))


def test_a_cached_bank_takes_the_name_it_is_loaded_by(tmp_path: Path) -> None:
    first = tmp_path / "one"
    second = tmp_path / "two"
    shutil.copytree(MINI_BANK, first)
    shutil.copytree(MINI_BANK, second)
    assert fresh(first).path == str(first)
    assert fresh(second).path == str(second)  # same contents, same entry, its own name


def test_a_changed_bank_is_validated_again(tmp_path: Path, cache_home: Path) -> None:
    directory = tmp_path / "bank"
    shutil.copytree(MINI_BANK, directory)
    before = fresh(directory)
    section = directory / "10-core.yaml"
    text = section.read_text(encoding="utf-8")
    question = before.questions[0]
    section.write_text(text.replace(question.text, "A reworded question?", 1), encoding="utf-8")
    after = fresh(directory)
    assert after.questions[0].text == "A reworded question?"
    assert after.sha256 != before.sha256
    assert len(entries(cache_home, "banks")) == 2


def test_a_changed_bank_that_breaks_a_rule_is_an_error_not_the_cached_bank(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "bank"
    shutil.copytree(MINI_BANK, directory)
    fresh(directory)
    meta = directory / "bank.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "surprise: 1\n", encoding="utf-8")
    with pytest.raises(UserError, match="surprise: is not a known field"):
        fresh(directory)


def test_a_damaged_bank_entry_is_replaced(cache_home: Path) -> None:
    validated = fresh(MINI_BANK)
    (stored,) = entries(cache_home, "banks")
    good = stored.read_bytes()
    stored.write_bytes(good[: len(good) // 2])
    same_bank(fresh(MINI_BANK), validated)
    assert stored.read_bytes() == good


def test_an_entry_that_is_not_this_bank_is_ignored(tmp_path: Path, cache_home: Path) -> None:
    import pickle

    real = fresh(REAL_BANK)
    mini = fresh(MINI_BANK)
    (real_entry,) = [p for p in entries(cache_home, "banks") if p.read_bytes().find(b"GV-01") > 0]
    key = real_entry.name
    # A well-formed entry whose bank has other contents, under the real bank's key.
    cache.write("banks", key, pickle.dumps(mini))
    same_bank(fresh(REAL_BANK), real)


def test_no_cache_means_nothing_is_read_or_written(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated = fresh(MINI_BANK)
    shutil.rmtree(cache_home)
    monkeypatch.setenv(cache.ENV_DISABLE, "1")
    same_bank(fresh(MINI_BANK), validated)
    templating.environment.cache_clear()
    render_html(score_audit(validated, load_audit(ROOT / MINI_AUDIT, validated)))
    assert not cache_home.exists()


# ---------------------------------------------------------------------------------------------
# the template cache


def test_reports_from_compiled_templates_match_the_golden_files(cache_home: Path) -> None:
    bank = fresh(MINI_BANK)
    result = score_audit(bank, load_audit(ROOT / MINI_AUDIT, bank, display=MINI_AUDIT))
    golden_html = (GOLDEN_DIR / "mini.html").read_text(encoding="utf-8")
    golden_md = (GOLDEN_DIR / "mini.md").read_text(encoding="utf-8")
    assert render_html(result) == golden_html  # compiles, and stores
    assert render_markdown(result) == golden_md
    stored = entries(cache_home, "templates")
    assert len(stored) >= 3  # the HTML report, its style sheet, the Markdown report
    templating.environment.cache_clear()
    assert render_html(result) == golden_html  # from the stored code
    assert render_markdown(result) == golden_md
    for path in stored:  # damaged entries: compiled again, same report
        path.write_bytes(path.read_bytes()[:40])
    templating.environment.cache_clear()
    assert render_html(result) == golden_html
    assert render_markdown(result) == golden_md


# ---------------------------------------------------------------------------------------------
# the command line


def test_the_cli_gives_the_same_output_cold_warm_and_with_a_damaged_cache(
    tmp_path: Path,
) -> None:
    home = tmp_path / "cli-cache"
    env = {"XDG_CACHE_HOME": str(home)}
    args = ("report", str(DEMO), "--format", "html")
    cold = run_cli(*args, env={**env, cache.ENV_DISABLE: "1"})
    assert cold.returncode == 0, cold.stderr
    assert not home.exists()
    first = run_cli(*args, env=env)
    second = run_cli(*args, env=env)
    assert (first.returncode, second.returncode) == (0, 0)
    assert first.stdout == second.stdout == cold.stdout
    assert entries(home / "ic-audit", "banks") and entries(home / "ic-audit", "templates")
    for path in (home / "ic-audit").rglob("*"):
        if path.is_file():
            path.write_bytes(b"garbage")
    damaged = run_cli(*args, env=env)
    assert damaged.returncode == 0, damaged.stderr
    assert damaged.stdout == cold.stdout
    assert damaged.stderr == cold.stderr
