"""The command line: parse options, call the core, print results, choose the exit code.

No scoring happens here. Heavy modules (pydantic, jinja2, rich, yaml) are imported inside the
commands that need them, so `ic-audit --help` stays fast.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

from ic_audit import __version__
from ic_audit.render.registry import DEFAULT_FORMAT, format_names, help_text

if TYPE_CHECKING:
    from ic_audit.bank import Bank
    from ic_audit.expand import Expansion
    from ic_audit.result import AuditResult

app = typer.Typer(
    name="ic-audit",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


class RatingChoice(str, Enum):
    low = "low"
    moderate = "moderate"
    high = "high"
    critical = "critical"


# The `--format` choices come from the renderer registry (`ic_audit.render.registry`); typer
# reads these annotations at run time, mypy sees plain text.
if TYPE_CHECKING:
    ScoreFormat = str
    ReportFormat = str
else:
    ScoreFormat = Literal[tuple(format_names("score"))]
    ReportFormat = Literal[tuple(format_names("report"))]


class ListFormat(str, Enum):
    table = "table"
    json = "json"


BankOption = Annotated[
    Path | None,
    typer.Option(
        "--bank",
        metavar="DIR",
        help="Question bank directory (default: the bank shipped with ic-audit).",
        show_default=False,
    ),
]
FailOnOption = Annotated[
    RatingChoice | None,
    typer.Option(
        "--fail-on",
        metavar="RATING",
        help="Exit 1 if an audit is rated at or above RATING (low, moderate, high, critical).",
        case_sensitive=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"ic-audit {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Audit an AI deployment for instrumental convergence risk: answer governance questions,
    score them against a transparent rubric, and render a risk report.

    \b
    Start here:
      ic-audit demo                  score and render the shipped example
      ic-audit init -o audit.yaml    write an answers file to fill in
      ic-audit score audit.yaml      score it (add --format json in CI)
      ic-audit report audit.yaml -o report.html
    """


def _bank(path: Path | None) -> Bank:
    from ic_audit.bank import load_bank

    return load_bank(path)


