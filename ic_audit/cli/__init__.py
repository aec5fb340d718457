"""The command line: parse options, call the core, print results, choose the exit code.

This package owns the app, the options and helpers the commands share, and `main` (every
failure becomes one line and a documented exit code); each command group lives in its own
module, registered below in the order `ic-audit --help` lists them. No scoring happens here.
Heavy modules (pydantic, jinja2, rich, yaml) are imported inside the commands that need them,
so `ic-audit --help` stays fast.
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
from ic_audit.cli.helpfmt import Command, Group
from ic_audit.render.registry import format_names

if TYPE_CHECKING:
    from ic_audit.bank import Bank
    from ic_audit.expand import Expansion
    from ic_audit.result import AuditResult

app = typer.Typer(
    name="ic-audit",
    cls=Group,
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
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="FILE", help="Write here instead of stdout."),
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
      ic-audit run audit.yaml        answer the questions with your team, step by step
      ic-audit init -o audit.yaml    or write an answers file to fill in by hand
      ic-audit score audit.yaml      score it (add --format json in CI)
      ic-audit report audit.yaml -o report.html
    """


def _bank(path: Path | None) -> Bank:
    from ic_audit.bank import load_bank

    return load_bank(path)


_CHUNK = 16384


def _out(text: str) -> None:
    # In pieces, flushed one by one: one large write to a pipe can be cut short when the reader
    # leaves (`| head`) without Python raising, and the rest would be dropped silently with
    # exit 0; a later piece then meets the closed pipe and raises BrokenPipeError (exit 141).
    try:
        for start in range(0, len(text), _CHUNK):
            sys.stdout.write(text[start : start + _CHUNK])
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
    if os.environ.get("_IC_AUDIT_COMPLETE"):
        # The shell's completion script calls back with this set: answer it and exit, as
        # click's `main` would (`ic-audit --show-completion` prints that script).
        get_command(app)._main_shell_completion({}, "ic-audit")
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


# Registered here, not in the modules, so the commands' order in `ic-audit --help` is stated
# once. The modules import the helpers above, so they are imported only after them.
from ic_audit.cli.catalogue import init, questions, schema, validate  # noqa: E402
from ic_audit.cli.compare import compare  # noqa: E402
from ic_audit.cli.migrate import migrate  # noqa: E402
from ic_audit.cli.scoring import demo, report, score  # noqa: E402
from ic_audit.cli.walk import run  # noqa: E402

for _command in (score, report, compare, questions, validate, init, schema, demo, migrate, run):
    app.command(cls=Command)(_command)

__all__ = [
    "EXIT_BROKEN_PIPE",
    "ListFormat",
    "RatingChoice",
    "app",
    "compare",
    "demo",
    "init",
    "main",
    "migrate",
    "questions",
    "report",
    "run",
    "schema",
    "score",
    "validate",
]
