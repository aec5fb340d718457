"""The commands about the bank and a blank answers file: `questions`, `validate`, `init`,
`schema`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ic_audit.cli import (
    BankOption,
    ListFormat,
    _bank,
    _err,
    _out,
    _write_output,
)


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


def schema(bank: BankOption = None) -> None:
    """Print the JSON Schema of the answers file for the bank in use.

    \b
    Example:
      ic-audit schema > audit.schema.json
    """
    import json

    from ic_audit.catalogue import answers_schema

    _out(json.dumps(answers_schema(_bank(bank)), indent=2, ensure_ascii=False) + "\n")
