"""`ic-audit run`: the interactive walkthrough, started from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ic_audit.cli import (
    BankOption,
    _bank,
)


def run(
    answers: Annotated[
        Path, typer.Argument(metavar="ANSWERS", help="Answers file to write and resume.")
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

    # A closed stdin (`<&-`) leaves sys.stdin None: that is no terminal either.
    if sys.stdin is None or not sys.stdin.isatty():
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
