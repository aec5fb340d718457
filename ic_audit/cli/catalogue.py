"""The commands about the bank and a blank answers file: `questions`, `validate`, `init`,
`schema`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ic_audit.cli import (
    BankOption,
    ListFormat,
    OutputOption,
    _bank,
    _err,
    _out,
    _write_output,
)

if TYPE_CHECKING:
    from ic_audit.bank import Bank, Question


def questions(
    format: Annotated[
        ListFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table or json (default: on a terminal, a table that fits the window; "
            "else table).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            metavar="ID",
            help="Only this section's questions (repeatable; any case).",
            show_default=False,
        ),
    ] = None,
    qid: Annotated[
        list[str] | None,
        typer.Option(
            "--id",
            metavar="QID",
            help="Only this question (repeatable; any case); on a terminal, shown in full.",
            show_default=False,
        ),
    ] = None,
    detail: Annotated[
        bool,
        typer.Option(
            "--detail",
            help="Show each question in full: help, condition, rubric, finding, "
            "recommendations, references.",
        ),
    ] = False,
    bank: BankOption = None,
) -> None:
    """List the question bank with its rubric.

    On a terminal (stdout is a TTY) and without --format, a table that fits the window; one
    question chosen with --id is shown in full. Piped, or with --format table, the plain table
    stays as it is for scripts. `--format json` gives every question with its options or
    bands, risks, red flags, recommendations, and the `safest` and `riskiest` answers; the
    filters apply to its list too.

    \b
    Example:
      ic-audit questions --section oversight
      ic-audit questions --id CT-01
      ic-audit questions --format json | jq '.questions[].id'
    """
    b = _bank(bank)
    chosen = _chosen(b, section or [], qid or [])
    if format is ListFormat.json:
        import json

        from ic_audit.catalogue import bank_json

        data = bank_json(b)
        if chosen is not None:
            keep = {q.id for q in chosen}
            data["questions"] = [q for q in data["questions"] if q["id"] in keep]
        _out(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    terminal = format is None and sys.stdout.isatty()
    shown = b.questions if chosen is None else chosen
    if detail or (terminal and qid and len(shown) == 1):
        from ic_audit.terminal import print_question

        for i, q in enumerate(shown):
            if i:
                _out("\n")
            print_question(b, q)
    elif terminal:
        from ic_audit.terminal import print_questions

        print_questions(b, shown)
    else:
        from ic_audit.render.table import render_questions_table, use_colour

        _out(render_questions_table(b, colour=use_colour(), questions=chosen))


def _chosen(b: Bank, sections: list[str], ids: list[str]) -> list[Question] | None:
    """The questions --section and --id select (both given: in both), or None for all."""
    if not sections and not ids:
        return None
    from ic_audit.errors import UsageError

    chosen = b.questions
    if sections:
        from ic_audit.walkthrough.typed import section_ids

        wanted = set(section_ids(b, sections))
        chosen = [q for q in chosen if q.section in wanted]
    if ids:
        by_key = {q.id.lower(): q.id for q in b.questions}
        picked: set[str] = set()
        for raw in ids:
            key = raw.strip().lower()
            if key not in by_key:
                raise UsageError(
                    f"no question {raw!r} in the bank; `ic-audit questions` lists their ids"
                )
            picked.add(by_key[key])
        chosen = [q for q in chosen if q.id in picked]
    return chosen


def validate(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH", help="Bank directories, answers files or quoted glob patterns."
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
    output: OutputOption = None,
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
