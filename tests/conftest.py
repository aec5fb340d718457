"""Shared test helpers: banks, audits built from plain dicts, and the CLI, in a subprocess
(`run_cli`) or in this process through `ic_audit.cli.main` (`run_main`)."""

from __future__ import annotations

import atexit
import gc
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from ic_audit.answers import Audit, audit_from_document
from ic_audit.bank import Bank, load_bank
from ic_audit.loading import Document

# Tests and the CLI runs they start never touch the real ~/.cache (see ic_audit/cache.py).
_CACHE_HOME = tempfile.mkdtemp(prefix="ic-audit-tests-")
atexit.register(shutil.rmtree, _CACHE_HOME, ignore_errors=True)
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME

# With PYTHONDONTWRITEBYTECODE set (as on the development machine), every `python -m ic_audit`
# and walkthrough a test starts would compile each module anew (a quarter of its time). Their
# bytecode goes to a directory of this session instead: written once, never into the checkout.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    _PYCACHE = tempfile.mkdtemp(prefix="ic-audit-tests-pycache-")
    atexit.register(shutil.rmtree, _PYCACHE, ignore_errors=True)
    os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE

ROOT = Path(__file__).resolve().parent.parent

# Characters a user's file may hold in its text (`ic_audit.loading.refused_character`): no lone
# surrogates, noncharacters (unassigned, to hypothesis) or control characters but tab, newline
# and carriage return. Strategies for valid text draw from these.
FILE_CHARS = st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\r")
MINI_BANK = ROOT / "tests" / "data" / "mini_bank"
REAL_BANK = ROOT / "questions"
DEMO = ROOT / "examples" / "demo-audit.yaml"
# Microsoft's SARIF 2.1.0 schema, vendored with its licence (tests/data/sarif/NOTICE.md).
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif" / "sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="session")
def sarif_schema() -> dict[str, Any]:
    """The SARIF 2.1.0 JSON schema, read from the vendored copy (no network)."""
    return dict(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def real_bank() -> Bank:
    return load_bank(REAL_BANK)


@pytest.fixture(scope="session")
def mini_bank() -> Bank:
    return load_bank(MINI_BANK)


def make_audit(bank: Bank, answers: dict[str, Any], **meta: Any) -> Audit:
    """An Audit from plain values, through the same validation as a file."""
    data: dict[str, Any] = {"system": {"name": "Test system"}, "audit_date": "2026-10-01"}
    data.update(meta)
    data["answers"] = answers
    return audit_from_document(Document("test.yaml", data, {}, repr(data).encode()), bank)


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real entry point, as a user's shell would."""
    # A test never writes to the real job summary of the CI running it, unless it asks to.
    inherited = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    full_env = {**inherited, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ic_audit", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_main(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `ic_audit.cli.main(args)` in this process, as `run_cli` would run the real one.

    For behaviour that does not depend on a real process (no signals, terminals, broken pipes,
    special files, interpreter start-up or stdout encoding): the same result in a fraction of
    the time. Everything `main` can touch is put back afterwards: standard streams, the
    environment, the current directory, the in-memory bank cache and the collector's state.
    """
    from ic_audit.cli import main

    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr, sys.argv)
    out, err = io.BytesIO(), io.BytesIO()
    # As a child's pipes are: UTF-8 text over bytes, stderr never failing on a character.
    stdout = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True)
    stderr = io.TextIOWrapper(
        err, encoding="utf-8", errors="backslashreplace", newline="\n", write_through=True
    )
    code: int | str | None
    try:
        os.environ.pop("GITHUB_STEP_SUMMARY", None)
        os.environ.update({"NO_COLOR": "1", **(env or {})})
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.StringIO(input or "")
        sys.stdout, sys.stderr = stdout, stderr
        sys.argv = ["ic-audit", *args]
        _clear_bank_cache()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
        else:  # pragma: no cover - main always exits
            code = 0
    finally:
        sys.stdin, sys.stdout, sys.stderr, sys.argv = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        _clear_bank_cache()
        # `main` freezes what is alive (to spare a process's exit a last collection); a test
        # process lives on, so hand those objects back to the collector.
        gc.unfreeze()
        if not gc.isenabled():  # pragma: no cover - a paused block left it off
            gc.enable()
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    return subprocess.CompletedProcess(
        ["ic-audit", *args], returncode, _as_read(out.getvalue()), _as_read(err.getvalue())
    )


def _as_read(data: bytes) -> str:
    # What `subprocess.run(..., text=True)` hands back: decoded, with universal newlines.
    return data.decode("utf-8", errors="strict").replace("\r\n", "\n").replace("\r", "\n")


def _clear_bank_cache() -> None:
    # A test that rewrites a bank in place must not get the bank an earlier run kept in memory.
    # Found by name, wherever the loader lives.
    for name, module in list(sys.modules.items()):
        if name.startswith("ic_audit"):
            cache = getattr(module, "_BANK_CACHE", None)
            if isinstance(cache, dict):
                cache.clear()
