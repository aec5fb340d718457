"""The Markdown and HTML reports: golden files, content, and escaping of untrusted text.

Golden files are regenerated with `python -m tests.regen_golden` (see tests/regen_golden.py).
"""

from __future__ import annotations

import difflib
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape as html_escape

from ic_audit.answers import audit_from_document
from ic_audit.bank import Bank, load_bank
from ic_audit.loading import Document
from ic_audit.render import charts
from ic_audit.render.escape import clean_text, md_cell, md_href, md_link, md_text, safe_href
from ic_audit.render.html import render_html
from ic_audit.render.markdown import render_markdown
from ic_audit.result import AuditResult
from ic_audit.scoring import score_audit
from tests.conftest import DEMO, FILE_CHARS, run_cli
from tests.regen_golden import COMMAND, GOLDEN_DIR, golden_outputs, mini_result

ROOT = GOLDEN_DIR.parent.parent
MINI_BANK = ROOT / "tests" / "data" / "mini_bank"

SECTION_HEADINGS = [
    "Executive summary",
    "Red flags",
    "Key metrics",
    "Why this rating",
    "Findings",
    "Section breakdown",
    "Unanswered questions",
    "Answers",
    "Audit record",
    "Sign-off",
]
HOSTILE_NOTE = "<script>alert(1)</script> ![img](http://x/y.png) | cell"


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank(MINI_BANK)


@pytest.fixture(scope="module")
def mini() -> AuditResult:
    return mini_result()


@pytest.fixture(scope="module")
def mini_md(mini: AuditResult) -> str:
    return render_markdown(mini)


@pytest.fixture(scope="module")
def mini_html(mini: AuditResult) -> str:
    return render_html(mini)


def audit_result(bank: Bank, data: dict[str, Any]) -> AuditResult:
    doc = Document("audit.yaml", data, {}, repr(data).encode())
    return score_audit(bank, audit_from_document(doc, bank))


def base_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "system": {"name": "Plain system"},
        "audit_date": "2026-10-01",
        "answers": {"GD-01": "yes", "CT-01": "named_role", "CT-03": ["stop"], "AD-01": 2},
    }
    data.update(changes)
    return data


class Tags(HTMLParser):
    """Records start tags with attributes, and checks that every element is closed in order."""

    VOID = frozenset({"meta", "br", "col", "path", "line", "rect", "circle", "hr", "img", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, attrs))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    assert not parser.problems, parser.problems[:5]
    assert parser.stack == [], f"unclosed elements: {parser.stack}"
    return parser


def hrefs(tags: Tags) -> list[str]:
    return [v or "" for _t, attrs in tags.starts for k, v in attrs if k == "href"]


def unescaped(line: str, chars: str) -> int:
    """How many of ``chars`` in a Markdown line are not backslash-escaped."""
    count, i = 0, 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] in chars:
            count += 1
        i += 1
    return count


def assert_markdown_inert(md: str, baseline: str) -> None:
    """Source-level invariants of a Markdown report whose user text may be hostile (what
    GitHub's renderer makes of it is checked in test_github_renders_user_text_as_text)."""
    assert "<script" not in md.lower()
    assert re.sub(r"<br>", "", md).count("<") == 0, "raw HTML other than <br>"
    assert not re.search(r"&(?!(amp|lt|gt|#36|#8288);)", md), "stray entity"
    assert len(md.splitlines()) == len(baseline.splitlines())


# ---------------------------------------------------------------------------------------------
# golden files and determinism


@pytest.mark.parametrize("name", ["mini.md", "mini.html"])
def test_golden_files_match(name: str) -> None:
    actual = golden_outputs()[name]
    path = GOLDEN_DIR / name
    assert path.exists(), f"{path} is missing; run `{COMMAND}`"
    expected = path.read_bytes().decode("utf-8")
    if actual.encode("utf-8") != path.read_bytes():
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    f"tests/golden/{name}",
                    "rendered now",
                )
            )[:60]
        )
        pytest.fail(
            f"{name} differs from the golden file. If the change is intended, run `{COMMAND}` "
            f"and review the diff of tests/golden/.\n{diff}",
            pytrace=False,
        )


