"""Regenerate the report golden files in tests/golden/.

Run from the repository root after an intended change to a report template or renderer:

    python -m tests.regen_golden

then review the diff of tests/golden/ like any other code change. `tests/test_render.py`
compares the renderers' output with these files byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from ic_audit.answers import load_audit
from ic_audit.bank import load_bank
from ic_audit.render.html import render_html
from ic_audit.render.markdown import render_markdown
from ic_audit.result import AuditResult
from ic_audit.scoring import score_audit

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden"
COMMAND = "python -m tests.regen_golden"

# Paths as the result shows them: relative to the repository root, whatever the cwd.
MINI_BANK = "tests/data/mini_bank"
MINI_AUDIT = "tests/data/mini_audit.yaml"


def mini_result() -> AuditResult:
    """The scored mini audit: every question type, a follow-up, and hostile user text."""
    bank = load_bank(ROOT / MINI_BANK)
    audit = load_audit(ROOT / MINI_AUDIT, bank, display=MINI_AUDIT)
    return score_audit(bank, audit)


def demo_compare_outputs() -> dict[str, str]:
    """The demo system's shipped audit history compared (`ic-audit demo` writes the same)."""
    from ic_audit.compare import demo_comparison
    from ic_audit.render.compare_report import COMPARE_FORMATS

    data = demo_comparison(load_bank(ROOT / "questions"))
    return {f"demo-compare.{name}": f.render(data) for name, f in COMPARE_FORMATS.items()}


def golden_outputs() -> dict[str, str]:
    """File name in tests/golden/ -> the text the renderers produce now."""
    result = mini_result()
    return {
        "mini.md": render_markdown(result),
        "mini.html": render_html(result),
        **demo_compare_outputs(),
    }


def main() -> None:
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in golden_outputs().items():
        path = GOLDEN_DIR / name
        data = text.encode("utf-8")
        if path.exists() and path.read_bytes() == data:
            print(f"unchanged {path.relative_to(ROOT)}")
            continue
        path.write_bytes(data)
        print(f"wrote     {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
