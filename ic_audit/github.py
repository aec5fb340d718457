"""GitHub Actions: the job summary (`GITHUB_STEP_SUMMARY`) and workflow-command annotations."""

from __future__ import annotations

from collections.abc import Sequence

from ic_audit.bank import Bank
from ic_audit.errors import one_line
from ic_audit.render.escape import md_cell
from ic_audit.render.table import metric_columns
from ic_audit.result import AuditResult

_EMOJI = {"low": "🟢", "moderate": "🟡", "high": "🟠", "critical": "🔴"}


def step_summary(results: Sequence[AuditResult], bank: Bank | None = None) -> str:
    """A compact Markdown summary of one or many audits, safe for user text."""
    columns = metric_columns(results, bank)
    lines = [
        "## ic-audit: instrumental convergence risk",
        "",
        "| audit | system | rating | score | "
        + "".join(f"{md_cell(heading)} | " for _, heading in columns)
        + "red flags | answered |",
        "| --- | --- | --- | ---: | " + "---: | " * len(columns) + "---: | --- |",
    ]
    for r in results:
        m = r.metrics
        answered = f"{r.counts.answered}/{r.counts.applicable}"
        if not r.complete:
            answered += f" ({len(r.unanswered)} required missing)"
        scores = "".join(f"| {m[key].score:.1f} " if key in m else "| - " for key, _ in columns)
        lines.append(
            f"| {md_cell(r.answers_file)} | {md_cell(str(r.system.get('name', '')))} "
            f"| {_EMOJI[r.overall.rating]} **{r.overall.rating}** | {r.overall.score:.1f} "
            f"{scores}| {len(r.red_flags)} | {answered} |"
        )
    flagged = [(r, flag) for r in results for flag in r.red_flags]
    if flagged:
        lines += ["", "**Red flags**", ""]
        lines += [
            f"- {md_cell(r.answers_file)} {md_cell(flag.question_id)}: {md_cell(flag.reason)}"
            for r, flag in flagged
        ]
    return "\n".join(lines) + "\n\n"


def _escape_data(text: str) -> str:
    # Controls (line breaks included) first show as escapes, so no text can end the command
    # and start another; then GitHub's own escaping for what is left.
    return one_line(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_annotations(results: Sequence[AuditResult]) -> str:
    """`::error` workflow commands for every red flag, at the answer's line."""
    out = []
    for r in results:
        for flag in r.red_flags:
            props = [f"file={_escape_property(r.answers_file)}"]
            if flag.line:
                props.append(f"line={int(flag.line)}")
            props.append(f"title={_escape_property('Red flag ' + flag.question_id)}")
            out.append(f"::error {','.join(props)}::{_escape_data(flag.reason)}\n")
    return "".join(out)