def _out(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except UnicodeEncodeError as exc:
        raise _StdoutError(_encoding_message(exc)) from None


class _StdoutError(Exception):
    """Standard output cannot take what we print: the environment's problem, not a bug."""


def _encoding_message(exc: UnicodeEncodeError) -> str:
    from ic_audit.errors import one_line

    char = one_line(exc.object[exc.start : exc.end][:1])
    return (
        f"standard output uses the {exc.encoding} encoding, which cannot show {char!r} "
        f"(U+{ord(exc.object[exc.start]):04X}); use a UTF-8 locale (e.g. LANG=C.UTF-8) or set "
        "PYTHONIOENCODING=utf-8"
    )


def _err(text: str) -> None:
    from ic_audit.errors import one_line

    # Callers pass file text through `one_line` first (so an injected line break is shown, not
    # obeyed); cleaning each line again here keeps any escape sequence off the terminal.
    lines = text[:-1] if text.endswith("\n") else text
    sys.stderr.write("\n".join(one_line(line) for line in lines.split("\n")) + "\n")


def _exit_for(
    results: list[AuditResult], fail_on: RatingChoice | None, fail_on_incomplete: bool = False
) -> int:
    """1 when any audit trips a gate, with one line on stderr per audit saying which."""
    from ic_audit.errors import one_line
    from ic_audit.gates import exit_code, gate_failures

    failures = gate_failures(
        results, None if fail_on is None else fail_on.value, fail_on_incomplete
    )
    for line in failures:
        _err(one_line(line))
    return exit_code(failures)


def _github_summary(results: list[AuditResult], bank: Bank | None = None) -> None:
    """Append a Markdown summary to the job summary file when GitHub Actions provides one."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    from ic_audit.github import step_summary

    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(step_summary(results, bank))
    except OSError as exc:
        _err(f"warning: GITHUB_STEP_SUMMARY={target}: cannot append: {exc.strerror or exc}")


def _expand(patterns: list[str]) -> Expansion:
    """Files and quoted glob patterns (`**` recursive), in argument order (see `expand`)."""
    from ic_audit.expand import expand

    return expand(patterns)


def _score_files(bank: Bank, paths: list[Path], display: str | None = None) -> list[AuditResult]:
    from ic_audit.answers import load_audit
    from ic_audit.errors import Problem, UserError
    from ic_audit.scoring import score_audit

    results: list[AuditResult] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            audit = load_audit(path, bank, display)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        results.append(score_audit(bank, audit))
        # A result lives until the command ends and holds no reference cycle: take it (and all
        # made before it) out of the collector's work, which would otherwise traverse every
        # earlier result again at each full collection as a batch grows.
        gc.freeze()
    if problems:
        raise UserError(problems)
    from ic_audit.errors import one_line

    for r in results:
        for warning in r.warnings:
            _err(one_line(f"warning: {warning}"))
    return results


def _write_output(path: Path, text: str) -> None:
    from ic_audit.report_output import write_output

    write_output(path, text)


def _inputs(bank: Path | None, *files: tuple[str, Path]) -> list[tuple[str, Path]]:
    """Every file a report is made from: the given ones and the bank's YAML files."""
    from ic_audit.bank import default_bank_dir

    directory = bank if bank is not None else default_bank_dir()
    try:
        bank_files = sorted(directory.glob("*.yaml"))
    except OSError:
        bank_files = []
    return [*files, *(("bank file", p) for p in bank_files)]


@app.command()
def score(
    answers: Annotated[
        list[str],
        typer.Argument(metavar="ANSWERS...", help="Answers files or quoted glob patterns."),
    ],
    format: Annotated[
        ScoreFormat,
        typer.Option("--format", "-f", help=help_text("score"), case_sensitive=False),
    ] = DEFAULT_FORMAT["score"],
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
    renderer = RENDERERS[format]
    if not renderer.batch and len(results) != 1:
        from ic_audit.errors import UsageError

        raise UsageError(f"--format {format} renders one audit; give one answers file")
    _out(renderer.render(results, options))
    if annotate:
        from ic_audit.github import workflow_annotations

        sys.stderr.write(workflow_annotations(results))
    _github_summary(results, b)
    raise typer.Exit(_exit_for(results, fail_on, fail_on_incomplete))


@app.command()
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
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
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


@app.command()
def questions(
    format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = ListFormat.table,
    bank: BankOption = None,
) -> None:
    """List the question bank with its rubric.

    `--format json` gives every question with its options or bands, risks, red flags,
    recommendations, and the `safest` and `riskiest` answers.

    \b
    Example:
      ic-audit questions
      ic-audit questions --format json | jq '.questions[].id'
    """
    b = _bank(bank)
    if format is ListFormat.json:
        import json

        from ic_audit.catalogue import bank_json

        _out(json.dumps(bank_json(b), indent=2, ensure_ascii=False) + "\n")
    else:
        from ic_audit.render.table import render_questions_table, use_colour

        _out(render_questions_table(b, colour=use_colour()))


@app.command()
def validate(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...", help="Bank directories, answers files or quoted glob patterns."
        ),
    ],
    bank: BankOption = None,
) -> None:
    """Check bank directories and answers files; print every problem found.

    A directory is checked as a question bank; a file as an answers file against --bank.
    Exit 0 when everything is valid, 2 otherwise.

    \b
    Example:
      ic-audit validate audit.yaml
      ic-audit validate questions/ 'audits/**/*.yaml'
    """
    from ic_audit.validation import validate_paths

    failed = False
    for message in validate_paths(paths, lambda: _bank(bank)):
        if message.kind == "ok":
            _out(message.text + "\n")
        else:
            failed = failed or message.kind == "problem"
            _err(message.text)
    raise typer.Exit(2 if failed else 0)


@app.command()
def init(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    bank: BankOption = None,
) -> None:
    """Write an answers file to fill in: every question, with its allowed values as comments.

    As written it validates, and scores as incomplete. An existing file is never overwritten
    without --force.

    \b
    Example:
      ic-audit init -o audit.yaml
    """
    import datetime as dt

    from ic_audit.answers_template import answers_template
    from ic_audit.errors import UserError

    text = answers_template(_bank(bank), dt.date.today())
    if output is None:
        _out(text)
        return
    if output.exists() and not force:
        raise UserError.one(str(output), "already exists; pass --force to overwrite it")
    _write_output(output, text)
    _err(f"wrote {output}: fill it in, then run `ic-audit score {output}`")


