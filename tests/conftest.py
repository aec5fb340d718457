"""Shared test helpers: banks, audits built from plain dicts, and the real CLI in a subprocess."""

from __future__ import annotations

import atexit
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

ROOT = Path(__file__).resolve().parent.parent

# Characters a user's file may hold in its text (`ic_audit.loading.refused_character`): no lone
# surrogates, noncharacters (unassigned, to hypothesis) or control characters but tab, newline
# and carriage return. Strategies for valid text draw from these.
FILE_CHARS = st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\r")
MINI_BANK = ROOT / "tests" / "data" / "mini_bank"
REAL_BANK = ROOT / "questions"
DEMO = ROOT / "examples" / "demo-audit.yaml"


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
