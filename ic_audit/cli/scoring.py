"""The commands that score answers files: `score`, `report` and `demo`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ic_audit.cli import (
    BankOption,
    FailOnOption,
    OutputOption,
    ReportFormat,
    ScoreFormat,
    _bank,
    _err,
    _exit_for,
    _expand,
    _github_summary,
    _inputs,
    _out,
    _score_files,
    _write_output,
)
from ic_audit.render.registry import DEFAULT_FORMAT, help_text

if TYPE_CHECKING:
    from ic_audit.result import AuditResult


def score(
    answers: Annotated[
        list[str],
        typer.Argument(metavar="ANSWERS", help="Answers files or quoted glob patterns."),
    ],
    format: Annotated[
        ScoreFormat | None,
        typer.Option(
            "--format",
            "-f",
            help=help_text("score").removesuffix(".")
            + " (default: on a terminal, a summary for people; else table).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    fail_on: FailOnOption = None,
    fail_on_incomplete: Annotated[
        bool,
        typer.Option("--fail-on-incomplete", help="Exit 1 if any required question is unanswered."),
    ] = False,
    annotate: Annotated[
        bool,
        typer.Option(
            "--annotate",
            help="Print GitHub Actions ::error commands for red flags (on stderr).",
        ),
    ] = False,
    bank: BankOption = None,
) -> None:
    """Score one or many answers files.

    Results keep argument order. With json, junit or sarif, stdout carries that one document
    (json: an object for one literal file, a list for several or for any pattern); warnings go
    to stderr. JUnit marks
    test cases at or above --fail-on (default: high) as failures. When GITHUB_STEP_SUMMARY is
    set, a Markdown summary is appended to it. Exit 1 when an audit reaches --fail-on (or is
    incomplete with --fail-on-incomplete); 2 on any bad file or a pattern matching nothing.

    On a terminal (stdout is a TTY) and without --format, one file gets the summary `demo`
    shows (rating, exposure, metrics, red flags, what to do first) and several get a table
    that fits the window, with their red flags below; piped, or with --format table, the
    plain table stays as it is for scripts.

    \b
    Example:
      ic-audit score audit.yaml
      ic-audit score 'audits/**/*.yaml' --format json --fail-on high
      ic-audit score 'audits/*.yaml' --format sarif > ic-audit.sarif
    """
    b = _bank(bank)
    expansion = _expand(answers)
    results = _score_files(b, expansion.paths)
    from ic_audit.render.registry import RENDERERS, RenderOptions
    from ic_audit.render.table import use_colour

    options = RenderOptions(
        bank=b,
        fail_on=fail_on.value if fail_on else None,
        fail_on_incomplete=fail_on_incomplete,
        as_list=expansion.batch,
        colour=use_colour(),
    )
    if format is None and sys.stdout.isatty():
        from ic_audit.terminal import print_score_table, print_summary

        if len(results) == 1:
            print_summary(results[0], Path(results[0].answers_file))
        else:
            print_score_table(results, b)
    else:
        format = format or DEFAULT_FORMAT["score"]
        renderer = RENDERERS[format]
        _check_batch(renderer.batch, format, results)
        _out(renderer.render(results, options))
    if annotate:
        from ic_audit.github import workflow_annotations

        sys.stderr.write(workflow_annotations(results))
    _github_summary(results, b)
    raise typer.Exit(_exit_for(results, fail_on, fail_on_incomplete))


def _check_batch(batch: bool, format: str, results: list[AuditResult]) -> None:
    if not batch and len(results) != 1:
        from ic_audit.errors import UsageError

        raise UsageError(f"--format {format} renders one audit; give one answers file")


def report(
    answers: Annotated[Path, typer.Argument(metavar="ANSWERS", help="The answers file.")],
    format: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help=help_text("report").removesuffix(".") + " (default: from -o's suffix or "
            f"--template's name, else {DEFAULT_FORMAT['report']}).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    output: OutputOption = None,
    template: Annotated[
        Path | None,
        typer.Option(
            "--template",
            metavar="FILE",
            help="Your own Jinja2 template (run in Jinja2's sandbox); .html templates are "
            "autoescaped, others get Markdown escaping.",
        ),
    ] = None,
    fail_on: FailOnOption = None,
    bank: BankOption = None,
) -> None:
    """Render the risk report for one answers file.

    The file is written atomically: if anything fails, an existing report is left untouched.

    \b
    Example:
      ic-audit report audit.yaml -o report.html
      ic-audit report audit.yaml --format md >> "$GITHUB_STEP_SUMMARY"
      ic-audit report audit.yaml --template board-summary.md.j2 -o summary.md
    """
    from ic_audit.errors import UsageError
    from ic_audit.render.registry import RENDERERS, RenderOptions

    fmt = format or _report_format(output, template)
    renderer = RENDERERS[fmt]
    if template is not None and not renderer.template:
        takes = " or ".join(r.name for r in RENDERERS.values() if r.template)
        raise UsageError(f"--template renders {takes}; drop --format {fmt}")
    if output is not None:
        from ic_audit.report_output import refuse_inputs

        given = [("answers file", answers)]
        if template is not None:
            given.append(("template", template))
        refuse_inputs([output], _inputs(bank, *given))
    b = _bank(bank)
    results = _score_files(b, [answers])
    _warn_suffix(output, fmt)
    text = renderer.render(results, RenderOptions(bank=b, template=template))
    if output is None or str(output) == "-":
        _out(text)
    else:
        _write_output(output, text)
        _err(f"wrote {output} ({results[0].overall.rating}, score {results[0].overall.score})")
    _github_summary(results, b)
    raise typer.Exit(_exit_for(results, fail_on))


def _report_format(output: Path | None, template: Path | None) -> str:
    """The format when --format is not given: from the template's name, else from -o's."""
    from ic_audit.render.registry import for_suffix

    if template is not None:
        name = template.name.lower().removesuffix(".j2").removesuffix(".jinja")
        found = for_suffix("report", name)
        return found.name if found is not None and found.template else DEFAULT_FORMAT["report"]
    if output is None or str(output) == "-" or not output.suffix:
        return DEFAULT_FORMAT["report"]
    found = for_suffix("report", output.name)
    if found is None:
        from ic_audit.errors import UsageError
        from ic_audit.render.registry import formats_for

        known = ", ".join(f"{r.name} ({' '.join(r.suffixes)})" for r in formats_for("report"))
        raise UsageError(
            f"-o {output}: no report format writes {output.suffix} files; the formats are "
            f"{known}: choose one with --format or name the file with its suffix"
        )
    return found.name


def _warn_suffix(output: Path | None, fmt: str) -> None:
    """A report whose name says one format and whose content is another is a trap: say so."""
    from ic_audit.render.registry import RENDERERS

    if output is None or str(output) == "-" or not output.suffix:
        return
    suffixes = RENDERERS[fmt].suffixes
    if not output.name.lower().endswith(suffixes):
        _err(f"warning: writing {fmt} to {output}; use --format or a {suffixes[0]} name")


def demo(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Write demo-report.md/.html/.json and demo-compare.md/.html/.json (the "
            "demo system's audit history compared) here.",
        ),
    ] = None,
    bank: BankOption = None,
) -> None:
    """Score and render the shipped example audit: the one-command showcase.

    \b
    Example:
      ic-audit demo
      ic-audit demo -o out/
    """
    from ic_audit.render.registry import RENDERERS, RenderOptions
    from ic_audit.resources import demo_audit_path

    b = _bank(bank)
    source = demo_audit_path()
    # A stable name, not the install path, so the demo report is the same on every machine.
    result = _score_files(b, [source], display="examples/demo-audit.yaml")[0]
    from ic_audit.terminal import print_summary

    print_summary(result, Path(result.answers_file))
    from ic_audit.compare import demo_comparison, trend_line
    from ic_audit.errors import one_line
    from ic_audit.resources import demo_history_paths

    history = demo_comparison(b)
    line = one_line(f"History of this system: {trend_line(history)}")
    if sys.stdout.isatty():  # wrapped like the summary above it; piped, one line for scripts
        import shutil
        import textwrap

        width = max(40, shutil.get_terminal_size().columns - 1)
        line = "\n".join(textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False))
    _out(line + "\n")
    if output is None:
        _err("\nWrite the full reports and the comparison of the audit history with:")
        _err("  ic-audit demo -o demo-report/")
        return
    from ic_audit.errors import UserError
    from ic_audit.report_output import refuse_inputs

    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError.one(str(output), f"cannot create directory: {exc.strerror}") from None
    targets = {fmt: output / f"demo-report.{fmt}" for fmt in ("md", "html", "json")}
    compare_targets = {fmt: output / f"demo-compare.{fmt}" for fmt in ("md", "html", "json")}
    # demo names its own files, so a link under one of those names was put there by someone
    # else, and would lead the report onto a file demo never read (a user's answers, say).
    for target in [*targets.values(), *compare_targets.values()]:
        if target.is_symlink():
            raise UserError.one(
                str(target),
                "is a symbolic link; demo writes only its own report files: remove the link "
                "or choose another -o directory",
            )
    # All three checked before the first is written: a report name may link to an input.
    refuse_inputs(
        [*targets.values(), *compare_targets.values()],
        _inputs(
            bank,
            ("demo answers file", source),
            *(("demo history file", p) for p in demo_history_paths()),
        ),
    )
    for fmt, target in targets.items():
        _write_output(target, RENDERERS[fmt].render([result], RenderOptions(bank=b)))
        _err(f"wrote {target}")
    from ic_audit.render.compare_report import COMPARE_FORMATS

    for fmt, target in compare_targets.items():
        _write_output(target, COMPARE_FORMATS[fmt].render(history))
        _err(f"wrote {target} (the demo system's audit history compared)")