def test_rendering_is_deterministic(mini: AuditResult) -> None:
    again = AuditResult.model_validate_json(mini.model_dump_json())
    assert render_markdown(mini) == render_markdown(mini) == render_markdown(again)
    assert render_html(mini) == render_html(mini) == render_html(again)


def test_the_only_date_is_the_audit_date(mini: AuditResult, mini_md: str, mini_html: str) -> None:
    # The next reassessment is derived from it (2026-10-01 + 91 days), never from the clock.
    for text in (mini_md.replace("\\", ""), mini_html):
        assert set(re.findall(r"\b\d{4}-\d\d-\d\d\b", text)) == {"2026-10-01", "2026-12-31"}
    undated = mini.model_copy(update={"audit_date": None})
    assert "| Audit date | not given |" in render_markdown(undated)
    assert '<dt>Audit date</dt><dd class="text">not given</dd>' in render_html(undated)


# ---------------------------------------------------------------------------------------------
# content


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_every_section_heading_in_order(fmt: str, mini_md: str, mini_html: str) -> None:
    text = mini_md if fmt == "md" else mini_html
    if fmt == "md":
        found = [line.lstrip("# ") for line in text.splitlines() if line.startswith("## ")]
    else:
        found = re.findall(r"<h2[^>]*>([^<]+)</h2>", text)
    assert found == SECTION_HEADINGS


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_content(fmt: str, mini: AuditResult, mini_md: str, mini_html: str) -> None:
    text = mini_md if fmt == "md" else mini_html
    # Markdown escapes punctuation; compare on what a reader sees.
    plain = re.sub(r"\\(.)", r"\1", text) if fmt == "md" else text
    assert "Instrumental convergence risk report: Refund &lt;agent&gt; &amp; co" in plain
    for needle in (
        mini.bank.id,
        mini.bank.version,
        mini.bank.sha256,
        mini.answers_sha256,
        "tests/data/mini_audit.yaml",
        "Dana *Ruiz*",
        "Internal audit",
        "2026-10-01",
        "78.3",
        "CRITICAL",
        "Score 78.3 is critical (75 and above).",
        "6 of 7 applicable questions answered",
        "Nobody has clear authority to shut it down.",
        "Name one role with authority to stop it.",
        "Drill every intervention at production load each quarter.",
        "AD-03",
        "(total weight 12) = 100 × 9.4 / 12 = 78.3",
        "score = 100 × Σ(weight × risk) / total weight",
        "Reviewed by",
        "Decision",
        "Generated by ic-audit",
        "docs/rubric.md",
    ):
        assert needle in plain, needle
    for metric in mini.metrics.values():
        assert metric.title in plain
        assert f"{metric.score:.1f}" in plain
    for section in mini.sections:
        assert section.title in plain
    for finding in mini.findings:
        assert finding.recommendation in plain
    # Findings keep the severity order the scorer gave them.
    positions = [
        plain.index(f.title, plain.index("Findings</h2>" if fmt == "html" else "## Findings"))
        for f in mini.findings
    ]
    assert positions == sorted(positions)


