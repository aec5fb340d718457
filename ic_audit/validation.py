"""`ic-audit validate`: bank directories and answers files checked, one message per finding.

The CLI prints the messages as they come (``ok`` lines on stdout, the rest on stderr) and exits 2
when any is a problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ic_audit.bank import Bank


@dataclass(frozen=True)
class Message:
    kind: Literal["ok", "warning", "problem"]
    text: str


def validate_paths(patterns: Iterable[str], answers_bank: Callable[[], Bank]) -> Iterator[Message]:
    """Check each directory as a question bank and each file as an answers file against
    ``answers_bank()`` (loaded only when an answers file is met)."""
    from ic_audit.answers import load_audit
    from ic_audit.answers_template import PLACEHOLDER_SYSTEM_NAME
    from ic_audit.bank import load_bank
    from ic_audit.errors import UserError, one_line
    from ic_audit.expand import expand

    bank: Bank | None = None
    expanded: list[Path] = []
    for pattern in patterns:
        try:
            expanded.extend(expand([pattern]).paths)
        except UserError as exc:
            yield from (Message("problem", str(problem)) for problem in exc.problems)
    for path in expanded:
        try:
            if path.is_dir():
                checked = load_bank(path)
                yield Message(
                    "ok",
                    one_line(
                        f"ok: {path}: bank {checked.id} {checked.version}, "
                        f"{len(checked.sections)} sections, {len(checked.questions)} questions"
                    ),
                )
                continue
            if bank is None:
                bank = answers_bank()
            audit = load_audit(path, bank)
            for warning in audit.warnings:
                yield Message("warning", one_line(f"warning: {warning}"))
            if audit.meta.system.name == PLACEHOLDER_SYSTEM_NAME:
                yield Message(
                    "warning",
                    one_line(f"warning: {path}: system.name is still the template's placeholder"),
                )
            from ic_audit.scoring import score_audit

            # The same count `score`, `run` and the reports give: of the questions that apply.
            c = score_audit(bank, audit).counts
            yield Message(
                "ok",
                one_line(
                    f"ok: {path}: {c.answered} of {c.applicable} applicable questions answered"
                ),
            )
        except UserError as exc:
            yield from (Message("problem", str(problem)) for problem in exc.problems)
