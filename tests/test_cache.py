"""The on-disk cache (validated banks, compiled templates): where it lives, that it is safe, and
that it never changes a result.

Every test points ``XDG_CACHE_HOME`` at its own temporary directory (the autouse fixture), so
nothing here reads or writes the real cache in the user's home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ic_audit import cache
from ic_audit.answers import load_audit
from ic_audit.bank import Bank, load_bank
from ic_audit.bank import cache_codec as bank_codec
from ic_audit.bank import load as bank_module
from ic_audit.errors import UserError
from ic_audit.render import jinja_reports as templating
from ic_audit.render import render_json
from ic_audit.render.html import render_html
from ic_audit.render.markdown import render_markdown
from ic_audit.scoring import score_audit
from tests.conftest import DEMO, MINI_BANK, REAL_BANK, run_main
from tests.regen_golden import GOLDEN_DIR, MINI_AUDIT, ROOT

BANKS = bank_codec._CACHE_NAMESPACE


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
    assert a.red_flags == b.red_flags
    assert a.exposure == b.exposure
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
    # Parts are framed, not concatenated, and keep their type.
    assert cache.fingerprint("ab", "c") != cache.fingerprint("a", "bc")
    assert cache.fingerprint(1) != cache.fingerprint("1")


def test_the_bank_key_changes_with_the_bank_the_tool_and_pydantic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pydantic

    sha = "0" * 64
    base = bank_codec._bank_cache_key(sha)
    assert bank_codec._bank_cache_key("1" + sha[1:]) != base
    monkeypatch.setattr(cache, "__version__", "999.0")
    tool = bank_codec._bank_cache_key(sha)
    monkeypatch.undo()
    monkeypatch.setattr(pydantic, "VERSION", "2.0.0-other")
    other_pydantic = bank_codec._bank_cache_key(sha)
    monkeypatch.undo()
    assert len({base, tool, other_pydantic}) == 3
    assert bank_codec._bank_cache_key(sha) == base


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
    (stored,) = entries(cache_home, BANKS)
    cached = fresh(MINI_BANK)
    assert cached is not validated
    same_bank(cached, validated)
    audit = load_audit(ROOT / MINI_AUDIT, cached, display=MINI_AUDIT)
    result = score_audit(cached, audit)
    assert render_json(result) == render_json(score_audit(validated, audit))
    assert render_markdown(result) == (GOLDEN_DIR / "mini.md").read_text(encoding="utf-8")
    assert entries(cache_home, BANKS) == [stored]


def test_the_built_in_bank_from_the_cache_scores_the_demo_the_same(cache_home: Path) -> None:
    validated = fresh(None)
    cached = fresh(None)
    same_bank(cached, validated)
    assert cached.path == "(built-in bank)"
    audit = load_audit(DEMO, validated)
    assert render_json(score_audit(cached, audit)) == render_json(score_audit(validated, audit))


def test_a_cached_2_0_bank_keeps_every_new_field(cache_home: Path) -> None:
    # Exposure levels and floors, red-flag floors, roles, evidence tags, not_applicable options
    # and `replaces` mappings all come back from the JSON entry as they were validated.
    validated = fresh(ROOT / "tests" / "data" / "exposure_bank")
    assert entries(cache_home, BANKS)
    cached = fresh(ROOT / "tests" / "data" / "exposure_bank")
    assert cached is not validated
    same_bank(cached, validated)
    assert cached.exposure is not None and cached.exposure.levels[-1].rating_floor == "moderate"
    assert {q.role for q in cached.questions} == {"profile", "control", "observation"}
    real = fresh(None)
    real_cached = fresh(None)
    same_bank(real_cached, real)
    assert any(q.replaces for q in real_cached.questions)
    assert any(o.evidence == "unknown" for q in real_cached.questions for o in q.options or [])


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
    assert len(entries(cache_home, BANKS)) == 2


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
    (stored,) = entries(cache_home, BANKS)
    good = stored.read_bytes()
    stored.write_bytes(good[: len(good) // 2])
    same_bank(fresh(MINI_BANK), validated)
    assert stored.read_bytes() == good


def test_an_entry_that_is_not_this_bank_is_ignored(tmp_path: Path, cache_home: Path) -> None:
    import json

    real = fresh(REAL_BANK)
    mini = fresh(MINI_BANK)
    key = bank_codec._bank_cache_key(real.sha256)
    assert (cache_home / BANKS / key).is_file()
    # A well-formed entry whose bank has other contents, under the real bank's key.
    cache.write(BANKS, key, json.dumps(bank_codec._bank_to_data(mini)).encode())
    same_bank(fresh(REAL_BANK), real)


def test_a_cached_bank_is_read_without_validating_again(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated = fresh(REAL_BANK)

    def no_validation(*args: object) -> Bank:
        raise AssertionError("validated again: the cache entry was not used")

    monkeypatch.setattr(bank_module, "_validate_bank", no_validation)
    same_bank(fresh(REAL_BANK), validated)


def _entry_data(cache_home: Path) -> tuple[Path, dict[str, Any]]:
    import json

    (stored,) = entries(cache_home, BANKS)
    payload = stored.read_bytes()
    magic = cache._MAGIC
    return stored, json.loads(payload[len(magic) + 32 :])


def _rewrite(stored: Path, payload: bytes) -> None:
    """Replace an entry as an attacker would: a valid frame, its digest recomputed."""
    import hashlib

    stored.write_bytes(cache._MAGIC + hashlib.sha256(payload).digest() + payload)
    stored.chmod(0o600)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def damage(data: Any) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return damage


def _drop(path: tuple[Any, ...]) -> Any:
    def damage(data: Any) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return damage


Q0 = ("sections", 0, "questions", 0)


@pytest.mark.parametrize(
    "damage",
    [
        _set(("format",), "ic-audit-bank/0"),
        _set(("sha256",), "0" * 64),
        _set(("sections",), {}),
        _set(("sections",), []),
        _set(("meta", "id"), 7),
        _set(("meta", "rating_bands", "high"), "50"),
        _drop(("meta", "title")),
        _set(("meta", "surprise"), 1),
        _set((*Q0, "type"), "essay"),
        _set((*Q0, "weight"), 0.0),  # out of its range: weight > 0
        _set((*Q0, "weight"), 2),  # an int where validation leaves a float
        _set((*Q0, "options"), "yes, no"),
        _set((*Q0, "options", 0), {"value": "x"}),
        _set((*Q0, "options", 0, "risk"), [0.5]),
        _set((*Q0, "section"), "elsewhere"),
        _set((*Q0, "options"), []),  # well-formed, but breaks a rubric rule
        _set((*Q0, "when"), {"question": "NOPE-1", "in": None, "at_least": None}),
    ],
    ids=lambda f: "",
)
def test_a_wrong_shape_bank_entry_is_a_miss_and_the_bank_is_right(
    cache_home: Path, damage: Any
) -> None:
    import json

    validated = fresh(MINI_BANK)
    stored, data = _entry_data(cache_home)
    good = stored.read_bytes()
    damage(data)
    _rewrite(stored, json.dumps(data).encode())
    same_bank(fresh(MINI_BANK), validated)
    assert stored.read_bytes() == good  # a miss: validated, and the entry written again
    _rewrite(stored, json.dumps(data).encode())
    audit = load_audit(ROOT / MINI_AUDIT, validated, display=MINI_AUDIT)
    bank_module._BANK_CACHE.clear()
    cli = run_main(
        "score",
        str(ROOT / MINI_AUDIT),
        "--bank",
        str(MINI_BANK),
        "-f",
        "json",
        env={"XDG_CACHE_HOME": str(cache_home.parent)},
    )
    assert cli.returncode in (0, 1), cli.stderr
    assert (
        json.loads(cli.stdout)["overall"]
        == json.loads(render_json(score_audit(validated, audit)))["overall"]
    )


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b"[]", b"null", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b'{"a": NaN}'],
    ids=["empty", "truncated", "list", "null", "not-utf8", "deep", "other"],
)
def test_a_malformed_json_entry_is_a_miss(cache_home: Path, payload: bytes) -> None:
    validated = fresh(MINI_BANK)
    stored, _ = _entry_data(cache_home)
    good = stored.read_bytes()
    _rewrite(stored, payload)
    same_bank(fresh(MINI_BANK), validated)
    assert stored.read_bytes() == good


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
# templates: never cached as code


def test_reports_keep_nothing_in_the_cache_but_the_bank(cache_home: Path) -> None:
    bank = fresh(MINI_BANK)
    result = score_audit(bank, load_audit(ROOT / MINI_AUDIT, bank, display=MINI_AUDIT))
    assert render_html(result) == (GOLDEN_DIR / "mini.html").read_text(encoding="utf-8")
    assert render_markdown(result) == (GOLDEN_DIR / "mini.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in cache_home.iterdir()) == [BANKS]


def _golden_reports() -> tuple[str, str]:
    bank = fresh(MINI_BANK)
    result = score_audit(bank, load_audit(ROOT / MINI_AUDIT, bank, display=MINI_AUDIT))
    templating.environment.cache_clear()
    return render_html(result), render_markdown(result)


def test_precompiled_templates_give_the_golden_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    templating.compile_builtin(tmp_path / "compiled")
    monkeypatch.setattr(templating, "COMPILED_DIR", tmp_path / "compiled")
    templating.environment.cache_clear()
    assert isinstance(templating.environment("html").loader, jinja2.ModuleLoader)
    assert isinstance(templating.environment("md").loader, jinja2.ModuleLoader)
    assert _golden_reports() == (
        (GOLDEN_DIR / "mini.html").read_text(encoding="utf-8"),
        (GOLDEN_DIR / "mini.md").read_text(encoding="utf-8"),
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.update(jinja2="0.0-another"),
        lambda m: m["templates"].update({name: "0" * 64 for name in m["templates"]}),
        lambda m: m.clear(),
    ],
    ids=["other-jinja2", "other-template-source", "empty-manifest"],
)
def test_precompiled_templates_not_made_from_these_sources_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any
) -> None:
    import json

    import jinja2

    root = tmp_path / "compiled"
    templating.compile_builtin(root)
    for fmt in ("html", "md"):
        manifest_path = root / fmt / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        change(manifest)
        manifest_path.write_text(json.dumps(manifest))
        for module in (root / fmt).glob("tmpl_*.py"):
            module.write_text("raise SystemExit('stale compiled template loaded')\n")
    monkeypatch.setattr(templating, "COMPILED_DIR", root)
    templating.environment.cache_clear()
    assert isinstance(templating.environment("html").loader, jinja2.FileSystemLoader)
    assert _golden_reports()[1] == (GOLDEN_DIR / "mini.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# the command line


def test_the_cli_gives_the_same_output_cold_warm_and_with_a_damaged_cache(
    tmp_path: Path,
) -> None:
    home = tmp_path / "cli-cache"
    env = {"XDG_CACHE_HOME": str(home)}
    args = ("report", str(DEMO), "--format", "html")
    cold = run_main(*args, env={**env, cache.ENV_DISABLE: "1"})
    assert cold.returncode == 0, cold.stderr
    assert not home.exists()
    first = run_main(*args, env=env)
    second = run_main(*args, env=env)
    assert (first.returncode, second.returncode) == (0, 0)
    assert first.stdout == second.stdout == cold.stdout
    assert entries(home / "ic-audit", BANKS)
    for path in (home / "ic-audit").rglob("*"):
        if path.is_file():
            path.write_bytes(b"garbage")
    damaged = run_main(*args, env=env)
    assert damaged.returncode == 0, damaged.stderr
    assert damaged.stdout == cold.stdout
    assert damaged.stderr == cold.stderr


def run_bounded(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real entry point, killed after 30 s: a blocked run fails the test, never hangs it."""
    full_env = {**os.environ, "NO_COLOR": "1", **env}
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    full_env.pop(cache.ENV_DISABLE, None)
    return subprocess.run(
        [sys.executable, "-m", "ic_audit", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=30,
    )


class _Payload:
    """Unpickling this creates the marker file: proof that a cache entry ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_a_cache_entry_rewritten_with_code_never_runs_it(tmp_path: Path) -> None:
    import hashlib
    import pickle

    import jinja2.bccache

    home = tmp_path / "xdg"
    env = {"XDG_CACHE_HOME": str(home)}
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Payload(marker))
    html = ("report", str(DEMO), "--format", "html")
    md = ("report", str(DEMO), "--format", "md")
    clean = [run_bounded(*cmd, env={cache.ENV_DISABLE: "1"}) for cmd in (html, md)]
    for cmd in (html, md, ("questions",)):
        assert run_bounded(*cmd, env=env).returncode == 0
    root = home / "ic-audit"
    # What earlier releases kept, as an attacker would leave it for them.
    (root / "banks").mkdir(exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "banks" / "planted").write_bytes(b"")
    (root / "templates" / "planted").write_bytes(b"")
    files = [p for p in root.rglob("*") if p.is_file()]
    for path in files:
        # Jinja2's bytecode format starts with its magic, then unpickles a checksum.
        payload = (jinja2.bccache.bc_magic if "templates" in path.parts else b"") + evil
        path.write_bytes(cache._MAGIC + hashlib.sha256(payload).digest() + payload)
        path.chmod(0o600)
    runs = [
        run_bounded(*cmd, env=env) for cmd in (html, md, ("questions",), ("validate", str(DEMO)))
    ]
    assert not marker.exists(), "a cache entry ran code"
    assert [r.returncode for r in runs] == [0, 0, 0, 0], [r.stderr for r in runs]
    assert [runs[0].stdout, runs[1].stdout] == [c.stdout for c in clean]
    assert not (root / "banks").exists() and not (root / "templates").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_the_cache_never_blocks_a_run(tmp_path: Path) -> None:
    home = tmp_path / "xdg"
    env = {"XDG_CACHE_HOME": str(home)}
    html = ("report", str(DEMO), "--format", "html")
    first = run_bounded(*html, env=env)
    assert first.returncode == 0, first.stderr
    root = home / "ic-audit"
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files
    for path in files:
        path.unlink()
        os.mkfifo(path, 0o600)
    for name in ("banks", "templates"):
        if not (root / name).exists():
            os.mkfifo(root / name, 0o600)
    again = run_bounded(*html, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no links here")
def test_a_link_in_the_cache_is_not_followed(tmp_path: Path, cache_home: Path) -> None:
    validated = fresh(MINI_BANK)
    stored, _ = _entry_data(cache_home)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(stored.read_bytes())
    elsewhere.chmod(0o600)
    stored.unlink()
    stored.symlink_to(elsewhere)
    assert cache.read(BANKS, stored.name) is None
    same_bank(fresh(MINI_BANK), validated)
