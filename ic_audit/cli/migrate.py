"""`ic-audit migrate`: rewrite an answers file for the current bank's major version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ic_audit.cli import (
    BankOption,
    _bank,
    _err,
    _inputs,
)


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