def test_what_to_do_first_lists_top_three(mini: AuditResult, mini_md: str) -> None:
    summary = mini_md.split("## Executive summary")[1].split("## Red flags")[0]
    first = summary.split("**What to do first:**")[1]
    items = [line for line in first.splitlines() if re.match(r"\d+\. ", line)]
    assert len(items) == 3
    for item, finding in zip(items, mini.findings[:3], strict=True):
        assert md_text(finding.recommendation) in item


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_escalation_is_explained(render: Any, mini: AuditResult) -> None:
    escalated = mini.model_copy(
        update={
            "overall": mini.overall.model_copy(
                update={
                    "score": 42.0,
                    "rating": "high",
                    "score_rating": "moderate",
                    "escalated_by": "1 red flag",
                }
            )
        }
    )
    text = render(escalated).replace("\\", "")
    assert "Score 42.0 is moderate (25 to below 50); raised to high by 1 red flag" in text


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_incomplete_audit_warns_and_lists_unanswered(render: Any, bank: Bank) -> None:
    result = audit_result(bank, base_data(answers={"GD-01": "no"}))
    assert not result.complete
    text = render(result).replace("\\", "")
    assert "Incomplete: 1 of 7 applicable questions answered" in text
    assert "counts as its riskiest answer" in text
    unanswered = text.split("Unanswered questions")[-1].split("Answers")[0]
    for qid in result.unanswered:
        assert qid in unanswered
    assert "All applicable questions answered" not in text


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_not_applicable_questions_are_listed(render: Any, bank: Bank) -> None:
    result = audit_result(bank, base_data())
    assert set(result.not_applicable) == {"CT-02", "AD-02"}
    text = render(result).replace("\\", "")
    assert re.search(
        r"Not applicable \(their conditions are not met; not scored\): "
        r"(<span class=\"qid\">)?CT-02",
        text,
    )
    assert "not applicable" in text.split("## Answers")[-1].split("Answers</h2>")[-1]


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_no_red_flags_and_no_findings(render: Any, bank: Bank) -> None:
    result = audit_result(
        bank,
        base_data(
            answers={
                "GD-01": "yes",
                "CT-01": "named_role",
                "CT-03": ["stop", "override", "rollback"],
                "AD-01": 1,
            }
        ),
    )
    assert result.overall.rating == "low" and not result.red_flags and not result.findings
    text = render(result)
    assert "No red flags." in text
    assert "No findings" in text


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_empty_audit_renders(render: Any, bank: Bank) -> None:
    result = audit_result(bank, {"system": {"name": "Empty"}, "answers": {}})
    text = render(result)
    assert "not given" in text
    assert "Incomplete" in text


# ---------------------------------------------------------------------------------------------
# escaping: the mini audit's hostile text


def test_markdown_hostile_text_is_inert(mini_md: str) -> None:
    assert "<script" not in mini_md.lower()
    assert "<b>" not in mini_md
    assert "](http://evil" not in mini_md
    assert "![" not in mini_md
    assert "&lt;script&gt;" in mini_md
    headings = [line for line in mini_md.splitlines() if line.startswith("#")]
    assert all(re.match(r"#{1,3} [A-Z]", h) for h in headings), headings
    assert not any("Payments" in h for h in headings)  # owner "# Payments team" is not a heading
    assert r"\# Payments team" in mini_md
    # Only evidence with an http(s)/mailto href becomes a link; the rest is text.
    links = re.findall(r"(?<!\\)\[(?:\\.|[^\]\\])*\]\(([^)]*)\)", mini_md)
    assert links == ["#red-flags", "https://wiki.example/runbook", "mailto:sec@example.org"]
    assert "javascript:alert(1)" in mini_md  # shown as text, readable as it was written
    # Bare URLs in user text are not autolinked by GitHub.
    assert "www.example.com" not in mini_md
    assert "http://" not in mini_md.replace("[https://wiki.example/runbook](", "")


def test_markdown_table_rows_keep_their_cells(mini_md: str) -> None:
    for line in mini_md.splitlines():
        if line.startswith("| CT-01 | Who can stop the system? | answered |"):
            assert unescaped(line, "|") == 7
            break
    else:
        pytest.fail("answer row of CT-01 not found")


def test_html_hostile_text_is_inert(mini_html: str) -> None:
    tags = parse_html(mini_html)
    assert "<script" not in mini_html.lower()
    assert "<b>" not in mini_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mini_html
    assert "Refund &lt;agent&gt; &amp; co" in mini_html
    names = {t for t, _a in tags.starts}
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "base", "form"}
    links = hrefs(tags)
    external = [h for h in links if not h.startswith("#")]
    assert external == ["https://wiki.example/runbook", "mailto:sec@example.org"]
    assert not any("javascript" in h.lower() for h in links)
    assert "javascript:alert(1)" in mini_html  # shown as text
    for _t, attrs in tags.starts:
        keys = {k for k, _v in attrs}
        assert not {k for k in keys if k.startswith("on")}, attrs
        assert "src" not in keys
        if dict(attrs).get("href", "#").startswith(("http", "mailto")):
            assert dict(attrs).get("rel") == "noopener noreferrer"