@app.command()
def schema(bank: BankOption = None) -> None:
    """Print the JSON Schema of the answers file for the bank in use.

    \b
    Example:
      ic-audit schema > audit.schema.json
    """
    import json

    from ic_audit.catalogue import answers_schema

    _out(json.dumps(answers_schema(_bank(bank)), indent=2, ensure_ascii=False) + "\n")


@app.command()
def demo(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Write demo-report.md, demo-report.html and demo-report.json here.",
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
    if output is None:
        _err("\nWrite the full reports with: ic-audit demo -o demo-report/")
        return
    from ic_audit.errors import UserError
    from ic_audit.report_output import refuse_inputs

    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError.one(str(output), f"cannot create directory: {exc.strerror}") from None
    targets = {fmt: output / f"demo-report.{fmt}" for fmt in ("md", "html", "json")}
    # demo names its own files, so a link under one of those names was put there by someone
    # else, and would lead the report onto a file demo never read (a user's answers, say).
    for target in targets.values():
        if target.is_symlink():
            raise UserError.one(
                str(target),
                "is a symbolic link; demo writes only its own report files: remove the link "
                "or choose another -o directory",
            )
    # All three checked before the first is written: a report name may link to an input.
    refuse_inputs(targets.values(), _inputs(bank, ("demo answers file", source)))
    for fmt, target in targets.items():
        _write_output(target, RENDERERS[fmt].render([result], RenderOptions(bank=b)))
        _err(f"wrote {target}")


@app.command()
def migrate(
    answers: Annotated[Path, typer.Argument(metavar="ANSWERS", help="The answers file.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the migrated file here (a new file) instead of in place.",
        ),
    ] = None,
    bank: BankOption = None,
) -> None:
    """Rewrite an answers file for the current bank's major version.

    In place, the original is kept beside it as ANSWERS.bak-OLDVERSION (never over an existing
    backup). Answers are carried through the bank's `replaces` map; what cannot be mapped is
    listed here and kept as a note (or under `migration_notes`), never dropped.

    \b
    Example:
      ic-audit migrate audit.yaml
      ic-audit migrate audit.yaml -o audit-2.0.yaml
    """
    from ic_audit.errors import one_line
    from ic_audit.migrate import migrate_file

    if output is not None:
        from ic_audit.report_output import refuse_inputs

        refuse_inputs([output], _inputs(bank))
    result, backup = migrate_file(answers, _bank(bank), output)
    target = answers if output is None else output
    carried = len({old for old, _ in result.mapped})
    _err(
        one_line(
            f"migrated {answers} from bank version {result.old_version} to "
            f"{result.new_version}: {len(result.kept)} kept, {carried} mapped, "
            f"{len(result.unmapped)} not mapped"
        )
    )
    for item in result.unmapped:
        _err(one_line(f"  not mapped: {item.describe()}"))
    if backup != answers:
        _err(one_line(f"wrote {target}; the original is kept as {backup}"))
    else:
        _err(one_line(f"wrote {target}; {answers} is unchanged"))


@app.command()
def run(
    answers: Annotated[
        Path, typer.Argument(metavar="[ANSWERS]", help="Answers file to write and resume.")
    ] = Path("audit.yaml"),
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            metavar="ID",
            help="Walk only this section (repeatable); see `ic-audit questions`.",
            show_default=False,
        ),
    ] = None,
    revisit: Annotated[
        bool,
        typer.Option(
            "--revisit",
            help="Go through answered questions again, the current answer as default.",
        ),
    ] = False,
    bank: BankOption = None,
) -> None:
    """Walk through the questions interactively, saving after every answer.

    Resumes after the furthest answered question when ANSWERS exists. Type ? for help at any
    prompt, s to skip, b to go back, q to save and quit; Ctrl-C also saves (exit 130).
    Needs a terminal: for scripted use, `ic-audit init` and `ic-audit score`.

    \b
    Example:
      ic-audit run audit.yaml
      ic-audit run audit.yaml --section controllability --revisit
    """
    from ic_audit.errors import UsageError

    if not sys.stdin.isatty():
        raise UsageError(
            "run is interactive and needs a terminal on stdin; for scripted use write an "
            f"answers file with `ic-audit init -o {answers}`, fill it in, and score it with "
            f"`ic-audit score {answers}`"
        )
    from ic_audit.walkthrough import run_walkthrough

    code = run_walkthrough(
        answers, _bank(bank), bank_dir=bank, sections=section or [], revisit=revisit
    )
    raise typer.Exit(code)


