"""A rating above its score's band is explained wherever a person reads it with its score: the
CI gate's line, the terminal summary, the comparison's table, trend chart and caption (the Q2
history audit scores in the moderate band and is held at high by its red flag)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, run_cli, run_main

Q2 = ROOT / "examples" / "history" / "2026-Q2.yaml"
HISTORY = [str(p) for p in sorted((ROOT / "examples" / "history").glob("2026-Q*.yaml"))]
HISTORY.append(str(ROOT / "examples" / "demo-audit.yaml"))


def test_the_q2_audit_is_rated_above_its_score_band() -> None:
    # The premise of the other tests: if the demo history changes, they need another audit.
    data = json.loads(run_main("score", str(Q2), "--format", "json").stdout)
    overall = data["overall"]
    assert (overall["rating"], overall["score_rating"]) == ("high", "moderate")
    assert overall["escalated_by"] == "1 red flag"


def test_the_ci_gate_line_says_what_held_the_rating() -> None:
    proc = run_cli("score", str(Q2), "--fail-on", "high")
    assert proc.returncode == 1
    line = next(ln for ln in proc.stderr.splitlines() if "--fail-on high" in ln)
    assert "rated high (score 47.6, held at high by 1 red flag)" in line


def test_the_terminal_summary_says_what_held_the_rating() -> None:
    from ic_audit.terminal import rating_line

    data = run_main("score", str(Q2), "--format", "json").stdout
    from ic_audit.result import AuditResult

    line = rating_line(AuditResult.model_validate_json(data), "Overall rating")
    assert "held at high by 1 red flag" in line and "score alone: moderate" in line


def test_the_comparison_explains_a_held_rating_in_table_chart_and_caption(tmp_path: Path) -> None:
    data = json.loads(run_main("compare", *HISTORY, "--format", "json").stdout)
    q2 = data["audits"][1]["overall"]
    assert (q2["score_rating"], q2["escalated_by"]) == ("moderate", "1 red flag")
    assert data["audits"][0]["overall"]["escalated_by"] is None
    md = run_main("compare", *HISTORY, "--format", "md").stdout
    assert "high 47.6 (held at high by 1 red flag) |" in md
    html = run_main("compare", *HISTORY, "--format", "html").stdout
    chart = html[html.index('<svg class="chart trend"') :]
    chart = chart[: chart.index("</svg>")]
    assert ">held by 1 red flag</text>" in chart
    assert "2026-04-08 47.6, high (held at high by 1 red flag)" in chart  # its aria-label
    assert chart.count(">held by") == 1 and chart.count("held at") == 2  # Q2 only (label, title)
    caption = html[html.index("<figcaption>") : html.index("</figcaption>")]
    assert "2026-04-08 scores 47.6 (moderate band), held at high by 1 red flag" in caption