def test_html_is_self_contained(mini_html: str) -> None:
    parse_html(mini_html)
    lower = mini_html.lower()
    assert "<script" not in lower
    assert "@import" not in lower
    assert "url(" not in lower
    assert not re.search(r"\bsrc\s*=", lower)
    for m in re.finditer(r"\bhref\s*=\s*\"([^\"]*)\"", mini_html):
        assert m.group(1).startswith("#") or m.group(1) in {
            "https://wiki.example/runbook",
            "mailto:sec@example.org",
        }
    assert "Content-Security-Policy" in mini_html
    assert "@media print" in mini_html
    assert "@page" in mini_html


def test_html_has_accessible_charts(mini_html: str) -> None:
    assert mini_html.count("<svg") >= 3
    for svg in re.findall(r"<svg.*?</svg>", mini_html, re.S):
        assert 'role="img"' in svg and "aria-label=" in svg and "<title>" in svg
    gauge = re.search(r"<svg class=\"chart gauge\".*?</svg>", mini_html, re.S)
    assert gauge and "78.3" in gauge.group(0) and "CRITICAL" in gauge.group(0)
    bars = re.search(r"<svg class=\"chart bars\".*?</svg>", mini_html, re.S)
    assert bars and "83.3 / 100 · critical" in bars.group(0)


# ---------------------------------------------------------------------------------------------
# escape helpers and charts


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        # What the tool writes itself, and ordinary prose: unchanged.
        ("2026-11-29", "2026-11-29"),
        ("ic-core 2.0: Instrumental convergence", "ic-core 2.0: Instrumental convergence"),
        (
            "Refunds (above 400 EUR) wait; see RISK-412.",
            "Refunds (above 400 EUR) wait; see RISK-412.",
        ),
        ("snake_case, 2 * 3, a - b, C:\\Users\\x", "snake_case, 2 * 3, a - b, C:\\Users\\x"),
        ("Stop! #1 priority ~ now", "Stop! #1 priority ~ now"),
        # Structure, escaped where it would take effect.
        ("[click](http://evil.example)", "\\[click](http\\://evil.example)"),
        ("![x](y.png)", "!\\[x](y.png)"),
        ("*bold* _it_ `code` ~~del~~", "\\*bold\\* \\_it\\_ \\`code\\` \\~\\~del\\~\\~"),
        ("2*3*4 __init__", "2\\*3\\*4 \\_\\_init\\_\\_"),
        ("<b>x</b> & y", "&lt;b&gt;x&lt;/b&gt; &amp; y"),
        ("see www.example.com", "see www\\.example.com"),
        ("mail a@b.example", "mail a@&#8288;b.example"),
        ("a | b", "a \\| b"),
        ("$x^2$", "&#36;x^2&#36;"),
        ("back\\slash\\*", "back\\slash\\\\\\*"),
        ("ends in \\", "ends in \\\\"),
        # At the start of a line (a custom template may put it there).
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("12. item", "12\\. item"),
        ("3) item", "3\\) item"),
        ("---", "\\---"),
        ("==", "\\=="),
        ("      code", " code"),
        ("title ##", "title \\##"),
        ("hard break  ", "hard break "),
    ],
)
def test_md_text_escapes_only_where_needed(text: str, escaped: str) -> None:
    assert md_text(text) == escaped


def test_md_text_newlines_and_controls() -> None:
    assert md_text("a\nb\r\nc\u2028d") == "a b c d"
    assert md_text("# heading\n# again") == "\\# heading # again"
    assert md_cell("a\nb|c") == "a<br>b\\|c"
    assert md_cell("a\\\nb") == "a\\\\<br>b"  # a backslash must not eat the <br>'s `<`
    assert md_text("a\x00b\x1bc") == "a\ufffdb\ufffdc"
    assert clean_text("ok\ttab\n") == "ok\ttab\n"


def test_md_text_of_a_link_label() -> None:
    # Inside a label nothing is autolinked: the URL reads as it is; `]` cannot end it early.
    assert md_link("https://x.example/a_b", "https://x.example/a_b") == (
        "[https://x.example/a_b](https://x.example/a_b)"
    )
    assert md_link("a]b", "https://x.example/") == "[a\\]b](https://x.example/)"
    assert md_link("see http://x.example", None) == "see http\\://x.example"


