"""The HTML report in a real browser: renders with no console error, loads nothing from the
network, runs no script (even with hostile answers), and prints to PDF.

Uses the system Chromium (Debian package `chromium`) through Playwright's Python API, which
drives an existing browser binary without downloading one. Skipped where either is missing,
except in CI (CI=true), where `.ci/run` installs them and a skip would hide a regression.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO, MINI_BANK, ROOT, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed (pip install '.[test]')")
        pytest.skip("playwright is not installed")
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run should install it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


def _open(browser: Any, html: Path) -> tuple[Any, dict[str, list[str]]]:
    page = browser.new_page()
    seen: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(html.as_uri())
    page.wait_for_load_state("networkidle")
    return page, seen


@pytest.mark.parametrize("which", ["demo", "hostile"])
def test_report_renders_offline_without_errors_and_prints(
    browser: Any, tmp_path: Path, which: str
) -> None:
    html = tmp_path / "report.html"
    if which == "demo":
        args = ["report", str(DEMO), "-o", str(html)]
    else:
        args = [
            "report",
            str(ROOT / "tests/data/mini_audit.yaml"),
            "--bank",
            str(MINI_BANK),
            "-o",
            str(html),
        ]
    assert run_cli(*args).returncode == 0
    page, seen = _open(browser, html)
    assert seen["console"] == [] and seen["errors"] == [] and seen["dialogs"] == []
    assert seen["requests"] == [html.as_uri()]
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    assert page.evaluate("document.querySelectorAll('svg').length") >= 3
    hrefs = page.evaluate(
        "[...document.querySelectorAll('[href]')].map(a => a.getAttribute('href'))"
    )
    assert all(h.startswith(("#", "http://", "https://", "mailto:")) for h in hrefs), hrefs
    assert not any(h.lower().startswith("javascript:") for h in hrefs)
    assert page.title()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (tmp_path / "report.pdf").write_bytes(pdf)
    page.close()


# Elements sticking out past the viewport's right edge, other than inside a table or a chart's
# figure (a table or chart wider than a phone scrolls inside itself: `overflow-x: auto`).
_OVERFLOWING = """w => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > w + 0.5
                 && !e.parentElement.closest('table, .chart-figure'))
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""

# Each chart's smallest text as rendered, in CSS pixels: its font size in SVG units times the
# scale the SVG is drawn at (its rendered width over its viewBox width).
_CHART_TEXT_PX = """() => [...document.querySelectorAll('svg.chart')].map(s => {
    const scale = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
    const sizes = [...s.querySelectorAll('text')]
        .map(t => parseFloat(getComputedStyle(t).fontSize));
    return [s.getAttribute('class'), scale * Math.min(...sizes)];
})"""

# Scrolling boxes (tables, chart figures) whose content is cut off, with what shows it scrolls:
# their overflow and their background (the edge shadows).
_SCROLLERS = """() => [...document.querySelectorAll('table, .chart-figure')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => [e.tagName.toLowerCase(), getComputedStyle(e).overflowX,
               getComputedStyle(e).backgroundImage])"""


@pytest.mark.parametrize("page_kind", ["report", "compare"])
@pytest.mark.parametrize("width", [360, 390])
def test_report_fits_a_phone_screen(
    browser: Any, tmp_path: Path, width: int, page_kind: str
) -> None:
    html = tmp_path / f"{page_kind}.html"
    if page_kind == "report":
        args = ["report", str(DEMO), "-o", str(html)]
    else:
        history = sorted((ROOT / "examples" / "history").glob("2026-Q*.yaml"))
        args = ["compare", *map(str, history), str(DEMO), "--format", "html", "-o", str(html)]
    assert run_cli(*args).returncode == 0
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(html.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(_OVERFLOWING, width) == []
    wide = page.evaluate(
        "[...document.querySelectorAll('table')].filter(t => t.scrollWidth > t.clientWidth)"
        ".map(t => getComputedStyle(t).overflowX)"
    )
    assert all(o in ("auto", "scroll") for o in wide), wide
    # Charts keep readable text (they scroll sideways rather than shrink) ...
    charts = page.evaluate(_CHART_TEXT_PX)
    assert len(charts) >= 2
    assert all(px >= 9 for _, px in charts), charts
    # ... and whatever is cut at the right edge scrolls and shows that it does.
    scrollers = page.evaluate(_SCROLLERS)
    assert any(kind == "figure" for kind, _, _ in scrollers), scrollers
    for kind, overflow, background in scrollers:
        assert overflow in ("auto", "scroll") and "gradient" in background, (kind, background)
    if page_kind == "compare":
        legend = page.evaluate(
            "[...document.querySelectorAll('svg.trend text')].map(t => t.textContent)"
        )
        assert any(text.startswith("Unwanted goal drift") for text in legend)
    page.close()
