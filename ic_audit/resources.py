"""Where the shipped bank, templates and example live, installed or in a checkout.

A wheel carries them as ``ic_audit/_data/<name>`` (hatchling force-include); an editable install
or a plain checkout has them at the repository's top level. One resolver serves both.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.exists():
        return packaged
    checkout = _PACKAGE.parent / name
    if checkout.exists():
        return checkout
    raise FileNotFoundError(
        f"ic-audit's {name!r} data is missing from {packaged} and {checkout}; reinstall ic-audit"
    )


def demo_audit_path() -> Path:
    return data_dir("examples") / "demo-audit.yaml"


def demo_history_paths() -> list[Path]:
    """The demo system's earlier quarterly audits (`ic-audit demo` compares them with the demo)."""
    return sorted((data_dir("examples") / "history").glob("*.yaml"))