def test_md_link() -> None:
    assert md_link("doc", "https://x.example/a(b)<c>\\d") == (
        "[doc](https://x.example/a%28b%29%3Cc%3E%5Cd)"
    )
    assert md_href("https://x.example/a b") == "https://x.example/a%20b"
    assert md_link("q", "https://x.example/?a=1&b=2") == "[q](https://x.example/?a=1&amp;b=2)"
    assert md_link("x|y", "https://x.example/p|q") == "[x\\|y](https://x.example/p%7Cq)"
    for bad in ("javascript:alert(1)", "data:text/html,x", "vbscript:x", "/relative", "ftp://x"):
        assert safe_href(bad) is None
        assert "](" not in md_link(bad, bad)


def test_charts_escape_and_show_numbers() -> None:
    bands = charts.DEFAULT_BANDS
    svg = str(charts.score_bars([("<script>&", 120.0, "critical"), ("b", -5, "low")], bands, "T"))
    assert "<script" not in svg and "&lt;script&gt;&amp;" in svg
    assert "120.0 / 100 · critical" in svg and "-5.0 / 100 · low" in svg
    gauge = str(charts.overall_gauge(42.0, "high", "moderate", bands))
    assert "42.0" in gauge and "HIGH" in gauge and "the score alone is moderate" in gauge
    assert charts.overall_gauge(42.0, "high", "moderate", bands) == gauge


# ---------------------------------------------------------------------------------------------
# property: any user text stays text

NASTY = [
    "<",
    ">",
    "&",
    "\\",
    "`",
    "*",
    "_",
    "[",
    "]",
    "(",
    ")",
    "#",
    "!",
    "|",
    "~",
    "{",
    "}",
    "+",
    "-",
    ".",
    "=",
    "^",
    "$",
    "@",
    ":",
    "/",
    " ",
    "\n",
    "\r",
    "\t",
    "\u2028",  # control characters (U+0000, U+0085) are refused when a file is read
    "http://evil.example",
    "www.",
    "javascript:",
    "<script>",
    "![x](y)",
    "&amp;",
    "&#60;",
    "a@b.example",
    "<!--",
    "]]>",
    '"',
    "'",
    "```",
    "---",
    "===",
    "1. ",
    "> ",
    "| --- |",
]
user_text = st.one_of(
    st.text(FILE_CHARS, min_size=1, max_size=60),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=12).map("".join),
)
evidence_text = st.one_of(
    user_text,
    st.sampled_from(
        [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "https://ok.example/a(b)",
            "http://ok.example/?a=1&b=<2>",
            "mailto:a@b.example",
            "https://ok.example/x|y",
            "HTTPS://OK.EXAMPLE/",
            "https://",
            "mailto:",
        ]
    ),
)


def _hostile_result(bank: Bank, name: str, note: str, evidence: list[str]) -> AuditResult:
    answers = dict(base_data()["answers"])
    answers["CT-01"] = {"value": "nobody", "note": note, "evidence": evidence}
    return audit_result(
        bank,
        base_data(
            system={"name": name, "owner": note[:500]},
            auditor={"name": name, "team": note[:500]},
            answers=answers,
        ),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=user_text, note=user_text, evidence=st.lists(evidence_text, max_size=4))
def test_user_text_never_escapes_its_place(name: str, note: str, evidence: list[str]) -> None:
    bank = load_bank(MINI_BANK)
    result = _hostile_result(bank, name, note, evidence)
    baseline = _hostile_result(bank, "X", "Y", ["Z"] * len(evidence))
    linked = [e.href for a in result.answers for e in a.evidence if safe_href(e.href)]

    md = render_markdown(result)
    assert_markdown_inert(md, render_markdown(baseline))

    html = render_html(result)
    tags = parse_html(html)
    base_tags = parse_html(render_html(baseline))
    assert [t for t, _a in tags.starts if t != "a"] == [t for t, _a in base_tags.starts if t != "a"]
    assert "<script" not in html.lower()
    assert str(html_escape(clean_text(name))) in html
    assert str(html_escape(clean_text(note))) in html
    external = [h for h in hrefs(tags) if not h.startswith("#")]
    assert external == linked
    assert all(h.split(":", 1)[0].lower() in {"http", "https", "mailto"} for h in external)