def _die_internal(exc: BaseException) -> NoReturn:
    # No public issue tracker exists to link to: say what a useful report contains.
    _err(
        f"ic-audit: internal error: {type(exc).__name__}: {exc}. This is a bug in ic-audit "
        f"{__version__}; please report it to the ic-audit maintainers with the command you "
        "ran and the output above (IC_AUDIT_DEBUG=1 adds the traceback)."
    )
    if os.environ.get("IC_AUDIT_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    sys.exit(70)


# The shell's status for a process killed by SIGPIPE (128 + 13), as `yes | head` gives: the
# reader went away, so neither "passed" (0) nor "the gate tripped" (1) would be true.
EXIT_BROKEN_PIPE = 141


def _invoke(argv: list[str] | None) -> int:
    """Run the command as click's `main` would, minus its EPIPE handling (which exits 1)."""
    from typer.main import get_command

    args = sys.argv[1:] if argv is None else list(argv)
    command = get_command(_app_for(args))
    try:
        with command.make_context("ic-audit", args) as ctx:
            rv = command.invoke(ctx)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except EOFError:
        raise KeyboardInterrupt from None
    return rv if isinstance(rv, int) else 0


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command that `args` name, when they start with one: typer builds
    every registered command's click command (signatures, parameter types) before it runs one.
    Anything else (`--help`, `--version`, a mistyped command) gets the whole app, so help lists
    every command and a typo is matched against all of them."""
    import copy

    from typer.main import get_command_name

    if not args:
        return app
    chosen = [
        info
        for info in app.registered_commands
        if (info.name or get_command_name(info.callback.__name__ if info.callback else ""))
        == args[0]
    ]
    if len(chosen) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands = chosen
    return one


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point: every failure becomes one line and a documented exit code."""
    from typer._click.exceptions import ClickException

    from ic_audit.errors import UsageError, UserError

    code: int
    try:
        code = _invoke(argv)
    except UserError as exc:
        for problem in exc.problems:
            _err(str(problem))
        code = 2
    except UsageError as exc:
        _err(f"ic-audit: {exc}")
        code = 2
    except ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "ic-audit"
        message = exc.format_message().replace("Value error, ", "")
        _err(f"{where}: {message} (see `{where} --help`)")
        code = exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        _err("ic-audit: interrupted")
        code = 130
    except BrokenPipeError:
        # The reader went away (`| head`, `| true`): say nothing, as other Unix tools do.
        _quiet_stdout()
        code = EXIT_BROKEN_PIPE
    except _StdoutError as exc:
        _err(f"ic-audit: {exc}")
        code = 2
    except UnicodeEncodeError as exc:
        # Every file ic-audit writes is UTF-8; another encoding is the terminal's (rich's
        # output in `demo` and `run` reaches stdout without `_out`).
        if codecs.lookup(exc.encoding).name == "utf-8":
            _die_internal(exc)
        _err(f"ic-audit: {_encoding_message(exc)}")
        code = 2
    except OSError as exc:
        # Reaching here, an OSError is the machine's (a full disk, an I/O error), not ours.
        where = exc.filename if exc.filename is not None else "standard output"
        _err(f"ic-audit: {where}: {exc.strerror or exc}; nothing more was written")
        code = 2
    except Exception as exc:
        _die_internal(exc)
    # Nothing ic-audit leaves alive needs finalizing: spare the interpreter a last full
    # collection over every module and object.
    gc.freeze()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_BROKEN_PIPE
    except OSError as exc:
        _err(f"ic-audit: standard output: {exc.strerror or exc}")
        code = 2
    sys.exit(code)
