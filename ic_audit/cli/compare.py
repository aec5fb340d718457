"""`ic-audit compare`: successive audits of one system, ordered by audit date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ic_audit.cli import (
    BankOption,
    OutputOption,
    _bank,
    _err,
    _expand,
    _inputs,
    _out,
    _write_output,
)


def compare(
    answers: Annotated[
        list[str],
        typer.Argument(
            metavar="ANSWERS", help="Answers files of one system, or quoted glob patterns."
        ),
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="md|html|json",
            help="md: Markdown; html: one self-contained page with trend charts; json: the "
            "data (default: from -o's suffix, else md).",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
    fail_on_regression: Annotated[
        bool,
        typer.Option(
            "--fail-on-regression",
            help="Exit 1 if the latest audit's overall or any key metric's rating is worse "
            "than the audit before it.",
        ),
    ] = False,
    bank: BankOption = None,
) -> None:
    """Compare successive audits of one system, ordered by audit_date (oldest first).

    Shows score and rating changes overall and per key metric, red flags and findings new and
    resolved, answers changed and evidence trends, between each pair of audits and from the
    first to the latest. A file answered against an older major bank version is migrated in
    memory first (the file is not changed). Exit 2 for fewer than two audits, audits of
    different systems or two audits with one date.

    \b
    Example:
      ic-audit compare audits/2026-Q1.yaml audits/2026-Q2.yaml audits/2026-Q3.yaml
      ic-audit compare 'audits/*.yaml' -o trend.html --fail-on-regression
    """
    from ic_audit.compare import compare_files
    from ic_audit.errors import UsageError
    from ic_audit.render.compare_report import (
        COMPARE_FORMATS,
        DEFAULT_COMPARE_FORMAT,
        compare_format_for_suffix,
    )

    to_file = output is not None and str(output) != "-"
    fmt = (format or "").lower() or None
    if fmt is None and to_file and output is not None and output.suffix:
        found = compare_format_for_suffix(output.name)
        if found is None:
            raise UsageError(
                f"-o {output}: no compare format writes {output.suffix} files; the formats are "
                "md (.md), html (.html) and json (.json): choose one with --format"
            )
        fmt = found.name
    fmt = fmt or DEFAULT_COMPARE_FORMAT
    if fmt not in COMPARE_FORMATS:
        raise UsageError(f"--format {format}: compare writes md, html or json")
    paths = _expand(answers).paths
    if to_file and output is not None:
        from ic_audit.report_output import refuse_inputs

        refuse_inputs([output], _inputs(bank, *(("answers file", p) for p in paths)))
        _warn_suffix_compare(output, COMPARE_FORMATS[fmt].suffixes, fmt)
    data = compare_files(paths, _bank(bank))
    text = COMPARE_FORMATS[fmt].render(data)
    if to_file and output is not None:
        _write_output(output, text)
        _err(f"wrote {output}")
    else:
        _out(text)
    for reason in data["regression_reasons"]:
        _err(f"regression since the previous audit: {reason}")
    raise typer.Exit(1 if fail_on_regression and data["regression"] else 0)


def _warn_suffix_compare(output: Path, suffixes: tuple[str, ...], fmt: str) -> None:
    if output.suffix and not output.name.lower().endswith(suffixes):
        _err(f"warning: writing {fmt} to {output}; use --format or a {suffixes[0]} name")