# ---------------------------------------------------------------------------------------------
# what GitHub's own renderer (cmark-gfm, through the `cmarkgfm` binding in the test extra)
# makes of it: skipped only outside CI when the binding is missing

try:
    import cmarkgfm
    from cmarkgfm.cmark import Options as CmarkOptions
except ImportError:  # pragma: no cover - the test extra installs it
    cmarkgfm = None


def _gfm(md: str) -> str:
    # GitHub's extensions (table, autolink, strikethrough, tagfilter), raw HTML kept: what the
    # report would become if GitHub did not sanitise it further.
    return str(cmarkgfm.github_flavored_markdown_to_html(md, options=CmarkOptions.CMARK_OPT_UNSAFE))


needs_cmarkgfm = pytest.mark.skipif(
    cmarkgfm is None and not os.environ.get("CI"),
    reason="cmarkgfm is not installed (pip install '.[test]')",
)


class Gfm(HTMLParser):
    """What cmark-gfm made of a report: every element with its ancestors, links, and the
    visible text of each block (paragraph, heading, list item, table cell)."""

    BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, ...]] = []  # (ancestors..., tag), links and <br> aside
        self.hrefs: list[str] = []
        self.blocks: list[tuple[str, str]] = []
        self._path: list[str] = []
        self._open: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            if self._open:
                self._open[-1][1].append("\n")
            return
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
            return
        if tag in ("input", "img", "hr"):
            self.elements.append((*self._path, tag))
            return
        self.elements.append((*self._path, tag))
        self._path.append(tag)
        if tag in self.BLOCKS:
            self._open.append((tag, []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "img", "hr", "br"):
            self.handle_starttag(tag, attrs)
            return
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "br", "input", "img", "hr"):
            return
        assert self._path and self._path[-1] == tag, (tag, self._path)
        self._path.pop()
        if tag in self.BLOCKS:
            name, parts = self._open.pop()
            self.blocks.append((name, "".join(parts)))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)

    def cells_after(self, label: str) -> list[str]:
        """The text of the cell after each cell that reads ``label`` (a table's row label)."""
        return [
            self.blocks[i + 1][1]
            for i, (tag, text) in enumerate(self.blocks[:-1])
            if tag == "td" and text == label
        ]


def _squeeze(s: str) -> str:
    # A browser shows a run of spaces, and spaces at a line's ends, as at most one space.
    return re.sub(r" ?\n ?", "\n", re.sub(r" +", " ", s.replace("\u2060", ""))).strip(" ")


def _lines(s: str, newline: str) -> str:
    """User text ``s`` with line breaks as the report shows them (a space in running text, a
    break in a cell)."""
    s = re.sub(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]", "\n", clean_text(s)).replace("\t", " ")
    return s.replace("\n", newline)


def _visible(s: str, newline: str) -> str:
    """What a reader should see of user text ``s``: the text itself, and no word joiner."""
    return _squeeze(_lines(s, newline))


def _seen(s: str) -> str:
    return _squeeze(s)


