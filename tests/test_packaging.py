"""The wheel carries the bank, templates and example, and works from any directory.

Builds the wheel, installs it into a fresh virtual environment and runs the console script from
an unrelated directory; then installs the checkout in editable mode into the same environment
and runs it again (the resolver must find the top-level data there too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.packaging


def _run(cmd: list[str], cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        **kw,  # type: ignore[call-overload]
    )


def test_wheel_and_editable_install_work_from_another_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(dist.glob("ic_audit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ic_audit/_data/questions/bank.yaml" in names
    assert any(n.startswith("ic_audit/_data/report_templates/") for n in names)
    assert "ic_audit/_data/examples/demo-audit.yaml" in names
    # The demo's audit history, which `demo -o` compares with the demo audit.
    for quarter in ("2026-Q1", "2026-Q2", "2026-Q3"):
        assert f"ic_audit/_data/examples/history/{quarter}.yaml" in names
    for evidence in ("2026-Q2-drills.csv", "2026-Q3-drills.csv", "2026-Q3-drift-reviews.jsonl"):
        assert f"ic_audit/_data/examples/history/evidence/{evidence}" in names
    for fmt in ("html", "md"):  # compiled at build time (hatch_build.py)
        assert f"ic_audit/_data/compiled_templates/{fmt}/manifest.json" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    script = env_dir / "bin" / "ic-audit"
    installed = _run([str(py), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _check_installed(script, py, elsewhere)
    assert _loaders(py, elsewhere) == "ModuleLoader ModuleLoader"
    from_wheel = [
        (elsewhere / "out" / n).read_text() for n in ("demo-report.html", "demo-report.md")
    ]

    editable = _run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)], cwd=tmp_path
    )
    assert editable.returncode == 0, editable.stderr
    _check_installed(script, py, elsewhere)
    assert _loaders(py, elsewhere) == "FileSystemLoader FileSystemLoader"
    from_source = [
        (elsewhere / "out" / n).read_text() for n in ("demo-report.html", "demo-report.md")
    ]
    assert from_wheel == from_source


def _loaders(py: Path, cwd: Path) -> str:
    """Which loader the built-in templates come through: precompiled modules or source."""
    code = (
        "from ic_audit.render import jinja_reports as t; "
        "print(*(type(t.environment(f).loader).__name__ for f in ('html', 'md')))"
    )
    out = _run([str(py), "-c", code], cwd=cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _check_installed(script: Path, py: Path, cwd: Path) -> None:
    version = _run([str(script), "--version"], cwd=cwd)
    assert version.returncode == 0 and version.stdout.startswith("ic-audit "), version.stderr
    listed = _run([str(script), "questions", "--format", "json"], cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["bank"]["id"] == "ic-core"
    out = cwd / "out"
    demo = _run([str(py), "-m", "ic_audit", "demo", "-o", str(out)], cwd=cwd)
    assert demo.returncode == 0, demo.stderr
    assert (out / "demo-report.html").read_text().startswith("<!DOCTYPE html>")
    assert "# Instrumental convergence risk report" in (out / "demo-report.md").read_text()
    for fmt in ("md", "html", "json"):  # the installed comparison is the checkout's, byte for byte
        golden = ROOT / "tests" / "golden" / f"demo-compare.{fmt}"
        assert (out / f"demo-compare.{fmt}").read_bytes() == golden.read_bytes()