@needs_cmarkgfm
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=user_text, note=user_text, evidence=st.lists(evidence_text, max_size=3))
def test_github_renders_user_text_as_text(name: str, note: str, evidence: list[str]) -> None:
    """Through GitHub's renderer, hostile user text in every field makes no element (link,
    image, heading, list, emphasis, code, HTML tag, table cell) that harmless text does not,
    and reads exactly as the user wrote it."""
    if cmarkgfm is None:
        pytest.fail("cmarkgfm is required in CI, where a skip would hide a regression")
    bank = load_bank(MINI_BANK)
    result = _hostile_result(bank, name, note, evidence)
    baseline = _hostile_result(bank, "X", "Y", ["Z"] * len(evidence))
    got, base = Gfm(_gfm(render_markdown(result))), Gfm(_gfm(render_markdown(baseline)))
    assert got.elements == base.elements

    row = next(a for a in result.answers if a.question_id == "CT-01")
    linked = [e.href for e in row.evidence if safe_href(e.href)]
    external = [h for h in got.hrefs if not h.startswith("#")]
    assert len(external) == len(linked)
    assert all(h.split(":", 1)[0].lower() in {"http", "https", "mailto"} for h in external)
    assert [h for h in got.hrefs if h.startswith("#")] == [
        h for h in base.hrefs if h.startswith("#")
    ]

    system, auditor = result.system, result.auditor or {}
    heading = next(text for tag, text in got.blocks if tag == "h1")
    title = "Instrumental convergence risk report:"
    assert _seen(heading) == _squeeze(f"{title} {_visible(system['name'], ' ')}")
    for label, value in [
        ("System", system["name"]),
        ("Owner", system.get("owner")),
        ("Auditor", auditor.get("name")),
        ("Auditor team", auditor.get("team")),
    ]:
        if value:
            assert [_seen(c) for c in got.cells_after(label)] == [_visible(value, "\n")], label
    shown = [_lines(row.note, "\n")] if row.note else []
    if row.evidence:
        items = ", ".join(_lines(e.text, "\n") for e in row.evidence)
        shown.append(f"Evidence: {items}")
    note_cell = next(
        text
        for i, (tag, text) in enumerate(got.blocks)
        if tag == "td" and got.blocks[i - 5][1] == "CT-01" and got.blocks[i - 3][1] == "answered"
    )
    assert _seen(note_cell) == _squeeze("\n".join(shown))


@needs_cmarkgfm
@pytest.mark.parametrize(
    "text",
    [
        "# Heading ##",
        "**bold** __bold__ *em* _em_ ~~del~~ ~del~ `code` ``code``",
        "2*3*4, a_b_c, _x_, snake_case, __init__, a*, *a, a **b** c",
        "[link](https://evil.example) [ref] [^1] ![img](https://evil.example/x.png)",
        "<b>x</b> <!-- c --> &amp; &#60; &lt;",
        "http://evil.example www.evil.example ftp://evil.example a@b.example mailto:a@b.example",
        "xmpp:a@b.example/x HTTPS://EVIL.EXAMPLE WWW.EVIL.EXAMPLE",
        "a | b \\| c \\ d\\",
        "- item\n1. item\n> quote\n---\n===\n    code\n```\nfence\n~~~",
        "x  \ny\\\nz",
    ],
)
def test_github_renders_known_markdown_as_text(bank: Bank, text: str) -> None:
    if cmarkgfm is None:
        pytest.fail("cmarkgfm is required in CI, where a skip would hide a regression")
    result = _hostile_result(bank, text, text, [text])
    baseline = _hostile_result(bank, "X", "Y", ["Z"])
    got, base = Gfm(_gfm(render_markdown(result))), Gfm(_gfm(render_markdown(baseline)))
    assert got.elements == base.elements
    assert got.hrefs == base.hrefs
    assert [_seen(c) for c in got.cells_after("System")] == [_visible(text, "\n")]
    assert [_seen(c) for c in got.cells_after("Owner")] == [_visible(text, "\n")]


def test_demo_report_source_reads_as_plain_text(tmp_path: Path) -> None:
    out = tmp_path / "demo.md"
    assert run_cli("report", str(DEMO), "-o", str(out)).returncode == 0
    md = out.read_text(encoding="utf-8")
    assert "| Audit date | 2026-10-01 |" in md
    assert "| Question bank | ic-core 2.0: " in md
    assert re.search(r"\b2026-\d\d-\d\d\b", md.split("## Answers")[1])  # dates in user notes
    assert "[https://wiki.example.com/" in md  # an evidence link reads as its URL
    assert "\\-" not in md and "\\." not in md and "&#58;" not in md


def test_bidi_overrides_in_user_text_are_neutralised() -> None:
    from ic_audit.render.escape import clean_text

    assert clean_text("invoice\u202etxt.exe\u2066x\u2069") == "invoice\ufffdtxt.exe\ufffdx\ufffd"
    assert clean_text("emoji \u200d join") == "emoji \u200d join"  # ZWJ is not a bidi control
